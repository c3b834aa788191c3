"""Academic calendars and their events, one event per row.

Columns: calendar* (календарь / күнтізбе, the calendar's code), academic_year* (учебный год /
оқу жылы), programme (образовательная программа / білім беру бағдарламасы), course (курс),
study_form (форма обучения / оқу түрі) (an empty criterion matches every value),
calendar_name_kk / _ru / _en, event* (событие / оқиға: semester, add_drop, registration,
midterm, session, practice, grading, holiday, vacation), term (семестр), starts_on*
(начало / басталуы), ends_on* (конец / аяқталуы), name_kk / name_ru / name_en (of the event).

An event is identified by its calendar, kind, term and first day.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer.base import Column, ImportContext, Kind, Row, a_date, choice, code, diff, integer
from bot.importer.common import id_map, load_by, name_column, name_columns, names
from bot.importer.periods import academic_year
from db.models import Programme, StudyForm
from db.models.academic import AcademicCalendar, CalendarEvent, CalendarEventKind

EVENTS = {
    **{k.value: k for k in CalendarEventKind},
    "семестр": CalendarEventKind.semester,
    "регистрация": CalendarEventKind.registration,
    "тіркеу": CalendarEventKind.registration,
    "рубежный контроль": CalendarEventKind.midterm,
    "аралық бақылау": CalendarEventKind.midterm,
    "сессия": CalendarEventKind.session,
    "практика": CalendarEventKind.practice,
    "праздник": CalendarEventKind.holiday,
    "мереке": CalendarEventKind.holiday,
    "каникулы": CalendarEventKind.vacation,
    "демалыс": CalendarEventKind.vacation,
}

COLUMNS = (
    Column("calendar", "calendar", "календарь", "күнтізбе", code(48), required=True),
    Column(
        "academic_year", "academic_year", "учебный год", "оқу жылы", academic_year, required=True
    ),
    Column(
        "programme",
        "programme",
        "образовательная программа",
        "білім беру бағдарламасы",
        code(32),
    ),
    Column("course", "course", "курс", "курс", integer(1, 7)),
    Column("study_form", "study_form", "форма обучения", "оқу түрі", code(32)),
    *name_columns("calendar_name"),
    Column("event", "event", "событие", "оқиға", choice(EVENTS), required=True),
    Column("term", "term", "семестр", "семестр", integer(1, 3)),
    Column("starts_on", "starts_on", "начало", "басталуы", a_date, required=True),
    Column("ends_on", "ends_on", "конец", "аяқталуы", a_date, required=True),
    *name_columns(),
)


async def apply(session: AsyncSession, rows: list[Row], ctx: ImportContext) -> None:
    programmes = await id_map(
        session, Programme.code, (r.get("programme") for r in rows), Programme.id
    )
    forms = await id_map(
        session, StudyForm.code, (r.get("study_form") for r in rows), StudyForm.id
    )
    calendars = await load_by(
        session, AcademicCalendar, AcademicCalendar.code, (r.get("calendar") for r in rows)
    )
    touched: set[str] = set()
    events: dict[int, dict[tuple[Any, ...], CalendarEvent]] = {}
    for row in rows:
        if row.get("programme") and row.get("programme") not in programmes:
            ctx.refuse(row, "programme", "unknown_programme")
        if row.get("study_form") and row.get("study_form") not in forms:
            ctx.refuse(row, "study_form", "unknown_study_form")
        if row.get("ends_on") < row.get("starts_on"):
            ctx.refuse(row, "ends_on", "ends_before_start")
        event_names = names(row, None)
        if event_names is None:
            ctx.refuse(row, name_column(row), "no_name")
        if ctx.refused(row):
            continue
        code_ = row.get("calendar")
        calendar = calendars.get(code_)
        settings = {
            "academic_year": row.get("academic_year"),
            "programme_id": programmes.get(row.get("programme")),
            "course": row.get("course"),
            "study_form_id": forms.get(row.get("study_form")),
        }
        given = names(row, calendar, "calendar_name")
        if given is not None:
            calendar_names = {k.replace("calendar_name", "name"): v for k, v in given.items()}
        elif calendar is not None:
            calendar_names = {
                f"name_{x}": getattr(calendar, f"name_{x}") for x in ("kk", "ru", "en")
            }
        else:
            calendar_names = {f"name_{x}": code_ for x in ("kk", "ru", "en")}
        changed: list[str] = []
        if calendar is None:
            calendar = AcademicCalendar(code=code_, **settings, **calendar_names)
            session.add(calendar)
            await session.flush()
            calendars[code_] = calendar
            touched.add(code_)
        elif code_ not in touched:
            # The first row of a calendar carries its settings; later rows only add events.
            touched.add(code_)
            changed = diff(calendar, settings | calendar_names)
        if calendar.id not in events:
            events[calendar.id] = {
                (e.kind, e.term, e.starts_on): e
                for e in await session.scalars(
                    select(CalendarEvent).where(CalendarEvent.calendar_id == calendar.id)
                )
            }
        identity = (row.get("event"), row.get("term"), row.get("starts_on"))
        event = events[calendar.id].get(identity)
        values = {"ends_on": row.get("ends_on"), **event_names}
        label = f"{code_} · {row.get('event').value} · {row.get('starts_on').isoformat()}"
        if event is None:
            event = CalendarEvent(
                calendar_id=calendar.id,
                kind=identity[0],
                term=identity[1],
                starts_on=identity[2],
                **values,
            )
            session.add(event)
            events[calendar.id][identity] = event
            ctx.created(row, label)
            continue
        changed += diff(event, values)
        if changed:
            ctx.updated(row, label, changed)
        else:
            ctx.unchanged(row)
    await session.flush()


KIND = Kind("calendars", COLUMNS, apply, key=("calendar", "event", "term", "starts_on"))
