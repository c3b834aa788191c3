"""A user's file from Telegram: downloaded with its size bounded before and while it comes,
or checked before it is kept as an attachment.

The size the update declares (``file_size``) is checked before anything is fetched; when the
update does not declare one, the size ``getFile`` reports is checked; and the bytes are
counted as they arrive, so a file that is bigger than announced is cut off at the limit.
"""

from __future__ import annotations

import io
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.services.uploads import attachment_refusal

log = logging.getLogger(__name__)


class DownloadRefused(Exception):
    """The file was not fetched: ``reason`` is ``too_big`` or ``unavailable``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _CappedBuffer(io.BytesIO):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self.tell() + len(data) > self.limit:
            raise DownloadRefused("too_big")
        return super().write(data)


async def download_bounded(
    bot: Bot, file_id: str, declared_size: int | None, limit: int, *, seconds: int = 60
) -> bytes:
    """The file's bytes, never more than ``limit`` of them.

    :raises DownloadRefused: too big (declared, reported or streamed), or Telegram did not
        give the file.
    """
    if declared_size is not None and declared_size > limit:
        raise DownloadRefused("too_big")
    try:
        file = await bot.get_file(file_id)
    except TelegramAPIError as exc:
        # Telegram itself refuses files over 20 MB to bots ("file is too big").
        log.info("getFile refused: %s", exc)
        reason = "too_big" if "too big" in str(exc).lower() else "unavailable"
        raise DownloadRefused(reason) from None
    if file.file_size is not None and file.file_size > limit:
        raise DownloadRefused("too_big")
    if not file.file_path:
        raise DownloadRefused("unavailable")
    buffer = _CappedBuffer(limit)
    try:
        await bot.download_file(file.file_path, destination=buffer, timeout=seconds)
    except DownloadRefused:
        raise
    except (TelegramAPIError, OSError, TimeoutError, LookupError) as exc:
        log.info("could not download a file: %s", exc)
        raise DownloadRefused("unavailable") from None
    except Exception as exc:
        # aiohttp's client errors (the session's transport) are not imported here by name.
        if type(exc).__module__.startswith("aiohttp"):
            log.info("could not download a file: %s", exc)
            raise DownloadRefused("unavailable") from None
        raise
    return buffer.getvalue()


def attachment_refusal_text(message: Message) -> str | None:
    """Why the document or photo of ``message`` cannot be attached, in words, or ``None``.

    The limits are those of :func:`bot.services.uploads.attachment_refusal`: at most 20 MB,
    and no program or script by extension or declared MIME type.
    """
    if message.document is not None:
        document = message.document
        reason = attachment_refusal(document.file_name, document.mime_type, document.file_size)
    elif message.photo:
        reason = attachment_refusal(None, None, message.photo[-1].file_size)
    else:
        return None
    if reason == "too_big":
        return _("The file is larger than 20 MB. Please send a smaller one.")
    if reason == "executable":
        return _(
            "Programs and scripts (.exe, .bat, .js, .apk and the like) cannot be sent here. "
            "Please send a document or a photo."
        )
    return None


__all__ = ["DownloadRefused", "attachment_refusal_text", "download_bounded"]
