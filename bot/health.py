"""What `/healthz` answers, in webhook and polling mode alike.

- the database answers a `SELECT 1`;
- updates flow: in polling mode a `getUpdates` call came back within `POLL_STALE_SECONDS`
  (long polling returns at least every few seconds even when nobody writes); in webhook mode the
  server answering this very request is the proof;
- some process (this one or `python -m scheduler`) holds a live scheduler lease.

The database or a stalled poll answer 503, so a load balancer or systemd watchdog takes the
process out or restarts it. A missing scheduler lease is reported (`"status": "degraded"`) but
answers 200: the replicas that answer updates are fine, and taking them all out of the balancer
because the scheduler is elsewhere and down would turn a late notice into a dead bot. Alert on
`ais_scheduler_lease_held == 0` instead (docs/deployment.md).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import GetUpdates
from sqlalchemy import func, select

from bot.clock import Clock
from db.models.delivery import SchedulerLease

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

    from db.session import Database

log = logging.getLogger(__name__)

POLL_STALE_SECONDS = 90.0


class Health:
    """The checks behind /healthz; `mode` is "polling" or "webhook"."""

    def __init__(self, db: Database, mode: str, clock: Clock | None = None) -> None:
        self.db = db
        self.mode = mode
        self.clock = clock or Clock()
        self._last_poll: float | None = None
        self._started = time.monotonic()

    def note_poll(self) -> None:
        self._last_poll = time.monotonic()

    def updates_alive(self) -> bool:
        if self.mode != "polling":
            return True
        last = self._last_poll if self._last_poll is not None else self._started
        return time.monotonic() - last < POLL_STALE_SECONDS

    async def lease_held(self) -> bool:
        async with self.db.read() as session:
            live = await session.scalar(
                select(func.count())
                .select_from(SchedulerLease)
                .where(SchedulerLease.expires_at > self.clock.now())
            )
        return bool(live)

    async def report(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body) for /healthz."""
        body: dict[str, Any] = {"mode": self.mode}
        try:
            await self.db.ping()
            body["database"] = "up"
        except Exception as exc:
            log.warning("health check: database unreachable: %s", type(exc).__name__)
            body["database"] = "down"
        body["updates"] = "up" if self.updates_alive() else "stalled"
        if body["database"] == "up":
            try:
                body["scheduler"] = "held" if await self.lease_held() else "no lease"
            except Exception as exc:
                log.warning("health check: cannot read the lease: %s", type(exc).__name__)
                body["scheduler"] = "unknown"
        else:
            body["scheduler"] = "unknown"
        if body["database"] != "up" or body["updates"] != "up":
            body["status"] = "unavailable"
            return 503, body
        body["status"] = "ok" if body["scheduler"] == "held" else "degraded"
        return 200, body


class PollWatch(BaseRequestMiddleware):
    """A Bot API session middleware: each successful getUpdates tells Health polling lives."""

    def __init__(self, health: Health) -> None:
        self.health = health

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        response = await make_request(bot, method)
        if isinstance(method, GetUpdates):
            self.health.note_poll()
        return response
