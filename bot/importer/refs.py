"""Columns that name other things (a group, a discipline, a period, a teacher, a student) and
their look-ups, one query per table for a whole file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer.base import Column, code, login
from bot.importer.common import CHUNK, id_map
from db.models import AcademicPeriod, Discipline, Group, Student, Teacher, User

GROUP = Column("group", "group", "группа", "топ", code(32), required=True)
DISCIPLINE = Column("discipline", "discipline", "дисциплина", "пән", code(32), required=True)
PERIOD = Column(
    "period", "period", "период", "кезең", code(32), required=True, aliases=("term code",)
)
TEACHER = Column("teacher", "teacher", "преподаватель", "оқытушы", login)
STUDENT = Column(
    "student",
    "student",
    "студент",
    "студент",
    code(64),
    required=True,
    note="login or student number",
)


async def groups(session: AsyncSession, codes: Iterable[str | None]) -> dict[str, int]:
    return await id_map(session, Group.code, codes, Group.id)


async def disciplines(session: AsyncSession, codes: Iterable[str | None]) -> dict[str, int]:
    return await id_map(session, Discipline.code, codes, Discipline.id)


async def periods(session: AsyncSession, codes: Iterable[str | None]) -> dict[str, int]:
    return await id_map(session, AcademicPeriod.code, codes, AcademicPeriod.id)


async def teachers(session: AsyncSession, logins: Iterable[str | None]) -> dict[str, int]:
    wanted = sorted({v for v in logins if v})
    found: dict[str, int] = {}
    for start in range(0, len(wanted), CHUNK):
        rows = await session.execute(
            select(User.login, Teacher.id)
            .join(Teacher, Teacher.user_id == User.id)
            .where(User.login.in_(wanted[start : start + CHUNK]))
        )
        found.update({name: ident for name, ident in rows})
    return found


@dataclass(frozen=True, slots=True)
class StudentRef:
    id: int
    user_id: int
    group_id: int


async def students(session: AsyncSession, keys: Iterable[str | None]) -> dict[str, StudentRef]:
    """Students by login (case-insensitive) or by student number, whichever the file uses."""
    wanted = sorted({v for v in keys if v})
    found: dict[str, StudentRef] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        lowered = [v.lower() for v in chunk]
        rows = await session.execute(
            select(User.login, Student.student_no, Student.id, Student.user_id, Student.group_id)
            .join(User, User.id == Student.user_id)
            .where(or_(User.login.in_(lowered), Student.student_no.in_(chunk)))
        )
        for user_login, number, ident, user_id, group_id in rows:
            ref = StudentRef(ident, user_id, group_id)
            found[user_login] = ref
            found[number] = ref
    return found


def find_student(found: dict[str, StudentRef], value: str | None) -> StudentRef | None:
    if not value:
        return None
    return found.get(value) or found.get(value.lower())
