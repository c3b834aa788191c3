"""Callback payloads and keyboards shared by every module.

Payloads carry opaque ids and screen names only (64 bytes at most); a client can send any value,
so every handler checks on the server that the thing exists and belongs to the person pressing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.config import SUPPORTED_LOCALES
from bot.i18n import LANGUAGE_NAMES


class NavCb(CallbackData, prefix="nav"):
    """Open a module's first screen (or home)."""

    to: str


class LangCb(CallbackData, prefix="lang"):
    code: str


class AuthCb(CallbackData, prefix="auth"):
    action: str


class SettingsCb(CallbackData, prefix="set"):
    action: str


class PageCb(CallbackData, prefix="pg"):
    """A generic pager: `scope` names the list, `key` its owner/filter id, `page` is 0-based."""

    scope: str
    key: int = 0
    page: int = 0


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=LANGUAGE_NAMES[code], callback_data=LangCb(code=code).pack()
                )
                for code in SUPPORTED_LOCALES
            ]
        ]
    )


def back_button(to: str = "home", text: str | None = None) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text or _("« Back"), callback_data=NavCb(to=to).pack())


def home_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("🏠 Home"), callback_data=NavCb(to="home").pack())


def rows(
    buttons: Iterable[InlineKeyboardButton], per_row: int = 2
) -> list[list[InlineKeyboardButton]]:
    result: list[list[InlineKeyboardButton]] = []
    for button in buttons:
        if not result or len(result[-1]) >= per_row:
            result.append([])
        result[-1].append(button)
    return result


def short(text: str, limit: int = 40) -> str:
    """A subject or a name on one line, cut to `limit` characters to fit on a button."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def markup(*button_rows: Sequence[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(r) for r in button_rows if r])


def pager_buttons(make: Callable[[int], str], page: int, pages: int) -> list[InlineKeyboardButton]:
    """‹ 2/5 › with `make(page) -> callback data`; empty when everything fits on one page."""
    if pages <= 1:
        return []
    row: list[InlineKeyboardButton] = []
    if page > 0:
        row.append(InlineKeyboardButton(text="‹", callback_data=make(page - 1)))
    row.append(InlineKeyboardButton(text=f"{page + 1}/{pages}", callback_data=make(page)))
    if page < pages - 1:
        row.append(InlineKeyboardButton(text="›", callback_data=make(page + 1)))
    return row


def pager_row(scope: str, key: int, page: int, pages: int) -> list[InlineKeyboardButton]:
    """The pager of the generic PageCb payload."""
    return pager_buttons(lambda p: PageCb(scope=scope, key=key, page=p).pack(), page, pages)
