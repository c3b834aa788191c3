"""Attendance check-in buttons."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _


class AttCb(CallbackData, prefix="att"):
    """`a`: open (s = slot id), ref / close / fix (c = check-in id), tog (c, s = student id)."""

    a: str
    c: int = 0
    s: int = 0


def qr_keyboard(checkin_id: int) -> InlineKeyboardMarkup:
    """Under the live QR code: refresh it, or close the check-in."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("🔄 Refresh"), callback_data=AttCb(a="ref", c=checkin_id).pack()
                ),
                InlineKeyboardButton(
                    text=_("✅ Close the check-in"),
                    callback_data=AttCb(a="close", c=checkin_id).pack(),
                ),
            ]
        ]
    )
