"""Demo messages: a letter and a task from the demo teacher, an announcement from the office."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo.context import DemoContext
from bot.demo.core import DEMO_ACCOUNTS
from bot.services.messaging import Target, expiry_moment
from db.models import Student, User
from db.models.messaging import (
    Message,
    MessageKind,
    MessageRecipient,
    TaskState,
    TaskStatus,
)

LETTER_BODY = (
    "Қайырлы күн, Әлихан!\n\n"
    "Курстық жұмыстың тақырыбын осы аптаның жұмасына дейін бекітіп алыңыз. "
    "Тақырыптар тізімі кафедраның стендінде ілулі.\n\n"
    "Құрметпен, Г. С. Мұхамедиева"
)
TASK_BODY = (
    "Зертханалық жұмыс №3: «Деректер қорын жобалау». ER-диаграмма мен SQL-скриптті "
    "PDF түрінде тапсырыңыз. Орындаған соң мәртебені «Орындалды» деп белгілеңіз."
)
ANNOUNCEMENT_BODY = (
    "Құрметті білім алушылар!\n\n"
    "Аралық бақылау аптасы келесі дүйсенбіден басталады. Кесте ААЖ-да жарияланды. "
    "Сұрақтар бойынша тіркеу офисіне (101-кабинет) хабарласыңыз."
)


async def _user_id(session: AsyncSession, login: str) -> int | None:
    return await session.scalar(select(User.id).where(User.login == login))


async def _message(
    session: AsyncSession,
    ctx: DemoContext,
    token: str,
    sender_id: int,
    kind: MessageKind,
    subject: str,
    body: str,
    audience: list[list[object]],
    recipients: list[int],
    days_ago: int,
    read_by: set[int],
) -> None:
    if await session.scalar(
        select(Message.id).where(Message.sender_id == sender_id, Message.draft_token == token)
    ):
        return
    sent = datetime.combine(ctx.today - timedelta(days=days_ago), time(9, 30), tzinfo=ctx.tz)
    message = Message(
        kind=kind,
        sender_id=sender_id,
        subject=subject,
        body=body,
        audience=audience,
        recipients_count=len(recipients),
        task_status=TaskStatus.open if kind == MessageKind.task else None,
        created_at=sent,
        expires_at=expiry_moment(ctx.today + timedelta(days=25), ctx.tz),
        draft_token=token,
        # Seeded without pushes: there is no broadcast to report on.
        summary_sent_at=sent if kind == MessageKind.announcement else None,
    )
    session.add(message)
    await session.flush()
    state = TaskState.received if kind == MessageKind.task else None
    rows = [
        {
            "message_id": message.id,
            "user_id": uid,
            "task_state": state,
            "read_at": sent + timedelta(hours=2) if uid in read_by else None,
        }
        for uid in recipients
    ]
    if rows:
        await session.execute(insert(MessageRecipient), rows)


async def seed(session: AsyncSession, ctx: DemoContext) -> None:
    teacher_id = await _user_id(session, DEMO_ACCOUNTS["teacher"][0])
    staff_id = await _user_id(session, DEMO_ACCOUNTS["staff"][0])
    student_id = await _user_id(session, DEMO_ACCOUNTS["student"][0])
    if teacher_id is None or staff_id is None or student_id is None:
        return
    group_id = await session.scalar(select(Student.group_id).where(Student.user_id == student_id))
    group_mates = list(
        await session.scalars(select(Student.user_id).where(Student.group_id == group_id))
    )
    all_students = list(
        await session.scalars(select(Student.user_id).where(Student.status == "active"))
    )
    others = {uid for uid in group_mates if uid != student_id}
    await _message(
        session,
        ctx,
        "demo-letter",
        teacher_id,
        MessageKind.letter,
        "Курстық жұмыстың тақырыбы",
        LETTER_BODY,
        [[Target.person.value, student_id]],
        [student_id],
        1,
        set(),
    )
    await _message(
        session,
        ctx,
        "demo-task",
        teacher_id,
        MessageKind.task,
        "Зертханалық жұмыс №3",
        TASK_BODY,
        [[Target.group.value, group_id]],
        group_mates,
        2,
        set(list(others)[:3]),
    )
    await _message(
        session,
        ctx,
        "demo-announcement",
        staff_id,
        MessageKind.announcement,
        "Аралық бақылау аптасы",
        ANNOUNCEMENT_BODY,
        [[Target.students.value, 0]],
        all_students,
        3,
        set(all_students[::2]) - {student_id},
    )
