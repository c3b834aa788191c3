"""Runs the jobs (APScheduler 3) and the delivery worker while this process holds the lease."""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.delivery.worker import DeliveryWorker
from scheduler import lease
from scheduler.context import JobContext
from scheduler.registry import JOBS, JobSpec

log = logging.getLogger(__name__)

# A holder on another machine that stops renewing is replaced within LEASE_TTL plus one renewal
# interval (a dead holder on this machine at once, see scheduler/lease.py); the worker stops
# sending FENCE_MARGIN before its own lease could have expired, so two never send together.
LEASE_TTL = timedelta(seconds=30)
LEASE_RENEW_SECONDS = 10
FENCE_MARGIN = 5.0

JobFunc = Callable[[JobContext], Awaitable[None]]


def resolve(ref: str) -> JobFunc:
    module_name, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module_name), attr)


class SchedulerService:
    """The jobs and the delivery worker of one process; idle unless it holds the lease."""

    def __init__(self, ctx: JobContext, jobs: tuple[JobSpec, ...] = JOBS) -> None:
        self.ctx = ctx
        self.jobs = jobs
        self.holder = lease.holder_id()
        self.is_leader = False
        self._scheduler: AsyncIOScheduler | None = None
        self._stop = asyncio.Event()
        self._worker_task: asyncio.Task[None] | None = None
        self._sending_until = 0.0
        # (callback, event mask) pairs handed to APScheduler at start: metrics listen here.
        self.listeners: list[tuple[Callable[[object], None], int]] = []
        # The worker's claims carry the lease holder id: a new holder releases them at once.
        self.worker = DeliveryWorker(
            ctx.bot,
            ctx.db,
            ctx.i18n,
            ctx.settings,
            ctx.clock,
            owner=self.holder,
            may_send=self._lease_is_fresh,
        )

    def _lease_is_fresh(self) -> bool:
        return time.monotonic() < self._sending_until

    async def _renew(self) -> None:
        started = time.monotonic()
        try:
            leader = await lease.acquire(self.ctx.db, self.holder, self.ctx.clock.now(), LEASE_TTL)
        except Exception:
            log.exception("could not renew the scheduler lease")
            leader = False
        if leader:
            self._sending_until = started + LEASE_TTL.total_seconds() - FENCE_MARGIN
        if leader != self.is_leader:
            log.info("scheduler lease %s", "taken" if leader else "lost; idle")
        self.is_leader = leader
        if leader and self._worker_task is None:
            self._worker_task = asyncio.create_task(self.worker.run_forever(self._stop))
        elif not leader and self._worker_task is not None:
            self._stop.set()
            await self._worker_task
            self._worker_task = None
            self._stop = asyncio.Event()

    async def _run(self, spec: JobSpec) -> str | None:
        """Run one job if this process leads; "ok"/"failed" reach the event listeners."""
        if not self.is_leader:
            return None
        try:
            await resolve(spec.ref)(self.ctx)
        except Exception:
            log.exception("job %s failed", spec.id)
            return "failed"
        return "ok"

    async def start(self) -> None:
        for spec in self.jobs:
            resolve(spec.ref)  # fail at start-up, not at the first tick, on a bad reference
        await self._renew()
        scheduler = AsyncIOScheduler(timezone="UTC")
        for callback, mask in self.listeners:
            scheduler.add_listener(callback, mask)
        scheduler.add_job(
            self._renew,
            "interval",
            seconds=LEASE_RENEW_SECONDS,
            id="scheduler.lease",
            coalesce=True,
            max_instances=1,
        )
        for spec in self.jobs:
            # coalesce: runs missed while the process was down are caught up once, not per tick.
            scheduler.add_job(
                self._run,
                "interval",
                seconds=spec.seconds,
                args=(spec,),
                id=spec.id,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
                next_run_time=self.ctx.clock.now(),
            )
        scheduler.start()
        self._scheduler = scheduler
        log.info("scheduler started (%s jobs, leader=%s)", len(self.jobs), self.is_leader)

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        self._stop.set()
        if self._worker_task is not None:
            await self._worker_task
            self._worker_task = None
        if self.is_leader:
            await lease.release(self.ctx.db, self.holder)
            self.is_leader = False
