"""🔔 Notifications under ⚙️ Settings: the choices are stored; notify and the worker obey them."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram.methods import SendMessage
from sqlalchemy import select

from bot.demo.core import DEMO_ACCOUNTS
from bot.services.notify import NoticeKind, notify
from db.models import User
from db.models.delivery import Delivery, DeliveryStatus, NotificationSettings
from tests.conftest import App
from tests.support import BotClient
from tests.test_delivery import virtual_worker


async def _user_id(app: App, login: str) -> int:
    async with app.db.read() as session:
        return await session.scalar(select(User.id).where(User.login == login))


async def _prefs(app: App, user_id: int) -> NotificationSettings | None:
    async with app.db.read() as session:
        row = await session.get(NotificationSettings, user_id)
        session.expunge_all()
        return row


async def _open(app: App, role: str) -> BotClient:
    client = await app.signed_in(*DEMO_ACCOUNTS[role])
    await client.send("/settings")
    await client.click("🔔 Notifications")
    return client


async def test_kinds_switch_off_and_on_and_notify_obeys(demo_app: App) -> None:
    client = await _open(demo_app, "student")
    screen = client.last_message()
    assert "Notifications" in screen.text
    assert "Quiet hours: 22:00–08:00" in screen.text
    buttons = client.buttons()
    assert "🔔 Marks and grades" in buttons and "🔔 Letters" in buttons
    assert "⏰ Class reminders: turned off" in buttons and "☀️ Morning digest: off" in buttons
    # The account kind is always on and is not offered.
    assert not any("ccount" in b for b in buttons)
    uid = await _user_id(demo_app, DEMO_ACCOUNTS["student"][0])
    assert await _prefs(demo_app, uid) is None

    first = screen.reply_markup.inline_keyboard[0][0]
    assert first.text == "🔔 Marks and grades"
    await client.click("🔔 Marks and grades")
    assert "🔕 Marks and grades" in client.buttons()
    assert client.last_answer().text == "Saved."
    assert (await _prefs(demo_app, uid)).disabled_kinds == ["grades"]
    # A double tap (the same, now stale button again) leaves it off instead of flipping it back.
    await client.click_data(first.callback_data)
    assert (await _prefs(demo_app, uid)).disabled_kinds == ["grades"]

    demo_app.clock.set(datetime(2031, 3, 12, 7, 0, tzinfo=UTC))
    async with demo_app.db.write() as session:
        now = demo_app.clock.now()
        assert not await notify(
            session, user_id=uid, kind=NoticeKind.grades, template="x.y", params={}, now=now
        )
        # Account notices cannot be switched off.
        assert await notify(
            session,
            user_id=uid,
            kind=NoticeKind.account,
            template="reminders.class",
            params={"starts": "10:00", "ends": "11:00", "discipline": {"en": "Logic"}},
            now=now,
        )

    await client.click("🔕 Marks and grades")
    assert (await _prefs(demo_app, uid)).disabled_kinds == []
    async with demo_app.db.write() as session:
        assert await notify(
            session,
            user_id=uid,
            kind=NoticeKind.grades,
            template="x.y",
            params={},
            now=demo_app.clock.now(),
        )


async def test_lead_time_digest_and_quiet_hours(demo_app: App) -> None:
    client = await _open(demo_app, "student")
    uid = await _user_id(demo_app, DEMO_ACCOUNTS["student"][0])

    await client.click("⏰ Class reminders: turned off")
    assert "How long before each class" in client.last_message().text
    assert client.buttons()[:5] == [
        "• turned off",
        "10 min before",
        "15 min before",
        "30 min before",
        "60 min before",
    ]
    await client.click("15 min before")
    assert (await _prefs(demo_app, uid)).class_reminder_minutes == 15
    assert "⏰ Class reminders: 15 min before" in client.last_message().text

    await client.click("☀️ Morning digest: off")
    assert (await _prefs(demo_app, uid)).digest_enabled is True
    assert "Morning digest at 08:00" in client.last_message().text

    await client.click("From 22:00")
    await client.click("23:00")
    assert (await _prefs(demo_app, uid)).quiet_start == 23 * 60
    assert "Quiet hours: 23:00–08:00" in client.last_message().text
    # An empty quiet period is refused.
    await client.click("Until 08:00")
    await client.click("23:00")
    answer = client.last_answer()
    assert answer.show_alert and "cannot start and end at the same hour" in answer.text
    assert (await _prefs(demo_app, uid)).quiet_end == 8 * 60
    await client.click("« Back")
    await client.click("Until 08:00")
    await client.click("07:00")
    prefs = await _prefs(demo_app, uid)
    assert (prefs.quiet_start, prefs.quiet_end) == (23 * 60, 7 * 60)

    # 23:30 in Almaty is quiet now: a calendar notice waits, a test deadline does not.
    demo_app.clock.set(datetime(2031, 3, 12, 18, 30, tzinfo=UTC))
    demo_app.session.clear()
    params = {
        "kind": "midterm",
        "m": "starts",
        "when": "before",
        "name": {"en": "Midterm 1"},
        "starts_on": "2031-03-13",
        "ends_on": "2031-03-18",
        "date": "2031-03-13",
    }
    async with demo_app.db.write() as session:
        await notify(
            session,
            user_id=uid,
            kind=NoticeKind.calendar,
            template="reminders.calendar",
            params=params,
            now=demo_app.clock.now(),
        )
    worker = virtual_worker(demo_app)
    await worker.drain()
    assert demo_app.session.requests_of(SendMessage) == []

    await client.click("🌙 Quiet hours: on")
    assert (await _prefs(demo_app, uid)).quiet_enabled is False
    assert "Quiet hours are off" in client.last_message().text
    assert not any(b.startswith("From ") for b in client.buttons())
    async with demo_app.db.write() as session:
        await notify(
            session,
            user_id=uid,
            kind=NoticeKind.calendar,
            template="reminders.calendar",
            params=params,
            now=demo_app.clock.now(),
        )
    await worker.drain()
    sent = demo_app.session.requests_of(SendMessage)
    assert [m.chat_id for m in sent] == [client.chat_id]
    assert "A midterm week starts tomorrow" in sent[0].text
    async with demo_app.db.read() as session:
        statuses = sorted(
            s.value
            for s in await session.scalars(select(Delivery.status).where(Delivery.user_id == uid))
        )
    # The first one still waits for 07:00 (the end of the quiet period it was queued in).
    assert statuses == [DeliveryStatus.pending.value, DeliveryStatus.sent.value]


async def test_forged_and_foreign_presses_change_nothing(demo_app: App) -> None:
    client = await _open(demo_app, "student")
    uid = await _user_id(demo_app, DEMO_ACCOUNTS["student"][0])
    for data in (
        "ntf:k:99:0",
        "ntf:k:-1:0",
        "ntf:k:0:7",
        "ntf:cls:7:0",
        "ntf:qss:24:0",
        "ntf:qes:-3:0",
        "ntf:zz:0:0",
    ):
        await client.click_data(data)
        answer = client.last_answer()
        assert answer is not None and answer.show_alert, data
    assert await _prefs(demo_app, uid) is None

    # Staff get the kinds and quiet hours, but no class reminders or digest, not even forged.
    staff = await _open(demo_app, "staff")
    assert "🔔 Announcements" in staff.buttons()
    assert not any("Class reminders" in b or "digest" in b for b in staff.buttons())
    await staff.click_data("ntf:dg:0:1")
    await staff.click_data("ntf:cls:15:0")
    staff_id = await _user_id(demo_app, DEMO_ACCOUNTS["staff"][0])
    assert await _prefs(demo_app, staff_id) is None
    await staff.click("« Back")
    assert "Settings" in staff.last_message().text
