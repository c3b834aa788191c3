"""Demo classrooms: made from the timetable, with materials and a short conversation in the
classrooms demo.teacher has with the demo student's group."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo.context import DemoContext
from bot.demo.core import DEMO_ACCOUNTS
from bot.services import classrooms as svc
from db.models import Student, Teacher, User
from db.models.classrooms import Classroom, ClassroomMaterial, ClassroomPost, MaterialKind

# (week, topic, title, url)
MATERIALS = [
    (1, "Кіріспе / Введение", "Syllabus", "https://www.python.org/about/gettingstarted/"),
    (1, "Кіріспе / Введение", "The Python Tutorial", "https://docs.python.org/3/tutorial/"),
    (
        2,
        "Деректер құрылымы",
        "Data structures",
        "https://docs.python.org/3/tutorial/datastructures.html",
    ),
    (3, "SQL", "SQLite: SQL as understood by SQLite", "https://www.sqlite.org/lang.html"),
    (
        4,
        "Транзакциялар",
        "PostgreSQL: Transactions",
        "https://www.postgresql.org/docs/current/tutorial-transactions.html",
    ),
]

POSTS = [
    (
        True,
        "Сәлеметсіздер ме! Бірінші аптаның материалдары жүктелді. "
        "/ Материалы первой недели загружены.",
    ),
    (False, "Рахмет! Практикалық жұмысты қашан тапсыру керек?"),
    (True, "Келесі сабаққа дейін, жұма күні 18:00-ге дейін."),
]


async def seed(session: AsyncSession, ctx: DemoContext) -> None:
    periods = await svc.current_year_periods(session, ctx.today)
    await svc.sync_classrooms(session, [p.id for p in periods])
    teacher = await session.scalar(
        select(Teacher).join(User).where(User.login == DEMO_ACCOUNTS["teacher"][0])
    )
    student = await session.scalar(
        select(Student).join(User).where(User.login == DEMO_ACCOUNTS["student"][0])
    )
    if teacher is None or student is None:
        return
    rooms = list(
        await session.scalars(
            select(Classroom)
            .where(
                Classroom.teacher_id == teacher.id,
                Classroom.group_id == student.group_id,
                Classroom.period_id.in_([p.id for p in periods]),
            )
            .order_by(Classroom.id)
        )
    )
    start = datetime.combine(ctx.today - timedelta(days=10), time(9), tzinfo=UTC)
    for n, room in enumerate(rooms[:2]):
        has_any = await session.scalar(
            select(ClassroomMaterial.id).where(ClassroomMaterial.classroom_id == room.id).limit(1)
        )
        if has_any is not None:
            continue
        for i, (week, topic, title, url) in enumerate(MATERIALS[: 3 + n * 2]):
            session.add(
                ClassroomMaterial(
                    classroom_id=room.id,
                    week=week,
                    topic=topic,
                    title=title,
                    kind=MaterialKind.link,
                    url=url,
                    author_user_id=teacher.user_id,
                    created_at=start + timedelta(days=i),
                )
            )
        for i, (by_teacher, text) in enumerate(POSTS):
            session.add(
                ClassroomPost(
                    classroom_id=room.id,
                    author_user_id=teacher.user_id if by_teacher else student.user_id,
                    text=text,
                    created_at=start + timedelta(days=i, hours=2),
                )
            )
    await session.flush()
