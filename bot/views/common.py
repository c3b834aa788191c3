"""Small pieces every view shares: the reader's locale, numbers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.i18n import fmt_number
from bot.services.i18n import current_locale
from bot.ui import esc

__all__ = ["current_locale", "num", "param_discipline"]


def param_discipline(params: dict[str, Any], locale: str) -> str:
    """A discipline's name stored in a notice's params as discipline_kk/_ru/_en."""
    return str(params.get(f"discipline_{locale}") or params.get("discipline_ru") or "")


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
