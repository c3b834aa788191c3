"""The student's profile (§12): personal data on record."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from db.models import Group, Programme, Student, Teacher


async def student_profile(session: AsyncSession, student_id: int) -> Student | None:
    """The student with the group, programme, faculty, form of study and advisor loaded."""
    return await session.scalar(
        select(Student)
        .where(Student.id == student_id)
        .options(
            joinedload(Student.user),
            joinedload(Student.group).joinedload(Group.programme).joinedload(Programme.faculty),
            joinedload(Student.group).joinedload(Group.study_form),
            joinedload(Student.advisor).joinedload(Teacher.user),
        )
    )
