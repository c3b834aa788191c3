"""The mailbox (§8.2), reading (§8.4), tasks and read receipts, end to end; service rules."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.demo.core import DEMO_ACCOUNTS
from bot.keyboards.messages import MailCb
from bot.services import messaging as svc
from bot.services.auth import load_viewer
from bot.services.errors import DomainError
from bot.services.messaging import Draft
from db.models import User
from db.models.messaging import Message, MessageKind, MessageRecipient, TaskState
from tests.conftest import App

TZ = ZoneInfo("Asia/Almaty")


async def _ids(app: App, *logins: str) -> list[int]:
    async with app.db.read() as session:
        return [await session.scalar(select(User.id).where(User.login == x)) for x in logins]


async def test_mailbox_counts_unread_in_bold_and_reading_marks_read(demo_app: App) -> None:
    student = await demo_app.signed_in(*DEMO_ACCOUNTS["student"])
    (student_uid,) = await _ids(demo_app, DEMO_ACCOUNTS["student"][0])
    async with demo_app.db.read() as session:
        unread = await svc.unread_counts(session, student_uid, demo_app.clock.now())
    assert unread == {"letter": 1, "task": 1, "announcement": 1}
    # The home screen says so.
    await student.send("/menu")
    assert "✉️ Unread: letters 1, tasks 1, announcements 1" in student.last_message().text

    await student.click("✉️ Messages")
    home = student.last_message()
    assert "Unread: letters 1, tasks 1, announcements 1" in home.text
    assert "<b>Курстық жұмыстың тақырыбы</b>" in home.raw_text
    await student.click("📨 Letters (1)")
    assert "<b>Курстық жұмыстың тақырыбы</b>" in student.last_message().raw_text
    await student.click("Курстық жұмыстың тақырыбы")
    letter = student.last_message().text
    assert "Status: read" in letter
    assert "From: Мұхамедиева Гүлнар Серікқызы" in letter
    assert "Subject: Курстық жұмыстың тақырыбы" in letter
    assert "Курстық жұмыстың тақырыбын осы аптаның жұмасына дейін" in letter
    assert "Expires:" in letter and "Sent:" in letter
    async with demo_app.db.read() as session:
        assert (await svc.unread_counts(session, student_uid, demo_app.clock.now()))["letter"] == 0
    await student.click("« Back")
    raw = student.last_message().raw_text
    assert "Курстық жұмыстың тақырыбы" in raw
    assert "<b>Курстық жұмыстың тақырыбы</b>" not in raw


async def test_inbox_is_paginated(demo_app: App) -> None:
    student = await demo_app.signed_in(*DEMO_ACCOUNTS["student"])
    await demo_app.signed_in(*DEMO_ACCOUNTS["teacher"])
    now = demo_app.clock.now()
    async with demo_app.db.write() as session:
        (teacher_uid, student_uid) = [
            await session.scalar(select(User.id).where(User.login == x))
            for x in (DEMO_ACCOUNTS["teacher"][0], DEMO_ACCOUNTS["student"][0])
        ]
        teacher_user = await session.get(User, teacher_uid)
        teacher = await load_viewer(session, teacher_user.telegram_id)
        for i in range(9):
            await svc.send_message(
                session,
                teacher,
                Draft(
                    kind=MessageKind.letter,
                    subject=f"Хат {i:02d}",
                    expires_on=date.today() + timedelta(days=5),
                    targets=[("u", student_uid)],
                ),
                now + timedelta(minutes=i),
                TZ,
            )
    await student.send("/messages")
    await student.click("📨 Letters (10)")
    first = student.last_message()
    assert "1/2" in first.buttons()
    assert "Хат 08" in first.text  # newest first
    assert "Хат 01" in first.text
    assert "Хат 00" not in first.text
    await student.click("›")
    second = student.last_message().text
    assert "Хат 00" in second
    assert "Курстық жұмыстың тақырыбы" in second
    assert "Хат 08" not in second


async def test_task_execution_reply_and_board(demo_app: App) -> None:
    student = await demo_app.signed_in(*DEMO_ACCOUNTS["student"])
    teacher = await demo_app.signed_in(*DEMO_ACCOUNTS["teacher"])
    await student.send("/messages")
    await student.click("📋 Tasks (1)")
    await student.click("Зертханалық жұмыс №3")
    assert "My execution: received" in student.last_message().text
    await student.click("▶️ In progress")
    assert "My execution: in progress" in student.last_message().text
    await student.click("💬 Reply to the task")
    await student.send("x" * 1001)
    assert "at most 1000 characters" in student.last_message().text
    await student.send("ER-диаграмма дайын, SQL жазып жатырмын.")
    assert "reply is saved" in student.last_message().text
    await student.click("Open the task")
    await student.click("✅ Done")
    assert "My execution: done" in student.last_message().text
    assert "My reply: ER-диаграмма дайын" in student.last_message().text

    await teacher.send("/messages")
    await teacher.click("📋 Tasks")
    await teacher.click("📤 Outbox")
    await teacher.click("Зертханалық жұмыс №3")
    assert "done: 1" in teacher.last_message().text
    await teacher.click("📊 Who is where")
    board = teacher.last_message().text
    assert "Қасымов Әлихан Ұлықбекұлы — read" in board
    assert "· done" in board
    assert "💬 ER-диаграмма дайын, SQL жазып жатырмын." in board
    await teacher.click("« Back")
    await teacher.click("🔒 Close the task")
    assert "Task status: closed" in teacher.last_message().text

    # A closed task keeps its statuses; a stale button of the student is refused.
    task_id = await _task_id(demo_app)
    await student.click_data(MailCb(a="st", id=task_id, f="p").pack())
    assert "closed this task" in student.last_answer().text
    async with demo_app.db.read() as session:
        state = await session.scalar(
            select(MessageRecipient.task_state)
            .join(User, User.id == MessageRecipient.user_id)
            .where(MessageRecipient.message_id == task_id, User.login == "demo.student")
        )
    assert state == TaskState.done


async def _task_id(app: App) -> int:
    async with app.db.read() as session:
        return await session.scalar(select(Message.id).where(Message.kind == MessageKind.task))


async def test_forged_presses_change_nothing(demo_app: App) -> None:
    student = await demo_app.signed_in(*DEMO_ACCOUNTS["student"])
    staff = await demo_app.signed_in(*DEMO_ACCOUNTS["staff"])
    task_id = await _task_id(demo_app)
    # The staff member is no recipient of the teacher's task: cannot open it, nor mark it.
    await staff.click_data(MailCb(a="open", id=task_id).pack())
    assert "not available" in staff.last_answer().text
    await staff.click_data(MailCb(a="st", id=task_id, f="d").pack())
    assert "not available" in staff.last_answer().text
    # The student is no sender: cannot close the task or see the board.
    await student.click_data(MailCb(a="ts", id=task_id, f="c").pack())
    assert "not available" in student.last_answer().text
    await student.click_data(MailCb(a="rr", id=task_id).pack())
    assert "not available" in student.last_answer().text
    await student.click_data(MailCb(a="box", k="z", f="i").pack())
    assert "not available" in student.last_answer().text
    async with demo_app.db.read() as session:
        done = await session.scalar(
            select(func.count()).where(
                MessageRecipient.message_id == task_id,
                MessageRecipient.task_state != TaskState.received,
            )
        )
        status = await session.scalar(select(Message.task_status).where(Message.id == task_id))
    assert done == 0
    assert status.value == "open"


async def test_expired_message_leaves_the_mailbox(demo_app: App) -> None:
    student = await demo_app.signed_in(*DEMO_ACCOUNTS["student"])
    async with demo_app.db.read() as session:
        letter_id = await session.scalar(
            select(Message.id).where(Message.kind == MessageKind.letter)
        )
    demo_app.clock.advance(days=40)
    await student.send("/messages")
    assert "No unread messages." in student.last_message().text
    await student.click("📨 Letters")
    assert "Nothing here." in student.last_message().text
    await student.click_data(MailCb(a="open", id=letter_id).pack())
    assert "expired" in student.last_answer().text


def test_expiry_rules() -> None:
    now = datetime.combine(date(2026, 3, 1), time(10), tzinfo=TZ)
    assert svc.parse_expiry("31.03.2026", now, TZ) == date(2026, 3, 31)
    assert svc.parse_expiry("2026-03-05", now, TZ) == date(2026, 3, 5)
    assert svc.parse_expiry("7", now, TZ) == date(2026, 3, 8)
    with pytest.raises(DomainError) as far:
        svc.parse_expiry("01.04.2026", now, TZ)
    assert far.value.code == "expiry_far"
    with pytest.raises(DomainError) as past:
        svc.parse_expiry("28.02.2026", now, TZ)
    assert past.value.code == "expiry_past"
    with pytest.raises(DomainError) as bad:
        svc.parse_expiry("soon", now, TZ)
    assert bad.value.code == "expiry_format"
    # Readable through the whole expiry day in the university's time zone.
    moment = svc.expiry_moment(date(2026, 3, 31), TZ)
    assert moment.astimezone(TZ) == datetime.combine(date(2026, 4, 1), time(0), tzinfo=TZ)
    assert svc.last_day(moment, TZ) == date(2026, 3, 31)


def test_subject_and_body_limits() -> None:
    assert svc.check_subject("  Сессия   кестесі ") == "Сессия кестесі"
    for bad in ("", "   ", "x" * 201):
        with pytest.raises(DomainError):
            svc.check_subject(bad)
    assert len(svc.check_body("ж" * 4000)) == 4000
    with pytest.raises(DomainError):
        svc.check_body("ж" * 4001)


async def test_search_is_case_insensitive_in_kazakh_and_russian(demo_app: App) -> None:
    await demo_app.signed_in(*DEMO_ACCOUNTS["teacher"])
    async with demo_app.db.read() as session:
        teacher_user = await session.scalar(
            select(User).where(User.login == DEMO_ACCOUNTS["teacher"][0])
        )
        teacher = await load_viewer(session, teacher_user.telegram_id)
        now = demo_app.clock.now()
        for query in ("ҚАСЫМОВ", "қасымов әлихан", "Әлихан", "DEMO.STUDENT"):
            found = await svc.search_people(session, teacher, query, now)
            assert any("Қасымов Әлихан" in label for _, label in found), query
        volkova = await svc.search_people(session, teacher, "волкова", now)
        labels = [label for _, label in volkova]
        assert "Волкова Елена Викторовна" in labels
        assert all(label.startswith("Волкова") for label in labels)
        assert await svc.search_people(session, teacher, "%", now) == []
        assert await svc.search_people(session, teacher, "Мұхамедиева", now) == []  # herself


async def test_task_board_totals_filters_and_people_without_telegram(demo_app: App) -> None:
    student = await demo_app.signed_in(*DEMO_ACCOUNTS["student"])
    teacher = await demo_app.signed_in(*DEMO_ACCOUNTS["teacher"])
    await student.send("/messages")
    await student.click("📋 Tasks (1)")
    await student.click("Зертханалық жұмыс №3")
    await student.click("▶️ In progress")
    task_id = await _task_id(demo_app)
    async with demo_app.db.write() as session:
        # One more classmate has Telegram (and has not started).
        other = await session.scalar(
            select(User)
            .join(MessageRecipient, MessageRecipient.user_id == User.id)
            .where(MessageRecipient.message_id == task_id, User.telegram_id.is_(None))
            .limit(1)
        )
        other.telegram_id = 777_001
    async with demo_app.db.read() as session:
        rows = (
            await session.execute(
                select(User.telegram_id.is_(None), func.count())
                .join(MessageRecipient, MessageRecipient.user_id == User.id)
                .where(MessageRecipient.message_id == task_id)
                .group_by(User.telegram_id.is_(None))
            )
        ).all()
    unreachable = dict(rows).get(True, 0)
    total = sum(n for _, n in rows)
    assert unreachable >= 1 and total >= unreachable + 2

    await teacher.send("/messages")
    await teacher.click("📋 Tasks")
    await teacher.click("📤 Outbox")
    await teacher.click("Зертханалық жұмыс №3")
    await teacher.click("📊 Who is where")
    board = teacher.last_message().text
    head = board.split("\n\n")[0]
    assert f"Recipients: {total}" in head
    assert f"📵 no Telegram: {unreachable}" in head
    assert f"📥 received: {total - unreachable - 1}" in head
    assert "▶️ in progress: 1" in head and "✅ done: 0" in head
    assert board.count("no Telegram: tell them in person") == min(unreachable, 20)
    assert f"• All: {total}" in teacher.buttons()

    await teacher.click("▶️ 1")
    board = teacher.last_message().text
    assert "Shown: in progress" in board
    assert "Қасымов Әлихан Ұлықбекұлы — read" in board and "· in progress" in board
    assert "no Telegram: tell them in person" not in board
    assert "• ▶️ 1" in teacher.buttons()

    await teacher.click(f"📵 {unreachable}")
    board = teacher.last_message().text
    assert board.count("📵 ") == min(unreachable, 20) + 1  # the rows and the totals line
    assert "Қасымов" not in board
    # A forged filter code is refused with a clear answer.
    await teacher.click_data(MailCb(a="tb", id=task_id, f="x").pack())
    assert "not available" in teacher.last_answer().text
