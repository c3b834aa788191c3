"""The delivery worker: sends outbox rows at Telegram's pace and records what happened.

- A global token bucket keeps under the configured rate (default 25/s; Telegram allows ~30).
- One message per second per chat: a row whose chat got a message less than a second ago is put
  back with `not_before` a moment later, so other chats are not held up.
- A 429 pauses every send for its `retry_after`; the row goes back to the queue untouched.
- A person who blocked the bot: the row is `blocked` and the person is marked, never retried.
- Other errors retry with exponential backoff, at most `max_attempts` times.
- Rows are claimed atomically (`sending`) and their outcome is written right after each send,
  so a crash re-sends at most the rows that were in flight; `recover_stale` puts those back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from sqlalchemy import select, update

from bot.clock import Clock
from bot.config import Settings
from bot.delivery.render import Rendered, UnknownTemplate, render
from db.models import User
from db.models.delivery import Delivery, DeliveryStatus, NotificationSettings
from db.session import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    user_id: int
    template: str
    params: dict[str, Any]
    urgent: bool
    attempts: int
    chat_id: int | None
    locale: str | None
    quiet_enabled: bool
    quiet_start: int
    quiet_end: int


def in_quiet_hours(local_minutes: int, start: int, end: int) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= local_minutes < end
    return local_minutes >= start or local_minutes < end


def quiet_end_after(now: datetime, tz: Any, end_minutes: int) -> datetime:
    """The next moment (aware UTC) when the local clock shows `end_minutes`."""
    local = now.astimezone(tz)
    target = local.replace(
        hour=end_minutes // 60, minute=end_minutes % 60, second=0, microsecond=0
    )
    if target <= local:
        target += timedelta(days=1)
    return target.astimezone(now.tzinfo)


class TokenBucket:
    """At most `rate` acquisitions per second on average, with a small burst."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate / 5)
        self.tokens = self.capacity
        self.monotonic = monotonic
        self.sleep = sleep
        self.updated = monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = self.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return
            # Wait exactly for the missing fraction, then spend the token we waited for; no
            # re-check loop, which float rounding of large clock values could make endless.
            await self.sleep((1 - self.tokens) / self.rate)
            self.tokens = 0.0
            self.updated = max(self.updated, self.monotonic())


