"""Small pieces every view shares: the reader's locale (or the one stored for a person), numbers,
a discipline's name in a notice's params."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bot.i18n import fmt_number
from bot.services.i18n import current_locale
from bot.ui import esc

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services.auth import Viewer

__all__ = ["current_locale", "num", "param_discipline", "stored_locale"]


def stored_locale(viewer: Viewer, settings: Settings) -> str:
    """The language stored for the person (the default when none was chosen): what a message
    redrawn later, outside any update, is written in (a live check-in, a classroom post)."""
    return viewer.locale or settings.default_locale


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
