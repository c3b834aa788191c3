"""The teacher's live check-in message, kept up to date outside any update: by the scheduler
every few seconds and by the teacher's own buttons. Texts and buttons come from the views."""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InputMediaPhoto

from bot.config import CheckinSettings
from bot.keyboards.attendance import qr_keyboard
from bot.services import attendance_checkin as svc
from bot.views.attendance import closed_caption, qr_caption, qr_photo
from db.session import Database

log = logging.getLogger(__name__)


async def refresh_qr_message(
    bot: Bot,
    db: Database,
    checkin_id: int,
    locale: str,
    now: datetime,
    config: CheckinSettings,
    *,
    force: bool = False,
) -> bool:
    """Bring the teacher's QR message up to date: a new code when the old one is due, the count
    when it changed; nothing when nothing changed or the last edit was too recent (Telegram
    throttles edits). Returns whether the message was edited."""
    async with db.write() as session:
        checkin = await svc.load_checkin(session, checkin_id)
        if checkin is None or checkin.closed_at is not None or checkin.message_id is None:
            return False
        if (
            not force
            and checkin.shown_at is not None
            and (now - checkin.shown_at).total_seconds() < config.refresh_seconds
        ):
            return False
        token = await svc.token_for_screen(session, checkin, now, config)
        counts = await svc.counts(session, checkin)
        new_code = token != checkin.shown_token
        if not new_code and counts.present == checkin.shown_present:
            return False
        checkin.shown_token = token
        checkin.shown_present = counts.present
        checkin.shown_at = now
        chat_id, message_id = checkin.chat_id, checkin.message_id
        caption = qr_caption(checkin, counts, locale, config.rotate_seconds)
    keyboard = qr_keyboard(checkin_id)
    try:
        if new_code:
            me = await bot.me()
            await bot.edit_message_media(
                chat_id=chat_id,
                message_id=message_id,
                media=InputMediaPhoto(media=qr_photo(me.username or "", token), caption=caption),
                reply_markup=keyboard,
            )
        else:
            await bot.edit_message_caption(
                chat_id=chat_id, message_id=message_id, caption=caption, reply_markup=keyboard
            )
    except TelegramBadRequest as exc:
        if "message is not modified" not in exc.message:
            log.warning("check-in %s: could not edit the QR message: %s", checkin_id, exc.message)
        return False
    return True


async def close_and_report(
    bot: Bot, db: Database, checkin_id: int, locale: str, now: datetime
) -> tuple[bool, int]:
    """Close the check-in and turn its QR message into the final count. Returns (was it
    already closed, how many were marked absent)."""
    async with db.write() as session:
        checkin = await svc.load_checkin(session, checkin_id)
        if checkin is None:
            return True, 0
        already = checkin.closed_at is not None
        absent = await svc.close_checkin(session, checkin, now)
        counts = await svc.counts(session, checkin)
        chat_id, message_id = checkin.chat_id, checkin.message_id
        caption = closed_caption(checkin, counts, locale)
    if not already and chat_id is not None and message_id is not None:
        try:
            await bot.edit_message_caption(
                chat_id=chat_id, message_id=message_id, caption=caption, reply_markup=None
            )
        except TelegramBadRequest as exc:
            log.info("check-in %s: QR message not edited: %s", checkin_id, exc.message)
    return already, absent
