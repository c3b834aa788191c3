"""The transcript's pushes: an issued transcript checked through its QR code, or revoked."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _

from bot.delivery.render import Rendered, renderer
from bot.keyboards.common import NavCb
from bot.ui import esc


@renderer("documents.transcript_verified")
def render_transcript_verified(params: dict[str, Any], locale: str) -> Rendered:
    text = _("🔎 Your transcript №{number} has just been checked through its QR code.").format(
        number=esc(params.get("number"))
    )
    return Rendered(text=text, buttons=[[_open_transcript_button()]])


@renderer("documents.transcript_revoked")
def render_transcript_revoked(params: dict[str, Any], locale: str) -> Rendered:
    text = _("⛔ Your transcript №{number} has been revoked. Reason: {reason}").format(
        number=esc(params.get("number")), reason=esc(str(params.get("reason") or "")[:500])
    )
    return Rendered(text=text, buttons=[[_open_transcript_button()]])


def _open_transcript_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=_("🎓 Transcript"), callback_data=NavCb(to="transcript").pack()
    )
