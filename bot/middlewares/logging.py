"""One structured log line per update: who, which handler, how long, how it ended.

Only ids and names are logged, never the text of a message (it may hold a password or personal
data). When METRICS_PORT is set, the same figures go to Prometheus through the `update_metrics`
object in the dispatcher's workflow data (bot/metrics.py).
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
            seconds = time.perf_counter() - started
            user: User | None = data.get("event_from_user")
            event_type = event.event_type if isinstance(event, Update) else type(event).__name__
            handler_name = slot[0] if slot else "-"
            log.info(
                "update=%s type=%s user=%s handler=%s ms=%.1f outcome=%s",
                event.update_id if isinstance(event, Update) else "-",
                event_type,
                user.id if user is not None else "-",
                handler_name,
                seconds * 1000,
                outcome,
            )
            metrics = data.get("update_metrics")
            if metrics is not None:
                metrics.observe_update(event_type, outcome, handler_name, seconds)


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
