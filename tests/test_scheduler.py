"""One scheduler per database, jobs run by the leader only, missed ticks caught up once."""

from __future__ import annotations

import asyncio
import os
import sys
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


async def test_a_dead_holder_on_this_machine_is_replaced_at_once(app: App) -> None:
    """After a crash the restarted process does not wait for the dead one's lease to expire."""
    now = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
    ttl = timedelta(seconds=30)
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await child.wait()
    dead = lease.holder_id().split("/")
    dead[2] = str(child.pid)
    dead_holder = "/".join(dead)
    assert lease.holder_is_gone(dead_holder)
    assert await lease.acquire(app.db, dead_holder, now, ttl)
    assert await lease.acquire(app.db, lease.holder_id(), now + timedelta(seconds=1), ttl)

    # The same PID as ours but another process token: an earlier life of this PID (a container
    # restarted with the bot as PID 1 again).
    earlier = lease.holder_id().split("/")
    earlier[3] = "0" * 8
    assert lease.holder_is_gone("/".join(earlier))
    # A live process (this one, another instance) is waited for; so is another machine's.
    assert not lease.holder_is_gone(lease.holder_id())
    other_machine = lease.holder_id().split("/")
    other_machine[1] = "f" * 12
    other_machine[2] = str(child.pid)
    assert not lease.holder_is_gone("/".join(other_machine))
    assert not lease.holder_is_gone(f"old-host:{os.getpid()}:abc")
    holder = "/".join(other_machine)
    later = now + timedelta(seconds=60)
    assert await lease.acquire(app.db, holder, later, ttl)
    assert not await lease.acquire(app.db, lease.holder_id(), later + timedelta(seconds=29), ttl)
    assert await lease.acquire(app.db, lease.holder_id(), later + timedelta(seconds=31), ttl)
