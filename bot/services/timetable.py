"""The timetable (§4.3): weekly classes, numerator/denominator weeks, class meetings, `.ics`.

A slot with `week_parity` odd runs in the odd weeks of its period (the numerator), even in the
even ones (the denominator). Weeks are counted from the Monday of the week the period starts in,
so the first week of a period is always odd.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.services.ics import ClassEvent, build_week_ics
from db.models import AcademicPeriod, Teacher
from db.models.academic import ClassMeeting, TimetableSlot, WeekParity


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_number(period: AcademicPeriod, day: date) -> int:
    """1 for the week the period starts in, 2 for the next one..."""
    return (monday_of(day) - monday_of(period.starts_on)).days // 7 + 1


def parity_of(period: AcademicPeriod, day: date) -> WeekParity:
    return WeekParity.odd if week_number(period, day) % 2 == 1 else WeekParity.even


def runs_on(slot: TimetableSlot, period: AcademicPeriod, day: date) -> bool:
    """Whether the weekly slot has a class on this date."""
    if not period.starts_on <= day <= period.ends_on or slot.weekday != day.weekday():
        return False
    return slot.week_parity == WeekParity.all or slot.week_parity == parity_of(period, day)


@dataclass(frozen=True, slots=True)
class ClassItem:
    slot: TimetableSlot
    on_date: date

    @property
    def teacher_name(self) -> str | None:
        teacher = self.slot.teacher
        return teacher.user.short_name if teacher is not None else None


async def periods_between(session: AsyncSession, first: date, last: date) -> list[AcademicPeriod]:
    return list(
        await session.scalars(
            select(AcademicPeriod).where(
                AcademicPeriod.starts_on <= last, AcademicPeriod.ends_on >= first
            )
        )
    )


async def classes_between(
    session: AsyncSession,
    first: date,
    last: date,
    *,
    group_id: int | None = None,
    teacher_id: int | None = None,
) -> dict[date, list[ClassItem]]:
    """Classes of a group or of a teacher on each day from `first` to `last` (inclusive)."""
    if (group_id is None) == (teacher_id is None):
        raise ValueError("give exactly one of group_id and teacher_id")
    periods = {p.id: p for p in await periods_between(session, first, last)}
    days: dict[date, list[ClassItem]] = {
        first + timedelta(days=n): [] for n in range((last - first).days + 1)
    }
    if not periods:
        return days
    query = (
        select(TimetableSlot)
        .where(TimetableSlot.period_id.in_(periods))
        .options(
            joinedload(TimetableSlot.discipline),
            joinedload(TimetableSlot.group),
            joinedload(TimetableSlot.teacher).joinedload(Teacher.user),
        )
    )
    if group_id is not None:
        query = query.where(TimetableSlot.group_id == group_id)
    else:
        query = query.where(TimetableSlot.teacher_id == teacher_id)
    slots = list(await session.scalars(query))
    for day, items in days.items():
        for slot in slots:
            if runs_on(slot, periods[slot.period_id], day):
                items.append(ClassItem(slot, day))
        items.sort(key=lambda item: (item.slot.starts_at, item.slot.group_id))
    return days


async def week_parity(session: AsyncSession, monday: date) -> WeekParity | None:
    """Odd or even for the week starting on `monday` (None outside every period)."""
    periods = await periods_between(session, monday, monday + timedelta(days=6))
    if not periods:
        return None
    period = max(periods, key=lambda p: p.starts_on)
    return parity_of(period, max(monday, period.starts_on))


async def planned_classes(
    session: AsyncSession, group_id: int, discipline_id: int, period_id: int
) -> int:
    """How many classes of the discipline the group's timetable holds in the whole period."""
    period = await session.get(AcademicPeriod, period_id)
    if period is None:
        return 0
    slots = list(
        await session.scalars(
            select(TimetableSlot).where(
                TimetableSlot.group_id == group_id,
                TimetableSlot.discipline_id == discipline_id,
                TimetableSlot.period_id == period_id,
            )
        )
    )
    if not slots:
        return 0
    total = 0
    day = period.starts_on
    while day <= period.ends_on:
        total += sum(1 for slot in slots if runs_on(slot, period, day))
        day += timedelta(days=1)
    return total


async def meeting_for(session: AsyncSession, slot_id: int, on_date: date) -> ClassMeeting:
    """The meeting of a slot on a date, created on first use (safe against a concurrent twin)."""
    query = select(ClassMeeting).where(
        ClassMeeting.slot_id == slot_id, ClassMeeting.on_date == on_date
    )
    found = await session.scalar(query)
    if found is not None:
        return found
    meeting = ClassMeeting(slot_id=slot_id, on_date=on_date)
    try:
        async with session.begin_nested():
            session.add(meeting)
    except IntegrityError:
        found = await session.scalar(query)
        if found is None:
            raise
        return found
    return meeting


async def slot_on(
    session: AsyncSession, slot_id: int, on_date: date
) -> tuple[TimetableSlot, AcademicPeriod] | None:
    """The slot if it really has a class on that date (checks forged dates), else None."""
    slot = await session.scalar(
        select(TimetableSlot)
        .where(TimetableSlot.id == slot_id)
        .options(joinedload(TimetableSlot.discipline), joinedload(TimetableSlot.group))
    )
    if slot is None:
        return None
    period = await session.get(AcademicPeriod, slot.period_id)
    if period is None or not runs_on(slot, period, on_date):
        return None
    return slot, period


def week_ics(
    items: list[ClassItem],
    *,
    tz: ZoneInfo,
    calendar_name: str,
    summary: dict[int, str],
    description: dict[int, str],
    stamp: datetime,
) -> bytes:
    """The week as an iCalendar file; `summary`/`description` map slot ids to ready texts."""
    events = [
        ClassEvent(
            uid=f"slot{item.slot.id}-{item.on_date.isoformat()}",
            start=datetime.combine(item.on_date, item.slot.starts_at, tzinfo=tz),
            end=datetime.combine(item.on_date, item.slot.ends_at, tzinfo=tz),
            summary=summary[item.slot.id],
            location=item.slot.room,
            description=description.get(item.slot.id),
        )
        for item in items
    ]
    return build_week_ics(events, tz.key, calendar_name, stamp=stamp)
