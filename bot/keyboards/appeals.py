"""Callback payloads of appeals: opaque ids only (a period, an attempt, an attempt's question,
an appeal, an appeal item); every handler checks them against the person pressing."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.keyboards.common import NavCb


class AplCb(CallbackData, prefix="ap"):
    """Student screens: `a` action, `i` a period, attempt or attempt-question id, `p` a page."""

    a: str
    i: int = 0
    p: int = 0


class AprCb(CallbackData, prefix="ar"):
    """Reviewer screens: `a` action, `i` an appeal or appeal-item id, `p` a page or verdict."""

    a: str
    i: int = 0
    p: int = 0


def offer_text() -> str:
    return _("<b>Do you want to file an appeal?</b>")


def offer_keyboard(attempt_id: int) -> list[list[InlineKeyboardButton]]:
    """ "Do you want to file an appeal?" under a test result: yes opens the appeal screen of
    the attempt, no goes back to the tests."""
    return [
        [
            InlineKeyboardButton(
                text=_("Yes, file an appeal"), callback_data=AplCb(a="at", i=attempt_id).pack()
            ),
            InlineKeyboardButton(text=_("No"), callback_data=NavCb(to="testing").pack()),
        ]
    ]


def markup_of(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[r for r in rows if r])
