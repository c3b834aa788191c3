"""Prometheus metrics and /healthz: scraped over HTTP from the running dispatcher."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace
from datetime import timedelta

import pytest
from aiogram.methods import GetUpdates
from aiohttp.test_utils import TestClient, TestServer
from apscheduler.events import EVENT_JOB_EXECUTED
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, text

from bot.clock import Clock
from bot.health import POLL_STALE_SECONDS
from bot.metrics import MetricsServer, build_metrics_app, wire
from bot.preflight import StartupError
from bot.webhook import build_app
from db.models import User
from db.models.delivery import Delivery, DeliveryStatus
from db.models.testing import Attempt
from scheduler import lease
from scheduler.context import JobContext
from scheduler.registry import JobSpec
from scheduler.runner import SchedulerService
from tests.conftest import App

RAN = asyncio.Event()


async def job_that_works(_ctx: JobContext) -> None:
    RAN.set()


async def job_that_fails(_ctx: JobContext) -> None:
    raise RuntimeError("the job broke")


async def _scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_updates_and_handler_times_move(app: App) -> None:
    metrics, health = wire(app.dp, app.bot, app.db, "webhook", clock=app.clock)
    async with TestClient(TestServer(build_metrics_app(metrics, health))) as http:
        before = await _scrape(http)
        client = app.client()
        await client.send("/start")
        await client.click("English")
        after = await _scrape(http)
        async with app.db.read() as session:
            await session.execute(text("SELECT 1"))
            held = await _scrape(http)
    assert _value(held, "ais_db_pool_connections_in_use") >= 1
    assert _value(after, "ais_updates_total", type="message", outcome="handled") == (
        _value(before, "ais_updates_total", type="message", outcome="handled") + 1
    )
    assert _value(after, "ais_updates_total", type="callback_query", outcome="handled") == 1
    timed = {
        dict(labels)["handler"]: value
        for (name, labels), value in after.items()
        if name == "ais_handler_duration_seconds_count"
    }
    assert sum(timed.values()) == 2
    assert any(name.startswith("bot.handlers.") for name in timed)
    assert _value(after, "ais_database_up") == 1


async def test_outbox_attempts_and_lease_are_read_at_scrape_time(demo_app: App) -> None:
    metrics, health = wire(demo_app.dp, demo_app.bot, demo_app.db, "webhook", clock=demo_app.clock)
    now = demo_app.clock.now()
    async with demo_app.db.write() as session:
        user_id = (await session.scalars(select(User.id).limit(1))).one()
        for status, due in (
            (DeliveryStatus.pending, now - timedelta(minutes=7)),
            (DeliveryStatus.pending, now + timedelta(hours=8)),  # held by quiet hours
            (DeliveryStatus.sent, now),
            (DeliveryStatus.failed, now),
            (DeliveryStatus.blocked, now),
        ):
            session.add(
                Delivery(
                    user_id=user_id,
                    kind="grades",
                    template="t",
                    params={},
                    status=status,
                    not_before=due,
                )
            )
    async with TestClient(TestServer(build_metrics_app(metrics, health))) as http:
        await metrics.refresh(force=True)
        samples = await _scrape(http)
        assert _value(samples, "ais_outbox_deliveries", status="queued") >= 2
        assert _value(samples, "ais_outbox_deliveries", status="blocked") >= 1
        assert _value(samples, "ais_outbox_deliveries", status="failed") >= 1
        # The oldest notice that is due waited 7 minutes; the one held for the morning does not
        # count.
        assert _value(samples, "ais_outbox_oldest_due_age_seconds") >= 7 * 60
        assert _value(samples, "ais_scheduler_lease_held") == 0
        health_answer = await http.get("/healthz")
        assert health_answer.status == 200
        assert (await health_answer.json())["status"] == "degraded"

        assert await lease.acquire(demo_app.db, "elsewhere", now, timedelta(seconds=60))
        await metrics.refresh(force=True)
        samples = await _scrape(http)
        assert _value(samples, "ais_scheduler_lease_held") == 1
        async with demo_app.db.read() as session:
            open_attempts = await session.scalar(
                select(func.count()).select_from(Attempt).where(Attempt.status == "open")
            )
        assert _value(samples, "ais_test_attempts_active") == open_attempts
        health_answer = await http.get("/healthz")
        body = await health_answer.json()
        assert health_answer.status == 200
        assert body == {
            "mode": "webhook",
            "database": "up",
            "updates": "up",
            "scheduler": "held",
            "status": "ok",
        }


async def test_scheduler_runs_and_failures_are_counted(app: App) -> None:
    RAN.clear()
    works = JobSpec("test.works", "tests.test_metrics:job_that_works", 0.05)
    fails = JobSpec("test.fails", "tests.test_metrics:job_that_fails", 0.05)
    service = SchedulerService(
        JobContext(app.db, app.bot, app.i18n, app.settings, Clock()), (works, fails)
    )
    metrics, _health = wire(app.dp, app.bot, app.db, "polling", scheduler=service)
    failed = asyncio.Event()
    service.listeners.append(
        (lambda event: failed.set() if event.job_id == "test.fails" else None, EVENT_JOB_EXECUTED)
    )
    await service.start()
    try:
        await asyncio.wait_for(asyncio.gather(RAN.wait(), failed.wait()), timeout=10)
    finally:
        await service.stop()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in metrics.registry.collect()
        for s in family.samples
    }
    runs = "ais_scheduler_job_runs_total"
    assert _value(samples, runs, job="test.works", outcome="ok") >= 1
    assert _value(samples, runs, job="test.fails", outcome="failed") >= 1
    # The lease renewal is plumbing, not a job.
    assert _value(samples, runs, job="scheduler.lease", outcome="ok") == 0


async def test_polling_health_follows_get_updates(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    _metrics, health = wire(app.dp, app.bot, app.db, "polling")
    status, body = await health.report()
    assert status == 200 and body["updates"] == "up"
    # No getUpdates answer for longer than the limit: polling is stuck.
    monkeypatch.setattr(health, "_started", health._started - POLL_STALE_SECONDS - 1)
    status, body = await health.report()
    assert status == 503 and body["updates"] == "stalled"
    await app.bot(GetUpdates(timeout=0))
    status, body = await health.report()
    assert status == 200 and body["updates"] == "up"


async def test_webhook_health_shares_the_checks(app: App) -> None:
    settings = replace(
        app.settings,
        webhook_url="https://ais.example.kz/tg/hook",
        webhook_secret="s3cret-token-for-webhook-tests",
    )
    _metrics, health = wire(app.dp, app.bot, app.db, "webhook")
    async with TestClient(TestServer(build_app(app.dp, app.bot, settings, app.db, health))) as c:
        answer = await c.get("/healthz")
        assert answer.status == 200
        assert (await answer.json())["database"] == "up"


async def test_a_busy_metrics_port_is_one_line(app: App) -> None:
    metrics, health = wire(app.dp, app.bot, app.db, "polling")
    first = MetricsServer(metrics, health)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    await first.start("127.0.0.1", port)
    try:
        with pytest.raises(StartupError, match=f"cannot serve metrics on 127.0.0.1:{port}"):
            await MetricsServer(metrics, health).start("127.0.0.1", port)
    finally:
        await first.stop()
