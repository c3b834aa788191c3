"""The academic calendar: the student's own calendar, the university's list, "what is next"."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from bot.demo.core import DEMO_ACCOUNTS
from bot.i18n import fmt_date
from bot.services import academic_calendar as svc
from db.models.academic import AcademicCalendar, CalendarEvent
from tests.conftest import App
from tests.test_journal import demo_student

STUDENT = DEMO_ACCOUNTS["student"]


def test_academic_year_of() -> None:
    from datetime import date

    assert svc.academic_year_of(date(2026, 11, 26)) == "2026-2027"
    assert svc.academic_year_of(date(2027, 3, 1)) == "2026-2027"
    assert svc.academic_year_of(date(2027, 8, 1)) == "2027-2028"


async def test_student_gets_the_most_specific_calendar(demo_app: App) -> None:
    student = await demo_student(demo_app)
    today = demo_app.clock.now().astimezone(demo_app.settings.tz).date()
    year = svc.academic_year_of(today)
    async with demo_app.db.read() as session:
        calendar = await svc.calendar_for_student(session, student.id, year)
        everyone = await svc.list_calendars(session, year)
    assert calendar is not None
    assert calendar.programme_id is not None and calendar.course == 2
    assert len(everyone) >= 5

    client = await demo_app.signed_in(*STUDENT)
    await client.click("Academic calendar")
    pages = [client.last_message().text]
    while "›" in client.buttons():
        await client.click("›")
        pages.append(client.last_message().text)
    text = "\n".join(pages)
    assert calendar.name_en in text
    for heading in (
        "Term 1",
        "Term 2",
        "Midterm controls",
        "Exam session",
        "Registration",
        "Final grading",
        "Practice",
        "Vacations",
        "Add/drop",
    ):
        assert heading in text
    for event in calendar.events:
        assert event.name_en in text
        assert fmt_date(event.starts_on, "en") in text

    await client.click("University calendars")
    assert client.buttons()[: len(everyone)] == [c.name_en for c in everyone]
    general = next(c for c in everyone if c.course is None and c.study_form_id is None)
    await client.click(general.name_en)
    assert general.name_en in client.last_message().text
    assert "Midterm 1" in client.last_message().text


async def test_what_is_next_counts_days(demo_app: App) -> None:
    student = await demo_student(demo_app)
    today = demo_app.clock.now().astimezone(demo_app.settings.tz).date()
    async with demo_app.db.read() as session:
        calendar = await svc.calendar_for_student(session, student.id, svc.academic_year_of(today))
    future = sorted((e for e in calendar.events if e.starts_on > today), key=lambda e: e.starts_on)
    assert future
    client = await demo_app.signed_in(*STUDENT)
    await client.click("Academic calendar")
    await client.click("What is next")
    text = client.last_message().text
    first = future[0]
    days = (first.starts_on - today).days
    unit = "day" if days == 1 else "days"
    assert f"{first.name_en}</b>" not in text  # shown as text, not markup
    assert f"{first.name_en}: " in text
    assert f"in {days} {unit}" in text

    # On the first day of an event it says "today"; during a long one, "going on now".
    demo_app.clock.set(
        datetime.combine(first.starts_on, time(9), tzinfo=demo_app.settings.tz).astimezone(UTC)
    )
    await client.click("« Back")
    await client.click("What is next")
    line = next(x for x in client.last_message().text.split("\n") if first.name_en in x)
    assert line.endswith("going on now" if first.ends_on > first.starts_on else "today")


def test_upcoming_orders_and_marks_ongoing() -> None:
    from datetime import date

    today = date(2026, 11, 26)
    events = [
        CalendarEvent(id=1, kind="session", starts_on=today + timedelta(days=10),
                      ends_on=today + timedelta(days=20), name_kk="", name_ru="", name_en="S"),
        CalendarEvent(id=2, kind="midterm", starts_on=today - timedelta(days=2),
                      ends_on=today + timedelta(days=2), name_kk="", name_ru="", name_en="M"),
        CalendarEvent(id=3, kind="holiday", starts_on=today - timedelta(days=9),
                      ends_on=today - timedelta(days=8), name_kk="", name_ru="", name_en="H"),
    ]  # fmt: skip
    coming = svc.upcoming(events, today)
    assert [u.event.id for u in coming] == [2, 1]
    assert coming[0].ongoing and coming[0].days_left == -2
    assert coming[1].days_left == 10


async def test_forged_calendar_id(demo_app: App) -> None:
    client = await demo_app.signed_in(*STUDENT)
    await client.click("Academic calendar")
    async with demo_app.db.read() as session:
        top = await session.scalar(
            select(AcademicCalendar.id).order_by(AcademicCalendar.id.desc())
        )
    await client.click_data(f"ac:view:{top + 1000}:0")
    assert client.last_answer().text == "This is not available."
