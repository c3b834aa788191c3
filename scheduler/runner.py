"""Runs the jobs (APScheduler 3) and the delivery worker while this process holds the lease."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.delivery.worker import DeliveryWorker
from scheduler import lease
from scheduler.context import JobContext
from scheduler.registry import JOBS, JobSpec

log = logging.getLogger(__name__)

LEASE_TTL = timedelta(seconds=60)
LEASE_RENEW_SECONDS = 15

JobFunc = Callable[[JobContext], Awaitable[None]]


def resolve(ref: str) -> JobFunc:
    module_name, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module_name), attr)


class SchedulerService:
    """The jobs and the delivery worker of one process; idle unless it holds the lease."""

    def __init__(self, ctx: JobContext, jobs: tuple[JobSpec, ...] = JOBS) -> None:
        self.ctx = ctx
        self.jobs = jobs
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.is_leader = False
        self._scheduler: AsyncIOScheduler | None = None
        self._stop = asyncio.Event()
        self._worker_task: asyncio.Task[None] | None = None
        # (callback, event mask) pairs handed to APScheduler at start: metrics listen here.
        self.listeners: list[tuple[Callable[[object], None], int]] = []
        self.worker = DeliveryWorker(ctx.bot, ctx.db, ctx.i18n, ctx.settings, ctx.clock)

    async def _renew(self) -> None:
        try:
            leader = await lease.acquire(self.ctx.db, self.holder, self.ctx.clock.now(), LEASE_TTL)
        except Exception:
            log.exception("could not renew the scheduler lease")
            leader = False
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
