"""Academic calendars (§4.4): the university's calendars and the one assigned to a student.

A calendar names the programme, year of study and form of study it is for; an empty criterion
matches every value. A student's calendar is the matching one of the academic year with the most
criteria filled in, so a programme's own calendar wins over the university-wide one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from db.models import Group, Student
from db.models.academic import AcademicCalendar, CalendarEvent


def academic_year_of(today: date) -> str:
    """ "2026-2027" for any day from August 2026 to July 2027."""
    start = today.year if today.month >= 8 else today.year - 1
    return f"{start}-{start + 1}"


def _specificity(calendar: AcademicCalendar) -> int:
    return sum(
        value is not None
        for value in (calendar.programme_id, calendar.course, calendar.study_form_id)
    )


async def calendar_for_student(
    session: AsyncSession, student_id: int, academic_year: str
) -> AcademicCalendar | None:
    student = await session.scalar(
        select(Student).where(Student.id == student_id).options(joinedload(Student.group))
    )
    if student is None:
        return None
    group: Group = student.group
    candidates = list(
        await session.scalars(
            select(AcademicCalendar)
            .where(
                AcademicCalendar.academic_year == academic_year,
                or_(
                    AcademicCalendar.programme_id.is_(None),
                    AcademicCalendar.programme_id == group.programme_id,
                ),
                or_(AcademicCalendar.course.is_(None), AcademicCalendar.course == group.course),
                or_(
                    AcademicCalendar.study_form_id.is_(None),
                    AcademicCalendar.study_form_id == group.study_form_id,
                ),
            )
            .options(selectinload(AcademicCalendar.events))
            .order_by(AcademicCalendar.id)
        )
    )
    if not candidates:
        return None
    return max(candidates, key=_specificity)


async def list_calendars(session: AsyncSession, academic_year: str) -> list[AcademicCalendar]:
    """The university's calendars of the academic year."""
    return list(
        await session.scalars(
            select(AcademicCalendar)
            .where(AcademicCalendar.academic_year == academic_year)
            .order_by(AcademicCalendar.course.nulls_first(), AcademicCalendar.code)
        )
    )


async def calendar_with_events(session: AsyncSession, calendar_id: int) -> AcademicCalendar | None:
    return await session.scalar(
        select(AcademicCalendar)
        .where(AcademicCalendar.id == calendar_id)
        .options(selectinload(AcademicCalendar.events))
    )


@dataclass(frozen=True, slots=True)
class Upcoming:
    event: CalendarEvent
    days_left: int  # 0 today, negative when it has started and is still going on

    @property
    def ongoing(self) -> bool:
        return self.days_left <= 0


def upcoming(events: list[CalendarEvent], today: date, limit: int = 8) -> list[Upcoming]:
    """Events not over yet, the soonest first."""
    coming = [
        Upcoming(event, (event.starts_on - today).days)
        for event in events
        if event.ends_on >= today
    ]
    coming.sort(key=lambda u: (u.event.starts_on, u.event.ends_on, u.event.id))
    return coming[:limit]
