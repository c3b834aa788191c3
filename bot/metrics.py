"""Prometheus metrics and /healthz on METRICS_PORT (off unless it is set).

Imported only when METRICS_PORT is set, so prometheus-client costs nothing otherwise. The figures:

- `ais_updates_total{type, outcome}` and `ais_handler_duration_seconds{handler}`, fed by the
  update-log middleware (bot/middlewares/logging.py), which already knows handler, time and
  outcome;
- the outbox (`ais_outbox_deliveries{status}`, `ais_outbox_oldest_due_age_seconds`), active
  test attempts and the scheduler lease, read from the database at scrape time (at most once per
  `REFRESH_SECONDS`, however many scrapers ask): the delivery worker knows nothing of metrics,
  and every replica reports the same shared truth;
- `ais_scheduler_job_runs_total{job, outcome}` from an APScheduler event listener;
- `ais_db_pool_connections_in_use` from the engine's pool.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import func, select

from bot.clock import Clock
from bot.health import Health, PollWatch
from bot.preflight import StartupError
from db.models.delivery import Delivery, DeliveryStatus, SchedulerLease
from db.models.testing import Attempt, AttemptStatus

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher

    from bot.config import Settings
    from db.session import Database
    from scheduler.runner import SchedulerService

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0
HANDLER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# How the outbox's statuses are reported: "queued" is waiting or being sent.
OUTBOX_STATUS = {
    DeliveryStatus.pending: "queued",
    DeliveryStatus.sending: "queued",
    DeliveryStatus.sent: "sent",
    DeliveryStatus.failed: "failed",
    DeliveryStatus.blocked: "blocked",
    DeliveryStatus.skipped: "skipped",
}


class BotMetrics:
    """The process's metrics, in a registry of its own (tests build several side by side)."""

    def __init__(
        self, db: Database, scheduler: SchedulerService | None = None, clock: Clock | None = None
    ) -> None:
        self.db = db
        self.scheduler = scheduler
        self.clock = clock or Clock()
        self._refreshed_at: float | None = None
        r = self.registry = CollectorRegistry()
        self.updates = Counter(
            "ais_updates",
            "Updates handled, by update type and outcome",
            ["type", "outcome"],
            registry=r,
        )
        self.handler_seconds = Histogram(
            "ais_handler_duration_seconds",
            "Time from an update's arrival to the end of its handling, by handler",
            ["handler"],
            buckets=HANDLER_BUCKETS,
            registry=r,
        )
        self.job_runs = Counter(
            "ais_scheduler_job_runs",
            "Scheduler job runs by job and outcome",
            ["job", "outcome"],
            registry=r,
        )
        self.outbox = Gauge(
            "ais_outbox_deliveries", "Notices in the outbox by status", ["status"], registry=r
        )
        self.outbox_age = Gauge(
            "ais_outbox_oldest_due_age_seconds",
            "How long the oldest notice that is due (not held by quiet hours) has waited",
            registry=r,
        )
        self.attempts = Gauge(
            "ais_test_attempts_active", "Test attempts open right now", registry=r
        )
        self.lease_held = Gauge(
            "ais_scheduler_lease_held",
            "1 while some process holds a live scheduler lease on this database",
            registry=r,
        )
        self.leader = Gauge(
            "ais_scheduler_leader", "1 while this process runs the scheduler", registry=r
        )
        self.database_up = Gauge(
            "ais_database_up", "1 if the last scrape could read the database", registry=r
        )
        pool_in_use = Gauge(
            "ais_db_pool_connections_in_use",
            "Database connections checked out of this process's pool",
            registry=r,
        )
        pool_in_use.set_function(self._pool_in_use)
        for status in sorted(set(OUTBOX_STATUS.values())):
            self.outbox.labels(status)

    def _pool_in_use(self) -> float:
        checkedout = getattr(self.db.engine.pool, "checkedout", None)
        return float(checkedout()) if callable(checkedout) else 0.0

    def observe_update(self, event_type: str, outcome: str, handler: str, seconds: float) -> None:
        """Called by the update-log middleware once per update."""
        self.updates.labels(event_type, outcome).inc()
        self.handler_seconds.labels(handler).observe(seconds)

    def on_job_event(self, event: Any) -> None:
        """APScheduler listener. A job run returns "ok" or "failed" (the runner catches and logs
        the exception itself) and None when this process is not the leader: those are not runs.
        """
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED

        if event.code == EVENT_JOB_MISSED:
            outcome = "missed"
        elif event.code == EVENT_JOB_ERROR:
            outcome = "failed"
        elif event.retval in ("ok", "failed"):
            outcome = event.retval
        else:
            return
        self.job_runs.labels(event.job_id, outcome).inc()

    async def refresh(self, force: bool = False) -> None:
        """Read the shared figures from the database (cheap: counts on indexed columns)."""
        now_mono = time.monotonic()
        if (
            not force
            and self._refreshed_at is not None
            and now_mono - self._refreshed_at < REFRESH_SECONDS
        ):
            return
        self._refreshed_at = now_mono
        self.leader.set(1 if self.scheduler is not None and self.scheduler.is_leader else 0)
        now = self.clock.now()
        try:
            async with self.db.read() as session:
                counts = dict(
                    (
                        await session.execute(
                            select(Delivery.status, func.count()).group_by(Delivery.status)
                        )
                    ).all()
                )
                oldest = await session.scalar(
                    select(func.min(Delivery.not_before)).where(
                        Delivery.status.in_((DeliveryStatus.pending, DeliveryStatus.sending)),
                        Delivery.not_before <= now,
                    )
                )
                attempts = await session.scalar(
                    select(func.count())
                    .select_from(Attempt)
                    .where(Attempt.status == AttemptStatus.open)
                )
                leases = await session.scalar(
                    select(func.count())
                    .select_from(SchedulerLease)
                    .where(SchedulerLease.expires_at > now)
                )
        except Exception as exc:
            log.warning("metrics: cannot read the database: %s", type(exc).__name__)
            self.database_up.set(0)
            return
        self.database_up.set(1)
        totals: dict[str, int] = dict.fromkeys(OUTBOX_STATUS.values(), 0)
        for status, count in counts.items():
            totals[OUTBOX_STATUS[DeliveryStatus(status)]] += count
        for status, count in totals.items():
            self.outbox.labels(status).set(count)
        self.outbox_age.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        self.attempts.set(attempts or 0)
        self.lease_held.set(1 if leases else 0)

    async def exposition(self) -> bytes:
        await self.refresh()
        return generate_latest(self.registry)


