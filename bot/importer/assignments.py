"""Teaching assignments: who teaches a discipline to a group in a period.

Columns: teacher* (преподаватель / оқытушы, a login), discipline* (дисциплина / пән, a code),
group* (группа / топ), period* (период / кезең, a period code), class_kind (вид занятия /
сабақ түрі: lecture, practice, lab, srs, srop).

Without a class kind the teacher becomes the responsible teacher of every student's enrolment
(enrolments are created for students who have none) and the teacher of the group's classes of
that discipline that have none yet; with a class kind, the teacher of the timetable classes of
that kind (and nothing else).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer import refs
from bot.importer.base import Column, ImportContext, Kind, Row, choice
from bot.importer.common import CHUNK
from db.models import Student
from db.models.academic import ClassKind, Enrolment, TimetableSlot

CLASS_KINDS = {
    "lecture": ClassKind.lecture,
    "лекция": ClassKind.lecture,
    "дәріс": ClassKind.lecture,
    "practice": ClassKind.practice,
    "практика": ClassKind.practice,
    "практическое": ClassKind.practice,
    "практикалық": ClassKind.practice,
    "семинар": ClassKind.practice,
    "lab": ClassKind.lab,
    "лабораторная": ClassKind.lab,
    "зертханалық": ClassKind.lab,
    "srs": ClassKind.srs,
    "срс": ClassKind.srs,
    "сро": ClassKind.srs,
    "сөж": ClassKind.srs,
    "srop": ClassKind.srop,
    "срсп": ClassKind.srop,
    "сроп": ClassKind.srop,
    "соөж": ClassKind.srop,
}

CLASS_KIND = Column("class_kind", "class_kind", "вид занятия", "сабақ түрі", choice(CLASS_KINDS))
COLUMNS = (
    refs.Column("teacher", "teacher", "преподаватель", "оқытушы", refs.login, required=True),
    refs.DISCIPLINE,
    refs.GROUP,
    refs.PERIOD,
    CLASS_KIND,
)


async def apply(session: AsyncSession, rows: list[Row], ctx: ImportContext) -> None:
    teachers = await refs.teachers(session, (r.get("teacher") for r in rows))
    disciplines = await refs.disciplines(session, (r.get("discipline") for r in rows))
    groups = await refs.groups(session, (r.get("group") for r in rows))
    periods = await refs.periods(session, (r.get("period") for r in rows))
    for row in rows:
        for column, found in (
            ("teacher", teachers),
            ("discipline", disciplines),
            ("group", groups),
            ("period", periods),
        ):
            if row.get(column) not in found:
                ctx.refuse(row, column, f"unknown_{column}")
    good = [r for r in rows if not ctx.refused(r)]
    group_ids = sorted({groups[r.get("group")] for r in good})
    members: dict[int, list[int]] = defaultdict(list)
    for start in range(0, len(group_ids), CHUNK):
        for student_id, group_id in await session.execute(
            select(Student.id, Student.group_id).where(
                Student.group_id.in_(group_ids[start : start + CHUNK])
            )
        ):
            members[group_id].append(student_id)
    for row in good:
        teacher_id = teachers[row.get("teacher")]
        discipline_id = disciplines[row.get("discipline")]
        group_id = groups[row.get("group")]
        period_id = periods[row.get("period")]
        kind = row.get("class_kind")
        created = changed = 0
        if kind is None:
            enrolments = {
                e.student_id: e
                for e in await session.scalars(
                    select(Enrolment).where(
                        Enrolment.discipline_id == discipline_id,
                        Enrolment.period_id == period_id,
                        Enrolment.student_id.in_(members[group_id] or [-1]),
                    )
                )
            }
            for student_id in members[group_id]:
                enrolment = enrolments.get(student_id)
                if enrolment is None:
                    session.add(
                        Enrolment(
                            student_id=student_id,
                            discipline_id=discipline_id,
                            period_id=period_id,
                            teacher_id=teacher_id,
                            updated_at=ctx.now,
                        )
                    )
                    created += 1
                elif enrolment.teacher_id != teacher_id:
                    enrolment.teacher_id = teacher_id
                    changed += 1
        slots = select(TimetableSlot).where(
            TimetableSlot.group_id == group_id,
            TimetableSlot.discipline_id == discipline_id,
            TimetableSlot.period_id == period_id,
        )
        if kind is not None:
            slots = slots.where(TimetableSlot.kind == kind)
        else:
            slots = slots.where(TimetableSlot.teacher_id.is_(None))
        for slot in await session.scalars(slots):
            if slot.teacher_id != teacher_id:
                slot.teacher_id = teacher_id
                changed += 1
        label = f"{row.get('teacher')} · {row.get('discipline')} · {row.get('group')}"
        if created and not changed:
            ctx.created(row, label)
        elif created or changed:
            ctx.updated(row, label, ["teacher"])
        else:
            ctx.unchanged(row)
    await session.flush()


KIND = Kind(
    "assignments",
    COLUMNS,
    apply,
    key=("discipline", "group", "period", "class_kind"),
)
