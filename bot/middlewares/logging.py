"""One structured log line per update: who, which handler, how long, how it ended.

Only ids and names are logged, never the text of a message (it may hold a password or personal
data).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, Update, User

log = logging.getLogger("bot.updates")
_handler_name: ContextVar[list[str] | None] = ContextVar("handler_name", default=None)


class UpdateLogMiddleware(BaseMiddleware):
    """Outer, on updates: times the update and writes the line."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        started = time.perf_counter()
        slot: list[str] = []
        token = _handler_name.set(slot)
        outcome = "error"
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "handled"
            return result
        finally:
            _handler_name.reset(token)
            user: User | None = data.get("event_from_user")
            log.info(
                "update=%s type=%s user=%s handler=%s ms=%.1f outcome=%s",
                event.update_id if isinstance(event, Update) else "-",
                event.event_type if isinstance(event, Update) else type(event).__name__,
                user.id if user is not None else "-",
                slot[0] if slot else "-",
                (time.perf_counter() - started) * 1000,
                outcome,
            )


class HandlerNameMiddleware(BaseMiddleware):
    """Inner: notes which handler the filters chose, for the update's log line."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        slot = _handler_name.get()
        handler_object = data.get("handler")
        if slot is not None and handler_object is not None:
            callback = handler_object.callback
            slot.append(f"{callback.__module__}.{getattr(callback, '__qualname__', callback)}")
        return await handler(event, data)
