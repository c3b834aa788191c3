"""Text that no database column can hold never reaches a handler.

PostgreSQL refuses the NUL character in text columns, and no person types one on purpose; it is
removed from message texts and captions in one place instead of in every service.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject


class StripNulMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Message):
            changes = {
                field: value.replace("\x00", "")
                for field in ("text", "caption")
                if isinstance(value := getattr(event, field), str) and "\x00" in value
            }
            if changes:
                event = event.model_copy(update=changes).as_(event.bot)
        return await handler(event, data)