def build_metrics_app(metrics: BotMetrics, health: Health) -> web.Application:
    """/metrics for Prometheus and /healthz for the on-call person and systemd."""
    app = web.Application()

    async def scrape(_request: web.Request) -> web.Response:
        return web.Response(
            body=await metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def healthz(_request: web.Request) -> web.Response:
        status, body = await health.report()
        return web.json_response(body, status=status)

    app.router.add_get("/metrics", scrape)
    app.router.add_get("/healthz", healthz)
    return app


class MetricsServer:
    """The metrics and health endpoints of one process, on their own port."""

    def __init__(self, metrics: BotMetrics, health: Health) -> None:
        self.metrics = metrics
        self.health = health
        self._runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(build_metrics_app(self.metrics, self.health), access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, host, port).start()
        except OSError as exc:
            await self.stop()
            raise StartupError(
                f"cannot serve metrics on {host}:{port} ({exc.strerror}): "
                "choose a free METRICS_PORT or stop what uses it"
            ) from None
        log.info("metrics and /healthz on %s:%s", host, port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def listen_to(scheduler: SchedulerService, metrics: BotMetrics) -> None:
    """Count the scheduler's job runs (registered before it starts)."""
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED

    scheduler.listeners.append(
        (metrics.on_job_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    )


def wire(
    dp: Dispatcher,
    bot: Bot,
    db: Database,
    mode: str,
    scheduler: SchedulerService | None = None,
    clock: Clock | None = None,
) -> tuple[BotMetrics, Health]:
    """Hook the metrics into the dispatcher, the Bot API session and the scheduler."""
    metrics = BotMetrics(db, scheduler, clock)
    health = Health(db, mode, clock)
    # The update-log middleware finds it by name in the workflow data.
    dp["update_metrics"] = metrics
    if mode == "polling":
        bot.session.middleware(PollWatch(health))
    if scheduler is not None:
        listen_to(scheduler, metrics)
    return metrics, health


async def install(
    dp: Dispatcher,
    bot: Bot,
    db: Database,
    settings: Settings,
    scheduler: SchedulerService | None,
) -> MetricsServer:
    """Wire the metrics and start serving them on METRICS_HOST:METRICS_PORT."""
    assert settings.metrics_port is not None
    mode = "webhook" if settings.webhook_url else "polling"
    metrics, health = wire(dp, bot, db, mode, scheduler)
    server = MetricsServer(metrics, health)
    await server.start(settings.metrics_host, settings.metrics_port)
    return server


async def install_for_scheduler(
    db: Database, settings: Settings, scheduler: SchedulerService
) -> MetricsServer:
    """`python -m scheduler` with METRICS_PORT: job runs, the outbox, the lease; no updates."""
    assert settings.metrics_port is not None
    metrics = BotMetrics(db, scheduler)
    listen_to(scheduler, metrics)
    server = MetricsServer(metrics, Health(db, "scheduler"))
    await server.start(settings.metrics_host, settings.metrics_port)
    return server
