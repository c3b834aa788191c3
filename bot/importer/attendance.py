"""Attendance: whether a student was at a class of the timetable on a date.

Columns: student* (студент: a login or a student number), discipline* (дисциплина / пән),
period* (период / кезең), date* (дата / күні), starts_at (начало / басталуы: needed when the
group has two classes of the discipline that day), present* (присутствовал / қатысты: yes/no,
1/0, +/-, да/нет, иә/жоқ, н for an absence).

The class is found in the timetable of the student's group; absences that reach the limit queue
the same warning as the teacher's journal does.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer import refs
from bot.importer.base import Column, ImportContext, Kind, Row, a_date, a_time, boolean
from bot.importer.common import CHUNK
from bot.services import journal
from bot.services.timetable import parity_of
from db.models import AcademicPeriod
from db.models.academic import AttendanceMark, ClassMeeting, TimetableSlot, WeekParity

COLUMNS = (
    refs.STUDENT,
    refs.DISCIPLINE,
    refs.PERIOD,
    Column("date", "date", "дата", "күні", a_date, required=True),
    Column("starts_at", "starts_at", "начало", "басталуы", a_time),
    Column("present", "present", "присутствовал", "қатысты", boolean, required=True),
)


async def apply(session: AsyncSession, rows: list[Row], ctx: ImportContext) -> None:
    students = await refs.students(session, (r.get("student") for r in rows))
    disciplines = await refs.disciplines(session, (r.get("discipline") for r in rows))
    periods = await refs.periods(session, (r.get("period") for r in rows))
    for row in rows:
        if refs.find_student(students, row.get("student")) is None:
            ctx.refuse(row, "student", "unknown_student")
        if row.get("discipline") not in disciplines:
            ctx.refuse(row, "discipline", "unknown_discipline")
        if row.get("period") not in periods:
            ctx.refuse(row, "period", "unknown_period")
    good = [r for r in rows if not ctx.refused(r)]
    period_rows = {
        p.id: p
        for p in await session.scalars(
            select(AcademicPeriod).where(AcademicPeriod.id.in_(sorted(set(periods.values()))))
        )
    }
    group_ids = sorted({s.group_id for s in students.values()})
    slots: dict[tuple[int, int, int, int], list[TimetableSlot]] = defaultdict(list)
    for start in range(0, len(group_ids), CHUNK):
        for slot in await session.scalars(
            select(TimetableSlot).where(
                TimetableSlot.group_id.in_(group_ids[start : start + CHUNK])
            )
        ):
            slots[(slot.group_id, slot.discipline_id, slot.period_id, slot.weekday)].append(slot)
    meetings: dict[tuple[int, object], int] = {}
    for row in good:
        student = refs.find_student(students, row.get("student"))
        assert student is not None
        on = row.get("date")
        period = period_rows[periods[row.get("period")]]
        if not period.starts_on <= on <= period.ends_on:
            ctx.refuse(row, "date", "outside_period")
            continue
        parity = parity_of(period, on)
        candidates = [
            s
            for s in slots[
                (
                    student.group_id,
                    disciplines[row.get("discipline")],
                    periods[row.get("period")],
                    on.weekday(),
                )
            ]
            if s.week_parity in (WeekParity.all, parity)
            and (row.get("starts_at") is None or s.starts_at == row.get("starts_at"))
        ]
        if not candidates:
            ctx.refuse(row, "date", "no_class")
            continue
        if len({s.starts_at for s in candidates}) > 1:
            ctx.refuse(row, "starts_at", "ambiguous_class")
            continue
        slot = candidates[0]
        meeting_id = meetings.get((slot.id, on))
        if meeting_id is None:
            meeting_id = await session.scalar(
                select(ClassMeeting.id).where(
                    ClassMeeting.slot_id == slot.id, ClassMeeting.on_date == on
                )
            )
            if meeting_id is None:
                meeting = ClassMeeting(slot_id=slot.id, on_date=on)
                session.add(meeting)
                await session.flush()
                meeting_id = meeting.id
            meetings[(slot.id, on)] = meeting_id
        before = await session.scalar(
            select(AttendanceMark.present).where(
                AttendanceMark.meeting_id == meeting_id, AttendanceMark.student_id == student.id
            )
        )
        changed = await journal.mark_attendance(
            session,
            meeting_id=meeting_id,
            student_id=student.id,
            present=row.get("present"),
            source="import",
            now=ctx.now,
        )
        label = f"{row.get('student')} · {row.get('discipline')} · {on.isoformat()}"
        if not changed:
            ctx.unchanged(row)
        elif before is None:
            ctx.created(row, label)
        else:
            ctx.updated(row, label, ["present"])


KIND = Kind(
    "attendance", COLUMNS, apply, key=("student", "discipline", "period", "date", "starts_at")
)
