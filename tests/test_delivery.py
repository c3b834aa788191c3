"""The outbox and its worker: pacing, 429, blocked users, retries, crash and resume."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from aiogram.methods import SendMessage
from aiogram.utils.i18n import gettext as _
from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.delivery.render import Rendered, renderer
from bot.delivery.worker import DeliveryWorker, in_quiet_hours
from bot.services.notify import NoticeKind, notify, notify_many
from db.models import Role, User
from db.models.delivery import Delivery, DeliveryStatus, NotificationSettings
from tests.conftest import App


@renderer("test.hello")
def _render_hello(params: dict, locale: str) -> Rendered:
    return Rendered(text=_("Choose a section:") + f" #{params['n']}")


def virtual_worker(app: App, **kwargs: object) -> DeliveryWorker:
    """A worker whose sleeps move the test clock instead of waiting."""
    clock: FrozenClock = app.clock

    async def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)
        await asyncio.sleep(0)

    return DeliveryWorker(
        app.bot,
        app.db,
        app.i18n,
        app.settings,
        clock,
        monotonic=lambda: clock.now().timestamp(),
        sleep=sleep,
        **kwargs,
    )


async def make_users(
    app: App, count: int, start_tg: int = 900_000, locale: str = "en"
) -> list[int]:
    async with app.db.write() as session:
        users = [
            User(
                login=f"u{start_tg + i}",
                password_hash="!unset",
                role=Role.student,
                last_name="Test",
                first_name=str(i),
                telegram_id=start_tg + i,
                locale=locale,
            )
            for i in range(count)
        ]
        session.add_all(users)
        await session.flush()
        return [u.id for u in users]


def daytime(app: App) -> None:
    # Noon in Almaty: outside the default quiet hours.
    app.clock.set(datetime(2026, 11, 26, 7, 0, tzinfo=UTC))


async def test_notification_rendered_in_recipient_language(app: App) -> None:
    daytime(app)
    (kk_user,) = await make_users(app, 1, 800_001, locale="kk")
    async with app.db.write() as session:
        assert await notify(
            session,
            user_id=kk_user,
            kind=NoticeKind.grades,
            template="test.hello",
            params={"n": 1},
            now=app.clock.now(),
        )
    await virtual_worker(app).drain()
    sent = app.session.requests_of(SendMessage)
    assert [m.text for m in sent] == ["Бөлімді таңдаңыз: #1"]
    async with app.db.read() as session:
        row = await session.scalar(select(Delivery))
        assert row.status is DeliveryStatus.sent
        assert row.chat_id == 800_001 and row.message_id is not None


async def test_disabled_kind_and_dedupe_are_not_queued(app: App) -> None:
    daytime(app)
    a, b = await make_users(app, 2, 800_010)
    async with app.db.write() as session:
        session.add(NotificationSettings(user_id=a, disabled_kinds=["grades"]))
        await session.flush()
        now = app.clock.now()
        assert not await notify(
            session,
            user_id=a,
            kind=NoticeKind.grades,
            template="test.hello",
            params={"n": 1},
            now=now,
        )
        assert await notify(
            session,
            user_id=b,
            kind=NoticeKind.grades,
            template="test.hello",
            params={"n": 1},
            now=now,
            dedupe_key="k1",
        )
        assert not await notify(
            session,
            user_id=b,
            kind=NoticeKind.grades,
            template="test.hello",
            params={"n": 2},
            now=now,
            dedupe_key="k1",
        )
        # The account kind cannot be switched off.
        session.add(NotificationSettings(user_id=b, disabled_kinds=["account"]))
        await session.flush()
        assert await notify(
            session,
            user_id=b,
            kind=NoticeKind.account,
            template="test.hello",
            params={"n": 3},
            now=now,
        )
        assert (
            await notify_many(
                session,
                user_ids=[a, b, b],
                kind=NoticeKind.grades,
                template="test.hello",
                params={"n": 4},
                now=now,
                dedupe_prefix="bc1",
            )
            == 1
        )
        assert (
            await notify_many(
                session,
                user_ids=[a, b],
                kind=NoticeKind.grades,
                template="test.hello",
                params={"n": 4},
                now=now,
                dedupe_prefix="bc1",
            )
            == 0
        )


async def test_quiet_hours_hold_until_morning_except_urgent(app: App) -> None:
    # 23:30 in Almaty (UTC+5).
    app.clock.set(datetime(2026, 11, 26, 18, 30, tzinfo=UTC))
    (uid,) = await make_users(app, 1, 800_020)
    async with app.db.write() as session:
        await notify(
            session,
            user_id=uid,
            kind=NoticeKind.calendar,
            template="test.hello",
            params={"n": 1},
            now=app.clock.now(),
        )
        await notify(
            session,
            user_id=uid,
            kind=NoticeKind.tests,
            template="test.hello",
            params={"n": 2},
            now=app.clock.now(),
            urgent=True,
        )
    worker = virtual_worker(app)
    await worker.run_once()
    assert [m.text.endswith("#2") for m in app.session.requests_of(SendMessage)] == [True]
    async with app.db.read() as session:
        held = await session.scalar(
            select(Delivery).where(Delivery.status == DeliveryStatus.pending)
        )
        # Held until 08:00 local time = 03:00 UTC the next day.
        assert held.not_before == datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    app.clock.set(datetime(2026, 11, 27, 3, 0, 1, tzinfo=UTC))
    await worker.drain()
    assert len(app.session.requests_of(SendMessage)) == 2


def test_quiet_hours_wrap_midnight() -> None:
    assert in_quiet_hours(23 * 60, 22 * 60, 8 * 60)
    assert in_quiet_hours(3 * 60, 22 * 60, 8 * 60)
    assert not in_quiet_hours(8 * 60, 22 * 60, 8 * 60)
    assert not in_quiet_hours(12 * 60, 22 * 60, 8 * 60)
    assert in_quiet_hours(13 * 60, 12 * 60, 14 * 60)


async def test_429_and_blocked_users_everyone_else_exactly_once(app: App) -> None:
    daytime(app)
    ids = await make_users(app, 60, 810_000)
    blocked_chats = {810_003, 810_017, 810_042}
    for chat in blocked_chats:
        app.session.block_user(chat)
    app.session.fail("sendMessage", None, error_code=429, retry_after=3, times=2)
    async with app.db.write() as session:
        await notify_many(
            session,
            user_ids=ids,
            kind=NoticeKind.announcements,
            template="test.hello",
            params={"n": 7},
            now=app.clock.now(),
            batch_id=1,
        )
    worker = virtual_worker(app)
    for _round in range(20):
        await worker.drain()
        app.clock.advance(seconds=5)
    delivered = [
        m.chat_id for m in app.session.requests_of(SendMessage) if m.chat_id not in blocked_chats
    ]
    # Failed 429 attempts are recorded as requests too; count the chat views instead.
    seen = {
        chat: sum(1 for m in app.session.chats[chat].values() if m.from_bot)
        for chat in range(810_000, 810_060)
    }
    assert all(seen[c] == 1 for c in seen if c not in blocked_chats), seen
    assert all(seen[c] == 0 for c in blocked_chats)
    assert worker.stats["retry_after"] == 2
    assert len(set(delivered)) == 57
    async with app.db.read() as session:
        counts = dict(
            (
                await session.execute(
                    select(Delivery.status, func.count()).group_by(Delivery.status)
                )
            ).all()
        )
        assert counts == {DeliveryStatus.sent: 57, DeliveryStatus.blocked: 3}
        marked = await session.scalar(
            select(func.count()).where(NotificationSettings.bot_blocked_at.is_not(None))
        )
        assert marked == 3


async def test_per_chat_pace_one_a_second(app: App) -> None:
    daytime(app)
    (uid,) = await make_users(app, 1, 820_000)
    async with app.db.write() as session:
        for n in range(3):
            await notify(
                session,
                user_id=uid,
                kind=NoticeKind.letters,
                template="test.hello",
                params={"n": n},
                now=app.clock.now(),
            )
    worker = virtual_worker(app)
    sent_at: list[datetime] = []
    for _round in range(10):
        before = len(app.session.requests_of(SendMessage))
        await worker.run_once()
        if len(app.session.requests_of(SendMessage)) > before:
            sent_at.append(app.clock.now())
        app.clock.advance(seconds=0.5)
    assert len(sent_at) == 3
    assert all(b - a >= timedelta(seconds=1) for a, b in pairwise(sent_at))


async def test_transient_errors_retry_then_give_up(app: App) -> None:
    daytime(app)
    a, b = await make_users(app, 2, 830_000)
    app.session.fail("sendMessage", 830_000, error_code=502, description="Bad Gateway", times=2)
    app.session.fail("sendMessage", 830_001, error_code=502, description="Bad Gateway", times=99)
    async with app.db.write() as session:
        await notify_many(
            session,
            user_ids=[a, b],
            kind=NoticeKind.letters,
            template="test.hello",
            params={"n": 1},
            now=app.clock.now(),
        )
    worker = virtual_worker(app, max_attempts=4)
    for _round in range(12):
        await worker.drain()
        app.clock.advance(seconds=60)
    async with app.db.read() as session:
        rows = {r.user_id: r for r in await session.scalars(select(Delivery))}
    assert rows[a].status is DeliveryStatus.sent and rows[a].attempts == 3
    assert rows[b].status is DeliveryStatus.failed and rows[b].attempts == 4


async def test_crash_mid_broadcast_resumes_without_loss_or_repeat(app: App) -> None:
    """Kill the worker halfway (task cancelled mid-send), restart: one delivery each."""
    daytime(app)
    ids = await make_users(app, 120, 840_000)
    async with app.db.write() as session:
        await notify_many(
            session,
            user_ids=ids,
            kind=NoticeKind.announcements,
            template="test.hello",
            params={"n": 9},
            now=app.clock.now(),
            batch_id=2,
        )
    first = virtual_worker(app, batch_size=20, concurrency=4)
    task = asyncio.create_task(first.drain())
    while first.stats["sent"] < 50:  # noqa: ASYNC110 - polling the worker's own counter
        await asyncio.sleep(0)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    async with app.db.read() as session:
        in_flight = await session.scalar(
            select(func.count()).where(Delivery.status == DeliveryStatus.sending)
        )
    # The restarted process puts back the rows the dead one had claimed at once, whatever
    # their age: the claims carry the dead worker's id, not the new one's.
    second = virtual_worker(app, batch_size=20, concurrency=4)
    assert await second.release_orphaned_claims() == in_flight
    await second.drain()
    async with app.db.read() as session:
        statuses = list(await session.scalars(select(Delivery.status)))
    assert statuses.count(DeliveryStatus.sent) == 120
    copies = [
        sum(1 for m in app.session.chats[840_000 + i].values() if m.from_bot) for i in range(120)
    ]
    assert min(copies) == 1
    # Only messages in flight at the moment of the kill may arrive twice.
    assert sum(copies) - 120 <= in_flight


async def test_a_worker_whose_lease_runs_out_stops_sending_and_its_claims_move_on(
    app: App,
) -> None:
    """A holder that could not renew its lease sends nothing more; what it had claimed is sent
    by the next holder, and a late answer of the old one cannot overwrite the new outcome."""
    daytime(app)
    ids = await make_users(app, 5, 845_000)
    async with app.db.write() as session:
        await notify_many(
            session,
            user_ids=ids,
            kind=NoticeKind.announcements,
            template="test.hello",
            params={"n": 11},
            now=app.clock.now(),
        )
    fresh = True
    old = virtual_worker(app, may_send=lambda: fresh)
    claimed = await old._claim()
    assert len(claimed) == 5
    fresh = False
    for row in claimed:
        await old._guarded(row)
    assert app.session.requests_of(SendMessage) == []
    new = virtual_worker(app)
    assert await new.release_orphaned_claims() == 5
    await new.drain()
    assert len(app.session.requests_of(SendMessage)) == 5
    # The old worker's write for a row it no longer owns changes nothing.
    await old._finish(claimed[0].id, status=DeliveryStatus.failed)
    async with app.db.read() as session:
        statuses = list(await session.scalars(select(Delivery.status)))
    assert statuses == [DeliveryStatus.sent] * 5


async def test_the_production_loop_claims_the_next_batch_before_this_one_drains(
    app: App,
) -> None:
    daytime(app)
    ids = await make_users(app, 40, 846_000)
    async with app.db.write() as session:
        await notify_many(
            session,
            user_ids=ids,
            kind=NoticeKind.announcements,
            template="test.hello",
            params={"n": 12},
            now=app.clock.now(),
        )
    worker = virtual_worker(app, batch_size=10, concurrency=2)
    claims = 0
    second_claim = asyncio.Event()
    everyone = asyncio.Event()
    claim, deliver = worker._claim, worker._deliver

    async def counting_claim() -> list:
        nonlocal claims
        rows = await claim()
        if rows:
            claims += 1
            if claims == 2:
                second_claim.set()
        return rows

    async def gated_deliver(row) -> None:
        # The last rows of the first batch wait for the second claim: a loop that claimed only
        # after a batch drained would never get there (and the test would time out).
        if worker.stats["sent"] >= 6 and not second_claim.is_set():
            await asyncio.wait_for(second_claim.wait(), timeout=60)
        await deliver(row)
        if worker.stats["sent"] == 40:
            everyone.set()

    worker._claim = counting_claim  # type: ignore[method-assign]
    worker._deliver = gated_deliver  # type: ignore[method-assign]
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop))
    try:
        await asyncio.wait_for(everyone.wait(), timeout=120)
    finally:
        stop.set()
        await task
    assert claims == 4
    async with app.db.read() as session:
        statuses = list(await session.scalars(select(Delivery.status)))
    assert statuses == [DeliveryStatus.sent] * 40
