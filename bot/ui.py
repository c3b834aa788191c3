"""Showing screens: edit in place when navigating, split what is too long, escape user text."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

log = logging.getLogger(__name__)

TELEGRAM_TEXT_LIMIT = 4096
# Room for the HTML tags Telegram strips before counting, and for a page footer.
SAFE_TEXT_LIMIT = 3800


def esc(value: object) -> str:
    """User- or database-supplied text made safe for HTML parse mode."""
    return html.escape("" if value is None else str(value), quote=False)


def split_text(blocks: Iterable[str], limit: int = SAFE_TEXT_LIMIT) -> list[str]:
    """Pack blocks (paragraphs, table rows) into messages under the limit, never cutting a block
    unless one block alone is over the limit, in which case it is cut on line boundaries."""
    pages: list[str] = []
    current = ""
    for block in blocks:
        pieces = [block]
        if len(block) > limit:
            pieces = _cut(block, limit)
        for piece in pieces:
            candidate = f"{current}\n{piece}" if current else piece
            if len(candidate) > limit and current:
                pages.append(current)
                current = piece
            else:
                current = candidate
    if current:
        pages.append(current)
    return pages or [""]


def _cut(block: str, limit: int) -> list[str]:
    out: list[str] = []
    current = ""
    for line in block.split("\n"):
        while len(line) > limit:
            out.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            out.append(current)
            current = line
        else:
            current = candidate
    if current:
        out.append(current)
    return out


async def show(
    event: Message | CallbackQuery,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
    *,
    protect: bool = False,
) -> Message | None:
    """Draw a screen: a callback edits its own message; a message gets a new reply.

    A callback whose message can no longer be edited (too old, deleted, a media message) gets
    the screen as a new message instead, so a stale button still leads somewhere.
    """
    if isinstance(event, CallbackQuery):
        message = event.message
        if isinstance(message, Message) and message.text is not None:
            try:
                result = await message.edit_text(text, reply_markup=reply_markup)
                return result if isinstance(result, Message) else message
            except TelegramBadRequest as exc:
                if "message is not modified" in exc.message:
                    return message
                log.info("edit failed, sending anew: %s", exc.message)
        if event.from_user is None or event.bot is None:
            return None
        return await event.bot.send_message(
            event.from_user.id, text, reply_markup=reply_markup, protect_content=protect
        )
    return await event.answer(text, reply_markup=reply_markup, protect_content=protect)


async def safe_delete(message: Message) -> bool:
    """Delete a message if Telegram still allows it (48 hours); never raise."""
    try:
        return bool(await message.delete())
    except TelegramBadRequest as exc:
        log.warning("could not delete message %s: %s", message.message_id, exc.message)
        return False