class DeliveryWorker:
    def __init__(
        self,
        bot: Bot,
        db: Database,
        i18n: I18n,
        settings: Settings,
        clock: Clock,
        *,
        rate: float = 25.0,
        per_chat_interval: float = 1.0,
        max_attempts: int = 5,
        batch_size: int = 100,
        concurrency: int = 8,
        stale_after: timedelta = timedelta(minutes=2),
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.db = db
        self.i18n = i18n
        self.settings = settings
        self.clock = clock
        self.per_chat_interval = per_chat_interval
        self.max_attempts = max_attempts
        self.batch_size = batch_size
        self.stale_after = stale_after
        self.monotonic = monotonic
        self.sleep = sleep
        self.bucket = TokenBucket(rate, monotonic=monotonic, sleep=sleep)
        self._slots = asyncio.Semaphore(concurrency)
        self._last_sent: dict[int, float] = {}
        self._paused_until = 0.0
        self.stats = {"sent": 0, "failed": 0, "blocked": 0, "retry_after": 0, "deferred": 0}

    # ---- claiming ----------------------------------------------------------------------------

    async def recover_stale(self) -> int:
        """Rows left `sending` by a process that died: back to the queue."""
        cutoff = self.clock.now() - self.stale_after
        async with self.db.write() as session:
            result = await session.execute(
                update(Delivery)
                .where(Delivery.status == DeliveryStatus.sending, Delivery.claimed_at < cutoff)
                .values(status=DeliveryStatus.pending)
            )
        return result.rowcount or 0

    async def _claim(self) -> list[_Claimed]:
        now = self.clock.now()
        async with self.db.write() as session:
            query = (
                select(Delivery.id)
                .where(Delivery.status == DeliveryStatus.pending, Delivery.not_before <= now)
                .order_by(Delivery.id)
                .limit(self.batch_size)
            )
            if not self.db.is_sqlite:
                # Several worker processes: each claims rows the others have not locked.
                query = query.with_for_update(skip_locked=True)
            ids = list(await session.scalars(query))
            if not ids:
                return []
            await session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids))
                .values(status=DeliveryStatus.sending, claimed_at=now)
            )
            rows = await session.execute(
                select(
                    Delivery.id,
                    Delivery.user_id,
                    Delivery.template,
                    Delivery.params,
                    Delivery.urgent,
                    Delivery.attempts,
                    User.telegram_id,
                    User.locale,
                    NotificationSettings.quiet_enabled,
                    NotificationSettings.quiet_start,
                    NotificationSettings.quiet_end,
                )
                .join(User, User.id == Delivery.user_id)
                .outerjoin(NotificationSettings, NotificationSettings.user_id == User.id)
                .where(Delivery.id.in_(ids))
                .order_by(Delivery.id)
            )
            return [
                _Claimed(
                    id=r[0],
                    user_id=r[1],
                    template=r[2],
                    params=r[3] or {},
                    urgent=r[4],
                    attempts=r[5],
                    chat_id=r[6],
                    locale=r[7],
                    quiet_enabled=True if r[8] is None else r[8],
                    quiet_start=22 * 60 if r[9] is None else r[9],
                    quiet_end=8 * 60 if r[10] is None else r[10],
                )
                for r in rows
            ]

    # ---- outcomes ----------------------------------------------------------------------------

    async def _finish(self, row_id: int, **values: Any) -> None:
        async with self.db.write() as session:
            await session.execute(update(Delivery).where(Delivery.id == row_id).values(**values))

    async def _release(self, row: _Claimed, not_before: datetime, **values: Any) -> None:
        await self._finish(row.id, status=DeliveryStatus.pending, not_before=not_before, **values)

    async def _mark_blocked(self, row: _Claimed) -> None:
        now = self.clock.now()
        async with self.db.write() as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.id == row.id)
                .values(status=DeliveryStatus.blocked, last_error="blocked by the user")
            )
            prefs = await session.get(NotificationSettings, row.user_id)
            if prefs is None:
                session.add(NotificationSettings(user_id=row.user_id, bot_blocked_at=now))
            else:
                prefs.bot_blocked_at = now

    # ---- sending -----------------------------------------------------------------------------

    def _render(self, row: _Claimed) -> Rendered:
        locale = row.locale or self.settings.default_locale
        with self.i18n.context(), self.i18n.use_locale(locale):
            return render(row.template, row.params, locale)

    async def _send(self, chat_id: int, rendered: Rendered) -> Message:
        common = {"reply_markup": rendered.markup, "protect_content": rendered.protect}
        if rendered.photo is not None:
            return await self.bot.send_photo(
                chat_id, rendered.photo, caption=rendered.text, **common
            )
        if rendered.document is not None:
            return await self.bot.send_document(
                chat_id, rendered.document, caption=rendered.text, **common
            )
        return await self.bot.send_message(chat_id, rendered.text, **common)

    async def _deliver(self, row: _Claimed) -> None:
        now = self.clock.now()
        if row.chat_id is None:
            await self._finish(
                row.id, status=DeliveryStatus.skipped, last_error="no Telegram account bound"
            )
            return
        if not row.urgent and row.quiet_enabled:
            local = now.astimezone(self.settings.tz)
            if in_quiet_hours(local.hour * 60 + local.minute, row.quiet_start, row.quiet_end):
                await self._release(row, quiet_end_after(now, self.settings.tz, row.quiet_end))
                self.stats["deferred"] += 1
                return
        mono = self.monotonic()
        last = self._last_sent.get(row.chat_id)
        if last is not None and mono - last < self.per_chat_interval:
            wait = self.per_chat_interval - (mono - last)
            await self._release(row, now + timedelta(seconds=wait))
            self.stats["deferred"] += 1
            return
        try:
            rendered = self._render(row)
        except UnknownTemplate:
            log.error("delivery %s: no renderer for template %s", row.id, row.template)
            await self._finish(row.id, status=DeliveryStatus.failed, last_error="no renderer")
            self.stats["failed"] += 1
            return
        except Exception as exc:  # a renderer bug must not stop the queue
            log.exception("delivery %s: rendering %s failed", row.id, row.template)
            await self._finish(
                row.id, status=DeliveryStatus.failed, last_error=f"render: {exc!r}"[:300]
            )
            self.stats["failed"] += 1
            return

        await self.bucket.acquire()
        pause = self._paused_until - self.monotonic()
        if pause > 0:
            await self.sleep(pause)
        self._last_sent[row.chat_id] = self.monotonic()
        try:
            message = await self._send(row.chat_id, rendered)
        except TelegramRetryAfter as exc:
            self.stats["retry_after"] += 1
            self._paused_until = max(self._paused_until, self.monotonic() + exc.retry_after)
            await self._release(row, self.clock.now() + timedelta(seconds=exc.retry_after))
            return
        except TelegramForbiddenError:
            await self._mark_blocked(row)
            self.stats["blocked"] += 1
            return
        except TelegramBadRequest as exc:
            # The same request would be refused again: no retry.
            await self._finish(
                row.id,
                status=DeliveryStatus.failed,
                attempts=row.attempts + 1,
                last_error=exc.message[:300],
            )
            self.stats["failed"] += 1
            return
        except Exception as exc:  # network trouble, Telegram's 5xx: retry later
            attempts = row.attempts + 1
            if attempts >= self.max_attempts:
                await self._finish(
                    row.id,
                    status=DeliveryStatus.failed,
                    attempts=attempts,
                    last_error=repr(exc)[:300],
                )
                self.stats["failed"] += 1
            else:
                backoff = timedelta(seconds=min(600, 2**attempts))
                await self._release(
                    row, self.clock.now() + backoff, attempts=attempts, last_error=repr(exc)[:300]
                )
            return
        await self._finish(
            row.id,
            status=DeliveryStatus.sent,
            chat_id=row.chat_id,
            message_id=message.message_id,
            sent_at=self.clock.now(),
            attempts=row.attempts + 1,
        )
        self.stats["sent"] += 1

    async def _guarded(self, row: _Claimed) -> None:
        async with self._slots:
            try:
                await self._deliver(row)
            except Exception:
                # The row stays `sending` and recover_stale() returns it to the queue later.
                log.exception("delivery %s: unexpected failure", row.id)

    async def run_once(self) -> int:
        """Claim one batch and deliver it; returns how many rows were handled."""
        rows = await self._claim()
        if rows:
            await asyncio.gather(*(self._guarded(row) for row in rows))
        return len(rows)

    async def drain(self, max_rounds: int = 1000) -> int:
        """Deliver everything due now (tests, benchmarks)."""
        total = 0
        for _ in range(max_rounds):
            handled = await self.run_once()
            if not handled:
                break
            total += handled
        return total

    async def run_forever(self, stop: asyncio.Event, idle: float = 0.5) -> None:
        await self.recover_stale()
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("delivery round failed")
                handled = 0
            if not handled:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=idle)
                except TimeoutError:
                    pass
