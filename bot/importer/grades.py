"""Grades: current marks, midterms (рубежный контроль / аралық бақылау) and exams.

Columns: student* (студент: a login or a student number), discipline* (дисциплина / пән),
period* (период / кезең), control* (контроль / бақылау: midterm1 = РК1 / АБ1, midterm2 = РК2 /
АБ2, exam = экзамен / емтихан, current = текущий / ағымдағы), value* (оценка / баға, 0-100),
date (дата / күні: required for a current mark), work_kind (вид работы / жұмыс түрі: lecture,
practice, lab, srs, srop, test; practice when empty).

A midterm or exam is matched by student + discipline + period + control; a current mark also by
its date and kind of work. Every changed mark queues the student's grade notification, as the
journal does; a whole file is applied with a few queries per 500 rows, not per row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer import refs
from bot.importer.base import Column, ImportContext, Kind, Row, a_date, choice, mark
from bot.importer.common import CHUNK
from bot.services import grading, journal
from bot.services.notify import NoticeKind
from db.models import Discipline
from db.models.academic import CurrentMark, Enrolment, WorkKind
from db.models.delivery import Delivery, DeliveryStatus, NotificationSettings

CONTROLS = {
    "midterm1": "midterm1",
    "рк1": "midterm1",
    "рк 1": "midterm1",
    "аб1": "midterm1",
    "аб 1": "midterm1",
    "midterm2": "midterm2",
    "рк2": "midterm2",
    "рк 2": "midterm2",
    "аб2": "midterm2",
    "аб 2": "midterm2",
    "exam": "exam",
    "экзамен": "exam",
    "емтихан": "exam",
    "current": "current",
    "текущий": "current",
    "текущая": "current",
    "ағымдағы": "current",
}
WORK_KINDS = {
    **{k.value: k for k in WorkKind},
    "лекция": WorkKind.lecture,
    "дәріс": WorkKind.lecture,
    "практика": WorkKind.practice,
    "практикалық": WorkKind.practice,
    "лабораторная": WorkKind.lab,
    "зертханалық": WorkKind.lab,
    "срс": WorkKind.srs,
    "сро": WorkKind.srs,
    "сөж": WorkKind.srs,
    "срсп": WorkKind.srop,
    "сроп": WorkKind.srop,
    "соөж": WorkKind.srop,
    "тест": WorkKind.test,
}

COLUMNS = (
    refs.STUDENT,
    refs.DISCIPLINE,
    refs.PERIOD,
    Column("control", "control", "контроль", "бақылау", choice(CONTROLS), required=True),
    Column("value", "value", "оценка", "баға", mark, required=True, aliases=("mark",)),
    Column("date", "date", "дата", "күні", a_date),
    Column("work_kind", "work_kind", "вид работы", "жұмыс түрі", choice(WORK_KINDS)),
)
SOURCE = "import"


@dataclass
class _Enrolment:
    id: int | None
    student_id: int
    user_id: int
    discipline_id: int
    period_id: int
    marks: dict[str, Decimal | None]
    # (control, old, new) in file order, for the notifications.
    changes: list[tuple[str, Decimal | None, Decimal | None]]
    new_current: list[Decimal]
    dirty: bool = False


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
        if row.get("control") == "current" and row.get("date") is None:
            ctx.refuse(row, "date", "date_required")
    good = [r for r in rows if not ctx.refused(r)]
    if not good:
        return

    enrolments = await _load_enrolments(session, {s.id: s.user_id for s in students.values()})
    current = await _load_current(session, [e.id for e in enrolments.values() if e.id])
    seen: dict[tuple[Any, ...], int] = {}
    new_marks: list[tuple[_Enrolment, Row]] = []
    updated_marks: list[dict[str, Any]] = []
    for row in good:
        student = refs.find_student(students, row.get("student"))
        assert student is not None
        key = (student.id, disciplines[row.get("discipline")], periods[row.get("period")])
        enrolment = enrolments.get(key)
        if enrolment is None:
            enrolment = _Enrolment(
                None,
                student.id,
                student.user_id,
                key[1],
                key[2],
                dict.fromkeys(journal.CONTROLS),
                [],
                [],
            )
            enrolments[key] = enrolment
        control = row.get("control")
        work = row.get("work_kind") or WorkKind.practice
        identity = (
            *key,
            control,
            row.get("date") if control == "current" else None,
            work if control == "current" else None,
        )
        if identity in seen:
            ctx.refuse(row, "control", "duplicate_row", line=seen[identity])
            continue
        seen[identity] = row.line
        label = f"{row.get('student')} · {row.get('discipline')} · {control}"
        value = row.get("value")
        if control != "current":
            old = enrolment.marks[control]
            if old == value:
                ctx.unchanged(row)
                continue
            enrolment.marks[control] = value
            enrolment.changes.append((control, old, value))
            enrolment.dirty = True
            if old is None:
                ctx.created(row, label)
            else:
                ctx.updated(row, label, [control])
            continue
        found = current.get((enrolment.id, row.get("date"), work)) if enrolment.id else None
        if found is not None and found[1] == value:
            ctx.unchanged(row)
            continue
        enrolment.new_current.append(value)
        if found is None:
            new_marks.append((enrolment, row))
            ctx.created(row, label)
        else:
            updated_marks.append({"id": found[0], "value": value})
            ctx.updated(row, label, ["value"])

    await _create_enrolments(
        session,
        ctx,
        [e for e in enrolments.values() if e.id is None and (e.dirty or e.new_current)],
    )
    changed = [e for e in enrolments.values() if e.dirty]
    for start in range(0, len(changed), CHUNK):
        await session.execute(
            update(Enrolment),
            [
                {"id": e.id, **e.marks, "updated_at": ctx.now}
                for e in changed[start : start + CHUNK]
            ],
        )
    inserts = [
        {
            "enrolment_id": e.id,
            "on_date": row.get("date"),
            "work_kind": row.get("work_kind") or WorkKind.practice,
            "value": row.get("value"),
            "source": SOURCE,
            "author_user_id": ctx.options.actor_user_id,
            "created_at": ctx.now,
        }
        for e, row in new_marks
    ]
    for start in range(0, len(inserts), 1000):
        await session.execute(insert(CurrentMark), inserts[start : start + 1000])
    for start in range(0, len(updated_marks), CHUNK):
        await session.execute(update(CurrentMark), updated_marks[start : start + CHUNK])
    await _notify(session, ctx, [e for e in enrolments.values() if e.changes or e.new_current])


async def _load_enrolments(
    session: AsyncSession, users: dict[int, int]
) -> dict[tuple[int, int, int], _Enrolment]:
    ids = sorted(users)
    found: dict[tuple[int, int, int], _Enrolment] = {}
    for start in range(0, len(ids), CHUNK):
        rows = await session.execute(
            select(
                Enrolment.id,
                Enrolment.student_id,
                Enrolment.discipline_id,
                Enrolment.period_id,
                Enrolment.midterm1,
                Enrolment.midterm2,
                Enrolment.exam,
            ).where(Enrolment.student_id.in_(ids[start : start + CHUNK]))
        )
        for ident, student_id, discipline_id, period_id, m1, m2, exam in rows:
            found[(student_id, discipline_id, period_id)] = _Enrolment(
                ident,
                student_id,
                users[student_id],
                discipline_id,
                period_id,
                {"midterm1": m1, "midterm2": m2, "exam": exam},
                [],
                [],
            )
    return found


async def _load_current(
    session: AsyncSession, enrolment_ids: list[int]
) -> dict[tuple[int, Any, WorkKind], tuple[int, Decimal]]:
    found: dict[tuple[int, Any, WorkKind], tuple[int, Decimal]] = {}
    for start in range(0, len(enrolment_ids), CHUNK):
        rows = await session.execute(
            select(
                CurrentMark.id,
                CurrentMark.enrolment_id,
                CurrentMark.on_date,
                CurrentMark.work_kind,
                CurrentMark.value,
            )
            .where(CurrentMark.enrolment_id.in_(enrolment_ids[start : start + CHUNK]))
            .order_by(CurrentMark.id)
        )
        for ident, enrolment_id, on_date, work, value in rows:
            found.setdefault((enrolment_id, on_date, WorkKind(work)), (ident, value))
    return found


async def _create_enrolments(
    session: AsyncSession, ctx: ImportContext, missing: list[_Enrolment]
) -> None:
    if not missing:
        return
    values = [
        {
            "student_id": e.student_id,
            "discipline_id": e.discipline_id,
            "period_id": e.period_id,
            "updated_at": ctx.now,
        }
        for e in missing
    ]
    for start in range(0, len(values), 1000):
        await session.execute(insert(Enrolment), values[start : start + 1000])
    by_key = {(e.student_id, e.discipline_id, e.period_id): e for e in missing}
    student_ids = sorted({e.student_id for e in missing})
    for start in range(0, len(student_ids), CHUNK):
        rows = await session.execute(
            select(
                Enrolment.id, Enrolment.student_id, Enrolment.discipline_id, Enrolment.period_id
            ).where(Enrolment.student_id.in_(student_ids[start : start + CHUNK]))
        )
        for ident, *key in rows:
            enrolment = by_key.get(tuple(key))
            if enrolment is not None:
                enrolment.id = ident


async def _notify(session: AsyncSession, ctx: ImportContext, changed: list[_Enrolment]) -> None:
    """The same "journal.mark_changed" pushes the journal queues, in bulk."""
    if not changed:
        return
    user_ids = sorted({e.user_id for e in changed})
    muted: set[int] = set()
    for start in range(0, len(user_ids), CHUNK):
        rows = await session.execute(
            select(NotificationSettings.user_id, NotificationSettings.disabled_kinds).where(
                NotificationSettings.user_id.in_(user_ids[start : start + CHUNK])
            )
        )
        muted.update(uid for uid, kinds in rows if kinds and NoticeKind.grades.value in kinds)
    names = {
        ident: {"kk": kk, "ru": ru, "en": en}
        for ident, kk, ru, en in await session.execute(
            select(
                Discipline.id, Discipline.name_kk, Discipline.name_ru, Discipline.name_en
            ).where(Discipline.id.in_(sorted({e.discipline_id for e in changed})))
        )
    }
    averages = await _averages(session, [e.id for e in changed if e.new_current])
    rules = journal.rules()
    deliveries: list[dict[str, Any]] = []
    for enrolment in changed:
        if enrolment.user_id in muted:
            continue
        result = grading.outcome(
            enrolment.marks["midterm1"],
            enrolment.marks["midterm2"],
            enrolment.marks["exam"],
            rules,
        )
        base = {
            "enrolment_id": enrolment.id,
            "discipline": names[enrolment.discipline_id],
            "final": journal.mark_text(result.final),
            "letter": result.letter_grade.letter if result.letter_grade else None,
            "source": SOURCE,
        }
        pushes = [
            base
            | {"control": control, "old": journal.mark_text(old), "new": journal.mark_text(new)}
            for control, old, new in enrolment.changes
        ]
        if enrolment.new_current:
            # One push for a batch of current marks: the newest one and the average.
            pushes.append(
                base
                | {
                    "control": "current",
                    "old": None,
                    "new": journal.mark_text(enrolment.new_current[-1]),
                    "average": journal.mark_text(averages.get(enrolment.id)),
                }
            )
        deliveries.extend(
            {
                "user_id": enrolment.user_id,
                "kind": NoticeKind.grades.value,
                "template": "journal.mark_changed",
                "params": params,
                "dedupe_key": None,
                "urgent": False,
                "status": DeliveryStatus.pending,
                "not_before": ctx.now,
                "attempts": 0,
                "ref_type": "enrolment",
                "ref_id": enrolment.id,
                "created_at": ctx.now,
            }
            for params in pushes
        )
    for start in range(0, len(deliveries), 1000):
        await session.execute(insert(Delivery), deliveries[start : start + 1000])


async def _averages(session: AsyncSession, enrolment_ids: list[int]) -> dict[int, Decimal | None]:
    values: dict[int, list[Decimal]] = defaultdict(list)
    for start in range(0, len(enrolment_ids), CHUNK):
        rows = await session.execute(
            select(CurrentMark.enrolment_id, CurrentMark.value).where(
                CurrentMark.enrolment_id.in_(enrolment_ids[start : start + CHUNK])
            )
        )
        for enrolment_id, value in rows:
            values[enrolment_id].append(value)
    return {ident: grading.current_average(marks) for ident, marks in values.items()}


KIND = Kind("grades", COLUMNS, apply)
