"""Messages: expiry (§8.1: an expired message leaves every mailbox) and broadcast summaries.

A bot may delete its messages only within 48 hours, so each pushed notification of an expired
message is edited instead to say it has expired. The work is done in bounded batches with a
cursor stored on the message, so a run can stop anywhere (a 429, a restart) and the next run
continues where it stopped; re-running never edits a notification twice except the one in flight.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.utils.i18n import gettext as _

from bot.delivery.worker import TokenBucket
from bot.services import messaging as svc
from bot.ui import esc
from scheduler.context import JobContext

log = logging.getLogger(__name__)

MESSAGES_PER_RUN = 50
EDITS_PER_RUN = 1000
EDIT_RATE = 20.0  # per second; leaves room under Telegram's ~30/s for the delivery worker
_PAGE = 200


def expired_notice_text(subject: str) -> str:
    """What a pushed notification turns into when its message expires (current locale)."""
    return _("⌛ The message «{subject}» has expired and is no longer available.").format(
        subject=esc(subject)
    )


class _Stop(Exception):
    """Telegram asks to slow down twice in a row, or is unreachable: stop until the next run."""


async def _edit(ctx: JobContext, notice: svc.SentNotice) -> None:
    locale = notice.locale or ctx.settings.default_locale
    with ctx.i18n.context(), ctx.i18n.use_locale(locale):
        text = expired_notice_text(notice.subject)
    for attempt in (1, 2):
        try:
            await ctx.bot.edit_message_text(
                text=text, chat_id=notice.chat_id, message_id=notice.message_id
            )
            return
        except TelegramRetryAfter as exc:
            if attempt == 2:
                raise _Stop from exc
            await asyncio.sleep(exc.retry_after)
        except (TelegramBadRequest, TelegramForbiddenError) as exc:
            # Already edited, deleted by the person, or the bot is blocked: nothing to do.
            log.info("expired notice %s not edited: %s", notice.delivery_id, exc.message)
            return
        except TelegramAPIError as exc:
            # Network trouble or Telegram's 5xx: try again on the next run from this notice.
            raise _Stop from exc


async def expire_messages(
    ctx: JobContext, *, edits_per_run: int = EDITS_PER_RUN, rate: float = EDIT_RATE
) -> int:
    """Withdraw unsent pushes of expired messages and edit the sent ones; returns the number
    of notifications handled in this run."""
    now = ctx.clock.now()
    bucket = TokenBucket(rate)
    handled = 0
    async with ctx.db.read() as session:
        message_ids = await svc.expired_message_ids(session, now, MESSAGES_PER_RUN)
    for message_id in message_ids:
        if handled >= edits_per_run:
            break
        async with ctx.db.write() as session:
            in_flight = await svc.stop_pending_notices(session, message_id)
            cursor = await svc.expiry_cursor(session, message_id)
        if in_flight:
            # The worker is sending some of them right now: their message ids are not known
            # yet, so this message is finished on a later run.
            continue
        while handled < edits_per_run:
            limit = min(_PAGE, edits_per_run - handled)
            async with ctx.db.read() as session:
                notices = await svc.sent_notices(session, message_id, cursor, limit)
            stopped = False
            for notice in notices:
                await bucket.acquire()
                try:
                    await _edit(ctx, notice)
                except _Stop:
                    stopped = True
                    break
                cursor = notice.delivery_id
                handled += 1
            finished = not stopped and len(notices) < limit
            async with ctx.db.write() as session:
                await svc.save_expiry_progress(
                    session, message_id, cursor, now if finished else None
                )
            if stopped:
                return handled
            if finished:
                break
    return handled


async def report_finished_broadcasts(ctx: JobContext) -> None:
    """Tell each announcement's sender, once, how its broadcast went when it has finished."""
    async with ctx.db.write() as session:
        await svc.report_finished_broadcasts(session, ctx.clock.now())
