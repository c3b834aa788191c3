"""The weekly timetable of groups, one class per row.

Columns: group* (группа / топ), period* (период / кезең), weekday* (день недели / апта күні:
1-7 with Monday = 1, or mon / пн / дс), starts_at* (начало / басталуы, 08:30), ends_at* (конец
/ аяқталуы), discipline* (дисциплина / пән), class_kind* (вид занятия / сабақ түрі),
week_parity (неделя / апта: all, odd = числитель / алым, even = знаменатель / бөлім), teacher
(преподаватель / оқытушы, a login; empty keeps the teacher a teaching assignment
gave), room (аудитория / аудитория).

A class is identified by group, period, weekday, start, week parity, discipline and kind; the
end, the teacher and the room are updated.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer import refs
from bot.importer.assignments import CLASS_KINDS
from bot.importer.base import Column, ImportContext, Kind, Row, a_time, choice, diff, text
from bot.importer.common import CHUNK, present
from db.models.academic import TimetableSlot, WeekParity

WEEKDAYS = {
    **{str(i + 1): i for i in range(7)},
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{name: i for i, name in enumerate(("пн", "вт", "ср", "чт", "пт", "сб", "вс"))},
    **{name: i for i, name in enumerate(("дс", "сс", "ср", "бс", "жм", "сн", "жс"))},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}
PARITIES = {
    "all": WeekParity.all,
    "every": WeekParity.all,
    "каждая": WeekParity.all,
    "әр апта": WeekParity.all,
    "odd": WeekParity.odd,
    "числитель": WeekParity.odd,
    "алым": WeekParity.odd,
    "even": WeekParity.even,
    "знаменатель": WeekParity.even,
    "бөлім": WeekParity.even,
}

COLUMNS = (
    refs.GROUP,
    refs.PERIOD,
    Column("weekday", "weekday", "день недели", "апта күні", choice(WEEKDAYS), required=True),
    Column("starts_at", "starts_at", "начало", "басталуы", a_time, required=True),
    Column("ends_at", "ends_at", "конец", "аяқталуы", a_time, required=True),
    refs.DISCIPLINE,
    Column(
        "class_kind",
        "class_kind",
        "вид занятия",
        "сабақ түрі",
        choice(CLASS_KINDS),
        required=True,
    ),
    Column("week_parity", "week_parity", "неделя", "апта", choice(PARITIES)),
    refs.TEACHER,
    Column("room", "room", "аудитория", "аудитория", text(64)),
)


async def apply(session: AsyncSession, rows: list[Row], ctx: ImportContext) -> None:
    groups = await refs.groups(session, (r.get("group") for r in rows))
    periods = await refs.periods(session, (r.get("period") for r in rows))
    disciplines = await refs.disciplines(session, (r.get("discipline") for r in rows))
    teachers = await refs.teachers(session, (r.get("teacher") for r in rows))
    for row in rows:
        for column, found in (("group", groups), ("period", periods), ("discipline", disciplines)):
            if row.get(column) not in found:
                ctx.refuse(row, column, f"unknown_{column}")
        if row.get("teacher") and row.get("teacher") not in teachers:
            ctx.refuse(row, "teacher", "unknown_teacher")
        if row.get("ends_at") <= row.get("starts_at"):
            ctx.refuse(row, "ends_at", "ends_before_start")
    good = [r for r in rows if not ctx.refused(r)]
    group_ids = sorted({groups[r.get("group")] for r in good})
    existing: dict[tuple, TimetableSlot] = {}
    for start in range(0, len(group_ids), CHUNK):
        for slot in await session.scalars(
            select(TimetableSlot).where(
                TimetableSlot.group_id.in_(group_ids[start : start + CHUNK])
            )
        ):
            existing[
                _identity(
                    slot.group_id,
                    slot.period_id,
                    slot.weekday,
                    slot.starts_at,
                    slot.week_parity,
                    slot.discipline_id,
                    slot.kind,
                )
            ] = slot
    for row in good:
        parity = row.get("week_parity") or WeekParity.all
        identity = _identity(
            groups[row.get("group")],
            periods[row.get("period")],
            row.get("weekday"),
            row.get("starts_at"),
            parity,
            disciplines[row.get("discipline")],
            row.get("class_kind"),
        )
        values = {"ends_at": row.get("ends_at")} | present(row, "room", clearable=("room",))
        if row.get("teacher"):
            values["teacher_id"] = teachers[row.get("teacher")]
        label = (
            f"{row.get('group')} · {row.get('discipline')} · "
            f"{row.get('weekday') + 1} {row.get('starts_at'):%H:%M}"
        )
        slot = existing.get(identity)
        if slot is None:
            slot = TimetableSlot(
                group_id=identity[0],
                period_id=identity[1],
                weekday=identity[2],
                starts_at=identity[3],
                week_parity=parity,
                discipline_id=identity[5],
                kind=identity[6],
                **values,
            )
            session.add(slot)
            existing[identity] = slot
            ctx.created(row, label)
            continue
        changed = diff(slot, values)
        if changed:
            ctx.updated(row, label, changed)
        else:
            ctx.unchanged(row)
    await session.flush()


def _identity(*parts: object) -> tuple:
    return tuple(str(p) if hasattr(p, "value") else p for p in parts)


KIND = Kind(
    "timetable",
    COLUMNS,
    apply,
    key=("group", "period", "weekday", "starts_at", "week_parity", "discipline", "class_kind"),
)
