"""Urgency is a property of a notice, decided in one table (bot/services/notify.py: NOTICES),
and checked at 02:00 in Almaty with the default settings (quiet hours 22:00-08:00): urgent
notices go out at once, the others wait until 08:00. Changing the settings re-evaluates what is
held, at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from aiogram.methods import SendMessage
from sqlalchemy import select

from bot.delivery import render as render_module
from bot.delivery.render import Rendered, known_templates
from bot.delivery.worker import DeliveryWorker
from bot.demo.core import DEMO_ACCOUNTS
from bot.services.notify import NOTICES, NoticeKind, is_urgent, notify
from db.models import Role, User
from db.models.delivery import Delivery, DeliveryStatus
from scheduler.jobs.testing import close_overdue_attempts
from tests.conftest import App
from tests.test_testing import go_to, make_test, start
from tests.test_testing_jobs import job_context

# 02:00 in Almaty (UTC+5) is 21:00 UTC the day before; 08:00 there is 03:00 UTC.
AT_TWO = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)
AT_EIGHT = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
URGENT = {
    "testing.attempt_closed",
    "reminders.test_closing",
    "appeals.closing",
    "appeals.decided",
    "services.status_changed:needs_info",
}


def _key(template: str, params: dict) -> str:
    return f"{template}:{params['status']}" if "status" in params else template


def virtual_worker(app: App) -> DeliveryWorker:
    async def sleep(seconds: float) -> None:
        app.clock.advance(seconds=seconds)
        await asyncio.sleep(0)

    return DeliveryWorker(
        app.bot,
        app.db,
        app.i18n,
        app.settings,
        app.clock,
        monotonic=lambda: app.clock.now().timestamp(),
        sleep=sleep,
    )


async def _user(app: App, telegram_id: int) -> int:
    async with app.db.write() as session:
        user = User(
            login=f"u{telegram_id}",
            password_hash="!unset",
            role=Role.student,
            telegram_id=telegram_id,
            locale="en",
        )
        session.add(user)
        await session.flush()
        return user.id


def test_every_notice_the_bot_can_send_is_in_the_table(app: App) -> None:
    """A new renderer without a row in NOTICES would silently default to "may wait"."""
    listed = {n.template for n in NOTICES}
    production = {t for t in known_templates() if not t.startswith(("test.", "benchmark."))}
    assert production <= listed, production - listed
    assert listed <= production, listed - production
    assert is_urgent(NoticeKind.account, "account.anything", {})
    assert is_urgent(NoticeKind.services, "services.status_changed", {"status": "needs_info"})
    assert not is_urgent(NoticeKind.services, "services.status_changed", {"status": "ready"})


async def test_callers_cannot_overrule_the_table(app: App) -> None:
    uid = await _user(app, 870_001)
    async with app.db.write() as session:
        with pytest.raises(ValueError, match="decided in NOTICES"):
            await notify(
                session,
                user_id=uid,
                kind=NoticeKind.appeals,
                template="appeals.decided",
                params={},
                now=AT_TWO,
                urgent=False,
            )


async def test_at_two_in_the_night_urgent_notices_go_out_and_the_rest_wait_until_eight(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every row of the table, queued at 02:00 for a person with the default settings; the
    # texts come from stand-in renderers, the urgency from the table.
    for template in {n.template for n in NOTICES}:
        monkeypatch.setitem(
            render_module._RENDERERS,
            template,
            lambda params, locale, t=template: Rendered(text=_key(t, params)),
        )
    app.clock.set(AT_TWO)
    # One person per notice: Telegram's one message a second per chat does not interfere.
    uids = [await _user(app, 870_100 + i) for i in range(len(NOTICES))]
    async with app.db.write() as session:
        for i, notice in enumerate(NOTICES):
            params = (
                {"status": notice.status or "ready"}
                if notice.template.startswith("services.status")
                else {}
            )
            assert await notify(
                session,
                user_id=uids[i],
                kind=notice.kinds[0],
                template=notice.template,
                params=params,
                now=AT_TWO,
                dedupe_key=f"urgency:{i}",
            )
    worker = virtual_worker(app)
    await worker.drain()
    at_once = {m.text for m in app.session.requests_of(SendMessage)}
    assert at_once == URGENT
    async with app.db.read() as session:
        held = list(
            await session.scalars(
                select(Delivery).where(Delivery.status == DeliveryStatus.pending)
            )
        )
    assert len(held) == len(NOTICES) - len(URGENT)
    assert all(r.held_quiet and r.not_before == AT_EIGHT for r in held)

    app.clock.set(AT_EIGHT - timedelta(minutes=1))
    await worker.drain()
    assert len(app.session.requests_of(SendMessage)) == len(URGENT)
    app.clock.set(AT_EIGHT)
    await worker.drain()
    assert len(app.session.requests_of(SendMessage)) == len(NOTICES)


async def test_an_attempt_closed_by_the_scheduler_at_two_is_told_at_once(demo_app: App) -> None:
    demo_app.clock.set(AT_TWO - timedelta(minutes=6))
    await make_test(demo_app, minutes=5)
    client = await start(demo_app)
    await go_to(client, "Easy one")
    await client.click("E1 right")
    demo_app.clock.set(AT_TWO)
    await close_overdue_attempts(job_context(demo_app))
    before = len(demo_app.session.requests_of(SendMessage))
    await virtual_worker(demo_app).drain()
    pushed = demo_app.session.requests_of(SendMessage)[before:]
    assert len(pushed) == 1
    assert "Control work" in pushed[0].text


async def _held_for_student(app: App) -> tuple[App, object]:
    """The settings test's student, with one announcement held by quiet hours at 02:00."""
    app.clock.set(AT_TWO)
    client = await app.signed_in(*DEMO_ACCOUNTS["student"])
    async with app.db.write() as session:
        uid = await session.scalar(
            select(User.id).where(User.login == DEMO_ACCOUNTS["student"][0])
        )
        await notify(
            session,
            user_id=uid,
            kind=NoticeKind.calendar,
            template="test.urgency",
            params={},
            now=AT_TWO,
        )
    await virtual_worker(app).drain()
    async with app.db.read() as session:
        row = await session.scalar(select(Delivery).where(Delivery.template == "test.urgency"))
    assert row.status == DeliveryStatus.pending and row.held_quiet
    assert row.not_before == AT_EIGHT
    return app, client


