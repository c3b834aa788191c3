"""The timetable: weeks with numerator/denominator classes, today and tomorrow, the `.ics` file,
class meetings and the home screen's line."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from babel.dates import format_date
from icalendar import Calendar
from sqlalchemy import select

from bot.demo.core import DEMO_ACCOUNTS
from bot.services import timetable as svc
from db.models import AcademicPeriod, Teacher, User
from db.models.academic import TimetableSlot, WeekParity
from tests.conftest import App
from tests.test_journal import current_period, demo_student

STUDENT = DEMO_ACCOUNTS["student"]
TEACHER = DEMO_ACCOUNTS["teacher"]


def at_noon(app: App, day: date) -> None:
    app.clock.set(datetime.combine(day, time(12), tzinfo=app.settings.tz).astimezone(UTC))


def week_monday(period: AcademicPeriod, number: int) -> date:
    return svc.monday_of(period.starts_on) + timedelta(weeks=number - 1)


async def group_slots(app: App, group_id: int, period_id: int) -> list[TimetableSlot]:
    async with app.db.read() as session:
        return list(
            await session.scalars(
                select(TimetableSlot).where(
                    TimetableSlot.group_id == group_id, TimetableSlot.period_id == period_id
                )
            )
        )


def test_parity_counts_weeks_from_the_period_start() -> None:
    period = AcademicPeriod(
        code="p", academic_year="2026-2027", term=1,
        starts_on=date(2026, 9, 1), ends_on=date(2027, 1, 17),
    )  # fmt: skip
    assert svc.week_number(period, date(2026, 9, 1)) == 1
    assert svc.week_number(period, date(2026, 9, 6)) == 1  # Sunday of the first week
    assert svc.week_number(period, date(2026, 9, 7)) == 2
    assert svc.parity_of(period, date(2026, 9, 3)) == WeekParity.odd
    assert svc.parity_of(period, date(2026, 9, 8)) == WeekParity.even
    slot = TimetableSlot(weekday=1, week_parity=WeekParity.even)
    assert not svc.runs_on(slot, period, date(2026, 9, 1))
    assert svc.runs_on(slot, period, date(2026, 9, 8))
    assert not svc.runs_on(slot, period, date(2027, 1, 19))  # after the period


async def test_odd_and_even_weeks_show_their_own_classes(demo_app: App) -> None:
    student = await demo_student(demo_app)
    period = await current_period(demo_app)
    slots = await group_slots(demo_app, student.group_id, period.id)
    odd_only = [s for s in slots if s.week_parity == WeekParity.odd]
    even_only = [s for s in slots if s.week_parity == WeekParity.even]
    assert odd_only and even_only
    assert {s.kind for s in slots} == {"lecture", "practice", "lab", "srs", "srop"}
    assert {s.weekday for s in slots} == {0, 1, 2, 3, 4, 5}

    client = await demo_app.signed_in(*STUDENT)
    for number, parity in ((3, WeekParity.odd), (4, WeekParity.even)):
        monday = week_monday(period, number)
        at_noon(demo_app, monday)
        await client.send("/menu")
        await client.click("Timetable")
        text = client.last_message().text
        assert ("odd week (numerator)" if parity == WeekParity.odd else "even week") in text
        async with demo_app.db.read() as session:
            days = await svc.classes_between(
                session, monday, monday + timedelta(days=6), group_id=student.group_id
            )
        running = {item.slot.id for items in days.values() for item in items}
        assert all(s.id in running for s in slots if s.week_parity in (WeekParity.all, parity))
        assert not any(s.id in running for s in slots if s.week_parity not in ("all", parity))
        # Every class appears under its day, with its time, room and kind.
        blocks = text.split("\n\n")
        for day, items in days.items():
            if day.weekday() == 6:
                continue
            heading = format_date(day, "EEEE, d MMMM", locale="en")
            block = next(b for b in blocks if heading in b)
            for item in items:
                line = (
                    f"{item.slot.starts_at:%H:%M}–{item.slot.ends_at:%H:%M} · "
                    f"{item.slot.discipline.name_en}"
                )
                assert line in block
                assert f"room {item.slot.room}" in block


async def test_home_line_lists_todays_classes(demo_app: App) -> None:
    # The home screen reads the wall clock, so this compares with the real today.
    student = await demo_student(demo_app)
    today = datetime.now(demo_app.settings.tz).date()
    async with demo_app.db.read() as session:
        days = await svc.classes_between(session, today, today, group_id=student.group_id)
    client = await demo_app.signed_in(*STUDENT)
    home = client.last_message().text
    if not days[today]:
        assert "No classes today." in home
    for item in days[today]:
        assert f"{item.slot.starts_at:%H:%M} {item.slot.discipline.name_en}" in home


async def test_today_tomorrow_and_an_empty_day(demo_app: App) -> None:
    student = await demo_student(demo_app)
    period = await current_period(demo_app)
    monday = week_monday(period, 3)
    saturday = monday + timedelta(days=5)
    at_noon(demo_app, saturday)
    async with demo_app.db.read() as session:
        days = await svc.classes_between(session, saturday, saturday, group_id=student.group_id)
    assert days[saturday]
    client = await demo_app.signed_in(*STUDENT)
    await client.click("Timetable")
    await client.click("Today")
    text = client.last_message().text
    assert "Today" in text and "Saturday" in text
    for item in days[saturday]:
        assert item.slot.discipline.name_en in text
    await client.click("Next day »")  # Sunday
    assert "No classes on this day." in client.last_message().text
    await client.click("The whole week")
    assert "No classes." not in client.last_message().text  # Monday..Saturday all have classes
    await client.click("Tomorrow")
    assert "Tomorrow" in client.last_message().text
    assert "No classes on this day." in client.last_message().text


async def test_week_ics_parses_with_the_university_time_zone(demo_app: App) -> None:
    student = await demo_student(demo_app)
    period = await current_period(demo_app)
    monday = week_monday(period, 5)
    at_noon(demo_app, monday + timedelta(days=2))
    async with demo_app.db.read() as session:
        days = await svc.classes_between(
            session, monday, monday + timedelta(days=6), group_id=student.group_id
        )
    items = [item for day in days.values() for item in day]
    client = await demo_app.signed_in(*STUDENT)
    await client.click("Timetable")
    await client.click(".ics")
    document = client.last_message()
    assert document.document_name == f"timetable-{monday.isoformat()}.ics"
    calendar = Calendar.from_ical(document.document_bytes)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == len(items) > 10
    assert {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")} == {"Asia/Almaty"}
    starts = sorted(e.decoded("DTSTART") for e in events)
    expected = sorted(
        datetime.combine(i.on_date, i.slot.starts_at, tzinfo=demo_app.settings.tz) for i in items
    )
    assert starts == expected
    assert all(str(e["DTSTART"].params["TZID"]) == "Asia/Almaty" for e in events)
    summaries = {str(e["SUMMARY"]) for e in events}
    assert {
        f"{i.slot.discipline.name_en} (lecture)" for i in items if i.slot.kind == "lecture"
    } <= summaries


async def test_teacher_sees_their_own_classes(demo_app: App) -> None:
    period = await current_period(demo_app)
    monday = week_monday(period, 3)
    at_noon(demo_app, monday)
    client = await demo_app.signed_in(*TEACHER)
    async with demo_app.db.read() as session:
        teacher_id = await session.scalar(
            select(Teacher.id)
            .join(User, User.id == Teacher.user_id)
            .where(User.login == TEACHER[0])
        )
        days = await svc.classes_between(session, monday, monday, teacher_id=teacher_id)
    assert days[monday], "demo.teacher teaches on Mondays"
    # Home speaks of the day the (test) clock shows.
    real_today = demo_app.clock.now().astimezone(demo_app.settings.tz).date()
    async with demo_app.db.read() as session:
        today = await svc.classes_between(session, real_today, real_today, teacher_id=teacher_id)
    home = client.last_message().text
    for item in today[real_today]:
        assert (
            f"{item.slot.starts_at:%H:%M} {item.slot.discipline.name_en} ({item.slot.group.code})"
            in home
        )
    await client.click("Timetable")
    text = client.last_message().text
    for item in days[monday]:
        assert f"group {item.slot.group.code}" in text


async def test_meeting_for_is_get_or_create(demo_app: App) -> None:
    period = await current_period(demo_app)
    student = await demo_student(demo_app)
    slots = await group_slots(demo_app, student.group_id, period.id)
    async with demo_app.db.write() as session:
        first = await svc.meeting_for(session, slots[0].id, date(2001, 1, 1))
        again = await svc.meeting_for(session, slots[0].id, date(2001, 1, 1))
        assert first.id == again.id


async def test_far_and_forged_offsets_are_refused(demo_app: App) -> None:
    client = await demo_app.signed_in(*STUDENT)
    await client.click("Timetable")
    await client.click_data("tt:w:100000:0")
    assert client.last_answer().text == "This is too far from today."
    await client.click_data("tt:x:0:0")
    assert client.last_answer().text == "This is not available."
    staff = await demo_app.signed_in(*DEMO_ACCOUNTS["staff"])
    await staff.click_data("tt:w:0:0")
    assert staff.last_answer().text == "There is no timetable for your account."
