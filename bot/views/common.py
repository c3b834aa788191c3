"""Small pieces every view shares: the reader's locale, numbers."""

from __future__ import annotations

from decimal import Decimal

from aiogram.utils.i18n import get_i18n

from bot.i18n import fmt_number
from bot.ui import esc


def current_locale() -> str:
    """The locale of the update or notice being answered (set by the i18n middleware or the
    delivery worker)."""
    return get_i18n().current_locale


def num(value: object, locale: str | None = None) -> str:
    """A number in the reader's locale; "—" when there is none; a value that is no number (a
    stored parameter gone wrong) is shown escaped, as it is."""
    if value is None:
        return "—"
    if not isinstance(value, Decimal | int):
        try:
            value = Decimal(str(value))
        except ArithmeticError:
            return esc(value)
    return fmt_number(value, locale or current_locale())
