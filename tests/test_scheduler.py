"""One scheduler per database, jobs run by the leader only, missed ticks caught up once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.clock import Clock
from scheduler import lease
from scheduler.context import JobContext
from scheduler.registry import JobSpec
from scheduler.runner import SchedulerService, resolve
from tests.conftest import App

CALLS: list[str] = []


async def record_call(ctx: JobContext) -> None:
    CALLS.append(type(ctx).__name__)


async def test_lease_is_exclusive_until_it_expires(app: App) -> None:
    now = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
    ttl = timedelta(seconds=60)
    assert await lease.acquire(app.db, "a", now, ttl)
    assert not await lease.acquire(app.db, "b", now + timedelta(seconds=30), ttl)
    assert await lease.acquire(app.db, "a", now + timedelta(seconds=30), ttl)  # renewal
    assert not await lease.acquire(app.db, "b", now + timedelta(seconds=80), ttl)
    assert await lease.acquire(app.db, "b", now + timedelta(seconds=91), ttl)
    await lease.release(app.db, "a")  # not the holder: nothing happens
    assert not await lease.acquire(app.db, "a", now + timedelta(seconds=95), ttl)
    await lease.release(app.db, "b")
    assert await lease.acquire(app.db, "a", now + timedelta(seconds=96), ttl)


async def test_only_the_leader_runs_jobs(app: App) -> None:
    CALLS.clear()
    spec = JobSpec("test.record", "tests.test_scheduler:record_call", 0.05)
    ctx = JobContext(app.db, app.bot, app.i18n, app.settings, Clock())
    first = SchedulerService(ctx, (spec,))
    second = SchedulerService(ctx, (spec,))
    await first.start()
    await second.start()
    try:
        assert first.is_leader and not second.is_leader
        await asyncio.sleep(0.3)
        ran = len(CALLS)
        assert ran >= 2
        # Every call came from the leader: the follower's ticks return at once.
        await second._run(spec)
        assert len(CALLS) in (ran, ran + 1, ran + 2)
    finally:
        await second.stop()
        await first.stop()
    # With the leader gone, the other one takes over at its next renewal.
    await second._renew()
    assert second.is_leader
    await second.stop()


def test_job_references_resolve() -> None:
    from scheduler.registry import JOBS

    for spec in JOBS:
        assert callable(resolve(spec.ref)), spec
