"""The delivery worker: sends outbox rows at Telegram's pace and records what happened.

- A global token bucket keeps under the configured rate (default 25/s; Telegram allows ~30).
- One message per second per chat: a row whose chat got a message less than a second ago is put
  back with `not_before` a moment later, so other chats are not held up.
- A 429 pauses every send for its `retry_after`; the row goes back to the queue untouched.
- A person who blocked the bot: the row is `blocked` and the person is marked, never retried.
- Other errors retry with exponential backoff, at most `max_attempts` times.
- Each claim carries its claimant's id (`claimed_by`, the scheduler lease holder). The outcome of
  every send is written right after Telegram answers, so a crash can re-send at most the sends in
  flight (`concurrency`), never a batch. Rows a dead claimant left `sending` go back to the queue
  the moment a new holder starts (`release_orphaned_claims`), whatever their age.
- `run_forever` claims the next batch while the current one still has `low_water` rows to send,
  so batch boundaries cost no rate.
- Rows for an account that still has a one-time password wait, urgent ones too, until the person
  sets their own (held like quiet hours; the forced change calls `reevaluate_held`).
- Non-urgent rows met during the person's quiet hours are put back until they end and marked
  `held_quiet`; changing the settings recomputes those (`bot.services.notify.reevaluate_held`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
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
from sqlalchemy import or_, select, update

from bot.clock import Clock
from bot.config import Settings
from bot.delivery.quiet import held_until, in_quiet_hours, quiet_end_after
from bot.delivery.render import Rendered, UnknownTemplate, render
from db.models import User
from db.models.delivery import Delivery, DeliveryStatus, NotificationSettings
from db.session import Database

log = logging.getLogger(__name__)

# Sends in flight at once: also the most a crash can repeat (each send's answer is recorded
# before its slot takes the next row).
CONCURRENCY = 8

__all__ = [
    "CONCURRENCY",
    "DeliveryWorker",
    "TokenBucket",
    "in_quiet_hours",
    "new_owner_id",
    "quiet_end_after",
]


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
    one_time_password: bool = False


# How often a notice held for an account with a one-time password looks again.
ONE_TIME_PASSWORD_RECHECK = timedelta(hours=1)


def new_owner_id() -> str:
    return f"worker:{os.getpid()}:{uuid.uuid4().hex[:12]}"


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
            self._refill()
            if self.tokens < 1:
                await self.sleep((1 - self.tokens) / self.rate)
                # Credit the time actually slept: a sleep that overshoots (a busy event loop,
                # timer granularity) must not cost rate, message after message.
                self._refill()
            # No re-check loop (float rounding of large clock values could make it endless): a
            # token a hair short is paid back by the next caller's wait.
            self.tokens -= 1

    def _refill(self) -> None:
        now = self.monotonic()
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now


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
        concurrency: int = CONCURRENCY,
        owner: str | None = None,
        may_send: Callable[[], bool] | None = None,
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
        self.concurrency = concurrency
        # The next batch is claimed when this few rows of the current one are left to send.
        self.low_water = max(concurrency, batch_size // 2)
        self.owner = owner or new_owner_id()
        # False once this process may no longer be the only sender (its lease is running out):
        # it then sends nothing more and leaves its claims to the next holder.
        self.may_send = may_send or (lambda: True)
        self.monotonic = monotonic
        self.sleep = sleep
        self.bucket = TokenBucket(rate, monotonic=monotonic, sleep=sleep)
        self._slots = asyncio.Semaphore(concurrency)
        self._last_sent: dict[int, float] = {}
        self._paused_until = 0.0
        self.stats = {"sent": 0, "failed": 0, "blocked": 0, "retry_after": 0, "deferred": 0}

    # ---- claiming ----------------------------------------------------------------------------

    async def release_orphaned_claims(self) -> int:
        """Rows left `sending` by any other claimant: back to the queue at once.

        Only the scheduler lease holder runs a worker, so a claim that is not ours belongs to a
        holder that is gone (dead, or deposed and no longer sending: see `may_send`)."""
        async with self.db.write() as session:
            result = await session.execute(
                update(Delivery)
                .where(
                    Delivery.status == DeliveryStatus.sending,
                    or_(Delivery.claimed_by.is_(None), Delivery.claimed_by != self.owner),
                )
                .values(status=DeliveryStatus.pending, claimed_by=None)
            )
        released = result.rowcount or 0
        if released:
            log.info("released %d outbox rows claimed by a previous sender", released)
        return released

    async def release_own_claims(self) -> int:
        """On a clean stop: what this worker claimed but did not send goes back to the queue."""
        async with self.db.write() as session:
            result = await session.execute(
                update(Delivery)
                .where(
                    Delivery.status == DeliveryStatus.sending, Delivery.claimed_by == self.owner
                )
                .values(status=DeliveryStatus.pending, claimed_by=None)
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
                .values(status=DeliveryStatus.sending, claimed_at=now, claimed_by=self.owner)
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
                    User.must_change_password,
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
                    one_time_password=bool(r[11]),
                )
                for r in rows
            ]

    # ---- outcomes ----------------------------------------------------------------------------

    def _mine(self, row_id: int) -> Any:
        # Written only while the row is still ours: a claim released to another sender is
        # never overwritten by a late answer.
        return (
            Delivery.id == row_id,
            Delivery.status == DeliveryStatus.sending,
            Delivery.claimed_by == self.owner,
        )

    async def _finish(self, row_id: int, **values: Any) -> None:
        async with self.db.write() as session:
            await session.execute(update(Delivery).where(*self._mine(row_id)).values(**values))

    async def _release(self, row: _Claimed, not_before: datetime, **values: Any) -> None:
        await self._finish(
            row.id,
            status=DeliveryStatus.pending,
            not_before=not_before,
            claimed_by=None,
            **values,
        )

    async def _mark_blocked(self, row: _Claimed) -> None:
        now = self.clock.now()
        async with self.db.write() as session:
            await session.execute(
                update(Delivery)
                .where(*self._mine(row.id))
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
        if row.one_time_password:
            # Whoever holds the chat has not yet proved more than a one-time password (read
            # from a registrar's paper, perhaps): nothing is shown until the person sets their
            # own. Held like quiet hours, so setting the password releases it at once
            # (`reevaluate_held`); the hourly look is for a password set by other means.
            await self._release(row, now + ONE_TIME_PASSWORD_RECHECK, held_quiet=True)
            self.stats["deferred"] += 1
            return
        if not row.urgent:
            until = held_until(
                now,
                self.settings.tz,
                enabled=row.quiet_enabled,
                start=row.quiet_start,
                end=row.quiet_end,
            )
            if until is not None:
                await self._release(row, until, held_quiet=True)
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
            held_quiet=False,
        )
        self.stats["sent"] += 1

    async def _deliver_safely(self, row: _Claimed) -> None:
        try:
            await self._deliver(row)
        except Exception:
            log.exception("delivery %s: unexpected failure", row.id)
            try:
                await self._release(row, self.clock.now() + timedelta(seconds=30))
            except Exception:
                # Still `sending` under our name: the next holder releases it at start-up.
                log.exception("delivery %s: could not put the row back", row.id)

    async def _guarded(self, row: _Claimed) -> None:
        async with self._slots:
            if self.may_send():
                await self._deliver_safely(row)

    async def run_once(self) -> int:
        """Claim one batch and deliver it; returns how many rows were handled."""
        rows = await self._claim()
        if rows:
            await asyncio.gather(*(self._guarded(row) for row in rows))
        return len(rows)

    async def drain(self, max_rounds: int = 1000) -> int:
        """Deliver everything due now, batch after batch (tests)."""
        total = 0
        for _ in range(max_rounds):
            handled = await self.run_once()
            if not handled:
                break
            total += handled
        return total

    # ---- the production loop -----------------------------------------------------------------

    async def _sender(self, queue: asyncio.Queue[_Claimed | None], room: asyncio.Event) -> None:
        while True:
            row = await queue.get()
            if row is None:
                return
            if queue.qsize() <= self.low_water:
                room.set()
            if self.may_send():
                await self._deliver_safely(row)

    @staticmethod
    async def _wait(events: list[asyncio.Event], seconds: float) -> None:
        waiters = [asyncio.ensure_future(e.wait()) for e in events]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def run_forever(self, stop: asyncio.Event, idle: float = 0.5) -> None:
        """Send until `stop` is set. One task claims, `concurrency` tasks send; the next batch
        is claimed while `low_water` rows of the current one are still to be sent."""
        await self.release_orphaned_claims()
        queue: asyncio.Queue[_Claimed | None] = asyncio.Queue()
        room = asyncio.Event()
        senders = [asyncio.create_task(self._sender(queue, room)) for _ in range(self.concurrency)]
        try:
            while not stop.is_set():
                if not self.may_send():
                    await self._wait([stop], idle)
                    continue
                if queue.qsize() > self.low_water:
                    room.clear()
                    await self._wait([stop, room], idle)
                    continue
                try:
                    rows = await self._claim()
                except Exception:
                    log.exception("delivery: claiming failed")
                    rows = []
                for row in rows:
                    queue.put_nowait(row)
                if len(rows) < self.batch_size:
                    # Nothing more is due now; look again shortly (or when told to stop).
                    await self._wait([stop], idle)
        finally:
            # Senders finish the send in hand (its answer is recorded); the rest of the
            # claim goes back to the queue.
            while not queue.empty():
                queue.get_nowait()
            for _ in senders:
                queue.put_nowait(None)
            await asyncio.gather(*senders, return_exceptions=True)
            try:
                await self.release_own_claims()
            except Exception:
                log.exception("delivery: could not release the remaining claims")
