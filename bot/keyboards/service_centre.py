"""Callback payloads of the service centre: opaque ids only; every press is checked on the server.

The verification payload carries the document's token, which is no secret to the person holding
the button: they scanned it from the QR code.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

STUDENT_NAV = "sc"
STAFF_NAV = "sq"


class ScCb(CallbackData, prefix="sc"):
    """Student screens: `a` the action, `id` a category/service/request id, `p` a page/tab."""

    a: str
    id: int = 0
    p: int = 0


class SqCb(CallbackData, prefix="sq"):
    """Staff screens: `s` a status filter, `v` a service filter."""

    a: str
    id: int = 0
    s: str = ""
    v: int = 0
    p: int = 0


class VfCb(CallbackData, prefix="vf"):
    """Download the original of a verified document."""

    t: str


def sc_button(text: str, a: str, id: int = 0, p: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=ScCb(a=a, id=id, p=p).pack())


def sq_button(
    text: str, a: str, id: int = 0, s: str = "", v: int = 0, p: int = 0
) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=SqCb(a=a, id=id, s=s, v=v, p=p).pack())


def generate_keyboard(request_id: int) -> InlineKeyboardMarkup:
    """Confirm the generated certificate of study, or go back to the request."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [sq_button(_("✅ Generate and issue"), "gen2", id=request_id)],
            [sq_button(_("« Back"), "open", id=request_id)],
        ]
    )
