"""Expiry: pushed notifications are edited to say so, unsent pushes are withdrawn, re-runs are
harmless, and a 429 stops the run without losing the place."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiogram.methods import EditMessageText
from sqlalchemy import select

from bot.delivery.worker import DeliveryWorker
from bot.demo.core import DEMO_ACCOUNTS
from bot.services import messaging as svc
from bot.services.auth import load_viewer
from bot.services.messaging import Draft
from db.models import Group, Student, User
from db.models.delivery import Delivery, DeliveryStatus
from db.models.messaging import Message, MessageKind
from scheduler.context import JobContext
from scheduler.jobs.messages import expire_messages
from tests.conftest import App

TZ = ZoneInfo("Asia/Almaty")


def _ctx(app: App) -> JobContext:
    return JobContext(app.db, app.bot, app.i18n, app.settings, app.clock)


async def _send(app: App, sender_login: str, targets: list[tuple[str, int]], days: int) -> int:
    async with app.db.write() as session:
        user = await session.scalar(select(User).where(User.login == sender_login))
        viewer = await load_viewer(session, user.telegram_id)
        sent = await svc.send_message(
            session,
            viewer,
            Draft(
                kind=MessageKind.announcement
                if sender_login == "demo.staff"
                else MessageKind.letter,
                subject="Кеңес сағаты",
                body="Сейсенбі 15:00, 204-аудитория.",
                expires_on=svc.local_today(app.clock.now(), TZ) + timedelta(days=days),
                targets=targets,
            ),
            app.clock.now(),
            TZ,
        )
    return sent.message_id


async def _student_uid(app: App) -> int:
    async with app.db.read() as session:
        return await session.scalar(select(User.id).where(User.login == "demo.student"))


async def test_expired_notification_is_edited_once(demo_app: App) -> None:
    demo_app.clock.set(datetime.combine(date.today(), time(12), tzinfo=TZ))
    student = await demo_app.signed_in(*DEMO_ACCOUNTS["student"], language="Русский")
    await demo_app.signed_in(*DEMO_ACCOUNTS["teacher"])
    message_id = await _send(demo_app, "demo.teacher", [("u", await _student_uid(demo_app))], 2)
    await DeliveryWorker(
        demo_app.bot, demo_app.db, demo_app.i18n, demo_app.settings, demo_app.clock
    ).drain()
    push = student.last_message()
    assert "📨 Новое письмо" in push.text
    assert push.buttons() == ["Открыть"]

    # Not yet: nothing is touched before the expiry.
    assert await expire_messages(_ctx(demo_app)) == 0
    demo_app.clock.advance(days=3)
    edits_before = len(demo_app.session.requests_of(EditMessageText))
    assert await expire_messages(_ctx(demo_app)) == 1
    edited = demo_app.session.chats[student.chat_id][push.message_id]
    assert edited.text == "⌛ Срок хранения сообщения «Кеңес сағаты» истёк, оно больше недоступно."
    assert edited.buttons() == []
    async with demo_app.db.read() as session:
        message = await session.get(Message, message_id)
        assert message.expiry_done_at is not None
    # Re-running edits nothing again.
    assert await expire_messages(_ctx(demo_app)) == 0
    assert len(demo_app.session.requests_of(EditMessageText)) == edits_before + 1


async def test_unsent_pushes_are_withdrawn_and_edits_resume_after_429(demo_app: App) -> None:
    demo_app.clock.set(datetime.combine(date.today(), time(12), tzinfo=TZ))
    student = await demo_app.signed_in(*DEMO_ACCOUNTS["student"])
    await demo_app.signed_in(*DEMO_ACCOUNTS["staff"])
    async with demo_app.db.read() as session:
        group_id = await session.scalar(
            select(Group.id).join(Student).join(User).where(User.login == "demo.student")
        )
    first = await _send(demo_app, "demo.staff", [("grp", group_id)], 1)
    worker = DeliveryWorker(
        demo_app.bot, demo_app.db, demo_app.i18n, demo_app.settings, demo_app.clock
    )
    await worker.drain()
    second = await _send(demo_app, "demo.staff", [("grp", group_id)], 1)  # never sent
    demo_app.clock.advance(days=2)

    # Telegram says "slow down" twice: the run stops, the first message stays unfinished.
    demo_app.session.fail(EditMessageText, error_code=429, retry_after=1, times=2)
    await expire_messages(_ctx(demo_app))
    async with demo_app.db.read() as session:
        assert (await session.get(Message, first)).expiry_done_at is None
    await expire_messages(_ctx(demo_app))
    async with demo_app.db.read() as session:
        assert (await session.get(Message, first)).expiry_done_at is not None
        assert (await session.get(Message, second)).expiry_done_at is not None
        statuses = set(
            await session.scalars(select(Delivery.status).where(Delivery.ref_id == second))
        )
    assert statuses == {DeliveryStatus.skipped}
    edited = [m for m in student.messages() if m.from_bot and m.text and "expired" in m.text]
    assert len(edited) == 1
    # The worker finds nothing left to send for the expired message.
    sent_before = len([m for m in student.messages() if m.from_bot])
    await worker.drain()
    assert len([m for m in student.messages() if m.from_bot]) == sent_before
