"""Per-user flood control: a token bucket per person, one polite notice per flood."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User
from aiogram.utils.i18n import gettext as _


class ThrottleMiddleware(BaseMiddleware):
    """Drops the updates of a person who sends faster than `rate` per second beyond a `burst`.

    The first dropped update of a flood gets a short notice (a callback is always answered,
    or Telegram shows a spinner); the rest are dropped silently. Other people are unaffected:
    each person has a bucket of their own.
    """

    def __init__(
        self,
        rate: float = 3.0,
        burst: float = 15.0,
        monotonic: Callable[[], float] = time.monotonic,
        max_tracked: int = 100_000,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.monotonic = monotonic
        self.max_tracked = max_tracked
        self._buckets: dict[int, tuple[float, float, bool]] = {}

    def _allow(self, user_id: int) -> tuple[bool, bool]:
        """(allowed, first refusal of this flood)."""
        now = self.monotonic()
        tokens, updated, warned = self._buckets.get(user_id, (self.burst, now, False))
        tokens = min(self.burst, tokens + (now - updated) * self.rate)
        if tokens >= 1:
            self._buckets[user_id] = (tokens - 1, now, False)
            return True, False
        self._buckets[user_id] = (tokens, now, True)
        if len(self._buckets) > self.max_tracked:
            # Forget the fullest buckets: they are people who have been quiet for a while.
            for key in [k for k, v in self._buckets.items() if v[0] >= self.burst - 1][:1000]:
                del self._buckets[key]
        return False, not warned

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        allowed, first = self._allow(user.id)
        if allowed:
            return await handler(event, data)
        inner = event.event if isinstance(event, Update) else event
        if isinstance(inner, CallbackQuery):
            await inner.answer(
                _("Too many presses: please wait a few seconds.") if first else None
            )
        elif isinstance(inner, Message) and first and inner.chat.type == "private":
            await inner.answer(_("You are sending messages too fast. Please wait a few seconds."))
        return None