async def _held_row(app: App) -> Delivery:
    async with app.db.read() as session:
        row = await session.scalar(select(Delivery).where(Delivery.template == "test.urgency"))
        session.expunge_all()
        return row


@render_module.renderer("test.urgency")
def _render_urgency(params: dict, locale: str) -> Rendered:
    return Rendered(text="A calendar date")


async def _open_notifications(client) -> None:
    await client.send("/settings")
    await client.click("🔔 Notifications")


async def test_turning_quiet_hours_off_releases_what_is_held_at_once(demo_app: App) -> None:
    _, client = await _held_for_student(demo_app)
    await _open_notifications(client)
    await client.click("🌙 Quiet hours: on")
    row = await _held_row(demo_app)
    assert row.not_before == AT_TWO and not row.held_quiet
    await virtual_worker(demo_app).drain()
    assert (await _held_row(demo_app)).status == DeliveryStatus.sent


async def test_moving_the_end_of_quiet_hours_moves_what_is_held(demo_app: App) -> None:
    _, client = await _held_for_student(demo_app)
    await _open_notifications(client)
    await client.click("Until")
    await client.click("06:00")
    row = await _held_row(demo_app)
    assert row.held_quiet and row.not_before == AT_EIGHT - timedelta(hours=2)
    # Quiet hours that no longer cover 02:00 (22:00-01:00) let it go now.
    await client.click("Until")
    await client.click("01:00")
    row = await _held_row(demo_app)
    assert not row.held_quiet and row.not_before == AT_TWO


async def test_switching_a_kind_off_drops_what_is_held_of_it(demo_app: App) -> None:
    _, client = await _held_for_student(demo_app)
    await _open_notifications(client)
    await client.click("🔔 Academic calendar dates")
    row = await _held_row(demo_app)
    assert row.status == DeliveryStatus.skipped
