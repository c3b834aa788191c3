"""Reminder jobs driven by a controllable clock: the right people are told once, in their
language; quiet hours are honoured (except test deadlines); a restart between runs neither loses
nor repeats a reminder; a window missed during downtime is caught up once.

Everything happens in March 2031, where the demo university has no periods, tests or calendars,
so only the data each test builds is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.delivery.render import render
from bot.demo.core import DEMO_ACCOUNTS
from bot.services import reminders as svc
from bot.services import timetable
from db.models import AcademicPeriod, Discipline, Group, Role, Student, User
from db.models.academic import (
    AcademicCalendar,
    CalendarEvent,
    CalendarEventKind,
    ClassKind,
    TimetableSlot,
    WeekParity,
)
from db.models.delivery import Delivery, NotificationSettings
from db.models.messaging import Message, MessageKind, MessageRecipient
from db.models.testing import Attempt, ControlKind, OnlineTest, OnlineTestTarget, QuestionBank
from scheduler.context import JobContext
from scheduler.jobs.reminders import (
    calendar_reminders,
    class_reminders,
    morning_digest,
    remind_test_windows,
)
from tests.conftest import App
from tests.support import BotClient
from tests.test_delivery import virtual_worker

TZ = ZoneInfo("Asia/Almaty")
DAY = date(2031, 3, 12)  # a Wednesday


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local (Almaty) wall-clock moment as aware UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=TZ).astimezone(UTC)


def job_context(app: App) -> JobContext:
    """A fresh context, as a restarted scheduler process would build."""
    return JobContext(app.db, app.bot, app.i18n, app.settings, app.clock)


@dataclass
class Person:
    user_id: int
    student_id: int
    chat_id: int


@dataclass
class World:
    me: BotClient  # demo.student, signed in, English
    me_person: Person
    kk: Person  # demo.student's group, Kazakh
    ru: Person  # another programme's group, Russian
    offline: Person  # demo.student's group, never opened the bot
    group_id: int
    other_group_id: int
    discipline_id: int


async def _student(
    app: App, group_id: int, login: str, locale: str, telegram_id: int | None
) -> Person:
    async with app.db.write() as session:
        user = User(
            login=login,
            password_hash="!unset",
            role=Role.student,
            last_name="Test",
            first_name=login,
            locale=locale,
            telegram_id=telegram_id,
        )
        session.add(user)
        await session.flush()
        student = Student(
            user_id=user.id, student_no=f"RM-{login}", group_id=group_id, admission_year=2029
        )
        session.add(student)
        await session.flush()
        return Person(user.id, student.id, telegram_id or 0)


async def make_world(app: App) -> World:
    me = await app.signed_in(*DEMO_ACCOUNTS["student"])
    async with app.db.read() as session:
        user = await session.scalar(select(User).where(User.login == DEMO_ACCOUNTS["student"][0]))
        student = await session.scalar(select(Student).where(Student.user_id == user.id))
        group = await session.get(Group, student.group_id)
        other = await session.scalar(
            select(Group).where(Group.programme_id != group.programme_id).order_by(Group.id)
        )
        discipline_id = await session.scalar(select(Discipline.id).order_by(Discipline.id))
        me_person = Person(user.id, student.id, me.chat_id)
        group_id, other_id = group.id, other.id
    return World(
        me=me,
        me_person=me_person,
        kk=await _student(app, group_id, "rm.kk", "kk", 7_700_001),
        ru=await _student(app, other_id, "rm.ru", "ru", 7_700_002),
        offline=await _student(app, group_id, "rm.offline", "ru", None),
        group_id=group_id,
        other_group_id=other_id,
        discipline_id=discipline_id,
    )


async def rows(app: App, template: str) -> list[Delivery]:
    async with app.db.read() as session:
        found = list(
            await session.scalars(
                select(Delivery).where(Delivery.template == template).order_by(Delivery.id)
            )
        )
        session.expunge_all()
        return found


def bot_texts(app: App, chat_id: int) -> list[str]:
    return [m.text or "" for m in app.session.chats.get(chat_id, {}).values() if m.from_bot]


async def deliver(app: App) -> None:
    """A fresh worker (as after a restart) sends everything due within the next few seconds:
    one message a second per chat."""
    worker = virtual_worker(app)
    for _round in range(4):
        await worker.drain()
        app.clock.advance(seconds=1.5)


async def set_prefs(app: App, user_id: int, **values: object) -> None:
    async with app.db.write() as session:
        row = await session.get(NotificationSettings, user_id)
        if row is None:
            row = NotificationSettings(user_id=user_id, disabled_kinds=[])
            session.add(row)
        for key, value in values.items():
            setattr(row, key, value)


# ---- test windows ------------------------------------------------------------------------------


async def make_test(app: App, world: World, name: str, opens: datetime, closes: datetime) -> int:
    async with app.db.write() as session:
        bank = await session.scalar(
            select(QuestionBank).where(QuestionBank.name == "Reminder bank")
        )
        if bank is None:
            bank = QuestionBank(discipline_id=world.discipline_id, name="Reminder bank")
            session.add(bank)
            await session.flush()
        test = OnlineTest(
            name=name,
            discipline_id=world.discipline_id,
            bank_id=bank.id,
            control=ControlKind.current,
            time_limit_minutes=30,
            easy_count=1,
            opens_at=opens,
            closes_at=closes,
            created_at=app.clock.now(),
        )
        test.targets = [
            OnlineTestTarget(group_id=world.group_id),
            OnlineTestTarget(student_id=world.ru.student_id),
        ]
        session.add(test)
        await session.flush()
        return test.id


async def test_test_opening_and_closing_reminders(demo_app: App) -> None:
    app = demo_app
    world = await make_world(app)
    app.clock.set(at(DAY, 11, 0))
    test_id = await make_test(app, world, "Quiz <1>", at(DAY, 12, 0), at(DAY, 23, 30))
    # Created already open: its assignment notice told everyone, so no "it opened" push.
    already_open = await make_test(app, world, "Open quiz", at(DAY, 10, 0), at(DAY, 15, 0))

    await remind_test_windows(job_context(app))
    assert await rows(app, "reminders.test_opened") == []

    # The scheduler was down from 11:00 to 14:00: the opening is caught up once.
    app.clock.set(at(DAY, 14, 0))
    await remind_test_windows(job_context(app))
    await remind_test_windows(job_context(app))
    opened = await rows(app, "reminders.test_opened")
    assert {r.user_id for r in opened} == {
        world.me_person.user_id,
        world.kk.user_id,
        world.ru.user_id,
    }
    assert all(r.ref_id == test_id for r in opened)

    await deliver(app)
    assert any("A test is open" in t and "Quiz <1>" in t for t in bot_texts(app, world.me.chat_id))
    assert any("Тест ашылды" in t for t in bot_texts(app, world.kk.chat_id))
    assert any("Тест открыт" in t for t in bot_texts(app, world.ru.chat_id))

    # The Kazakh student starts it; the others have not when the last hour begins (22:35, in
    # everyone's quiet hours: a test deadline is urgent and goes out anyway).
    async with app.db.write() as session:
        session.add(
            Attempt(
                test_id=test_id,
                student_id=world.kk.student_id,
                number=1,
                seed=1,
                started_at=at(DAY, 15, 0),
                deadline=at(DAY, 15, 30),
            )
        )
    app.clock.set(at(DAY, 22, 35))
    await remind_test_windows(job_context(app))
    # (The other test closed at 15:00; its own last-hour reminders went out at 14:00.)
    closing = [r for r in await rows(app, "reminders.test_closing") if r.ref_id == test_id]
    assert {r.user_id for r in closing} == {world.me_person.user_id, world.ru.user_id}
    assert all(r.urgent for r in closing)

    # A restart: a new context and a new worker neither repeat nor lose anything.
    await remind_test_windows(job_context(app))
    assert len([r for r in await rows(app, "reminders.test_closing") if r.ref_id == test_id]) == 2
    await deliver(app)
    mine = [t for t in bot_texts(app, world.me.chat_id) if "closes at 23:30" in t]
    assert len(mine) == 1 and "Quiz <1>" in mine[0]
    assert sum("Тест закрывается в 23:30" in t for t in bot_texts(app, world.ru.chat_id)) == 1
    assert not any("жабылады: 23:30" in t for t in bot_texts(app, world.kk.chat_id))
    assert not [r for r in await rows(app, "reminders.test_opened") if r.ref_id == already_open]

    total = len(await rows(app, "reminders.test_closing"))
    app.clock.set(at(DAY, 23, 31))
    await remind_test_windows(job_context(app))
    assert len(await rows(app, "reminders.test_closing")) == total


# ---- the academic calendar ---------------------------------------------------------------------


async def make_calendars(app: App, world: World) -> dict[str, int]:
    """A university-wide calendar (the other group's) and one for demo.student's programme,
    year and form of study (more specific, so theirs)."""
    async with app.db.write() as session:
        group = await session.get(Group, world.group_id)
        general = AcademicCalendar(
            code="RM-general", academic_year="2030-2031", name_kk="Ж", name_ru="О", name_en="G"
        )
        mine = AcademicCalendar(
            code="RM-mine",
            academic_year="2030-2031",
            programme_id=group.programme_id,
            course=group.course,
            study_form_id=group.study_form_id,
            name_kk="М",
            name_ru="М",
            name_en="M",
        )
        session.add_all([general, mine])
        await session.flush()
        tomorrow = DAY + timedelta(days=1)
        events = {
            "add_drop": CalendarEvent(
                calendar_id=general.id,
                kind=CalendarEventKind.add_drop,
                starts_on=tomorrow,
                ends_on=tomorrow,
                name_kk="Пәндерді қосу/алып тастау",
                name_ru="Добавление/удаление дисциплин",
                name_en="Add/drop",
            ),
            "midterm": CalendarEvent(
                calendar_id=mine.id,
                kind=CalendarEventKind.midterm,
                starts_on=tomorrow,
                ends_on=tomorrow + timedelta(days=5),
                name_kk="Аралық бақылау 1",
                name_ru="Рубежный контроль 1",
                name_en="Midterm 1",
            ),
            # Not reminded: a holiday is no deadline.
            "holiday": CalendarEvent(
                calendar_id=mine.id,
                kind=CalendarEventKind.holiday,
                starts_on=tomorrow,
                ends_on=tomorrow,
                name_kk="Мереке",
                name_ru="Праздник",
                name_en="Holiday",
            ),
        }
        session.add_all(events.values())
        await session.flush()
        return {key: event.id for key, event in events.items()}


async def test_calendar_day_before_and_on_the_day(demo_app: App) -> None:
    app = demo_app
    world = await make_world(app)
    events = await make_calendars(app, world)
    # The Kazakh student keeps quiet hours 12:00-16:00.
    await set_prefs(app, world.kk.user_id, quiet_enabled=True, quiet_start=720, quiet_end=960)

    app.clock.set(at(DAY, 8, 30))  # before the calendar hour
    await calendar_reminders(job_context(app))
    assert await rows(app, "reminders.calendar") == []

    # Down all morning; the 15:00 run catches the day-before reminders up, once.
    app.clock.set(at(DAY, 15, 0))
    await calendar_reminders(job_context(app))
    await calendar_reminders(job_context(app))
    queued = await rows(app, "reminders.calendar")
    got = {(r.user_id, r.ref_id, r.params["when"]) for r in queued}
    assert got == {
        (world.me_person.user_id, events["midterm"], "before"),
        (world.ru.user_id, events["add_drop"], "before"),
    }
    # Out of quiet hours, the Kazakh student is told too (once).
    app.clock.set(at(DAY, 16, 10))
    await calendar_reminders(job_context(app))
    await calendar_reminders(job_context(app))
    queued = await rows(app, "reminders.calendar")
    assert len(queued) == 3
    assert (world.kk.user_id, events["midterm"]) in {(r.user_id, r.ref_id) for r in queued}

    await deliver(app)
    assert any(
        "A midterm week starts tomorrow" in t and "Midterm 1" in t
        for t in bot_texts(app, world.me.chat_id)
    )
    assert any(
        "Аралық бақылау аптасы ертең басталады" in t for t in bot_texts(app, world.kk.chat_id)
    )
    assert any(
        "Срок добавления/удаления дисциплин — завтра" in t
        for t in bot_texts(app, world.ru.chat_id)
    )
    assert not any("Add/drop" in t for t in bot_texts(app, world.me.chat_id))

    # Too late in the evening for "tomorrow": nothing new, and the next morning "today" once.
    app.clock.set(at(DAY, 21, 30))
    await calendar_reminders(job_context(app))
    assert len(await rows(app, "reminders.calendar")) == 3
    next_day = DAY + timedelta(days=1)
    app.clock.set(at(next_day, 9, 5))
    await calendar_reminders(job_context(app))
    await calendar_reminders(job_context(app))
    today = [r for r in await rows(app, "reminders.calendar") if r.params["when"] == "day"]
    assert {(r.user_id, r.ref_id) for r in today} == {
        (world.me_person.user_id, events["midterm"]),
        (world.kk.user_id, events["midterm"]),
        (world.ru.user_id, events["add_drop"]),
    }
    with app.i18n.context(), app.i18n.use_locale("ru"):
        ru_row = next(r for r in today if r.user_id == world.ru.user_id)
        text = render("reminders.calendar", ru_row.params, "ru").text
    assert "Срок добавления/удаления дисциплин — сегодня" in text and "13 марта" in text


def test_which_dates_of_an_event_are_reminded() -> None:
    event = CalendarEvent(
        kind=CalendarEventKind.registration,
        starts_on=date(2031, 4, 1),
        ends_on=date(2031, 4, 10),
    )
    assert svc.milestones(event) == [
        (svc.Milestone.opens, date(2031, 4, 1)),
        (svc.Milestone.closes, date(2031, 4, 10)),
    ]
    one_day = CalendarEvent(
        kind=CalendarEventKind.registration, starts_on=date(2031, 4, 1), ends_on=date(2031, 4, 1)
    )
    assert svc.milestones(one_day) == [(svc.Milestone.opens, date(2031, 4, 1))]
    holiday = CalendarEvent(
        kind=CalendarEventKind.holiday, starts_on=date(2031, 4, 1), ends_on=date(2031, 4, 1)
    )
    assert svc.milestones(holiday) == []


# ---- classes ----------------------------------------------------------------------------------


async def make_timetable(app: App, world: World) -> dict[str, int]:
    async with app.db.write() as session:
        period = AcademicPeriod(
            code="RM-2030-2031-2",
            academic_year="2030-2031",
            term=2,
            starts_on=date(2031, 1, 19),
            ends_on=date(2031, 6, 30),
        )
        session.add(period)
        await session.flush()
        parity = timetable.parity_of(period, DAY)
        other = WeekParity.even if parity == WeekParity.odd else WeekParity.odd

        def slot(start: time, end: time, week: WeekParity, room: str) -> TimetableSlot:
            return TimetableSlot(
                group_id=world.group_id,
                discipline_id=world.discipline_id,
                period_id=period.id,
                weekday=DAY.weekday(),
                starts_at=start,
                ends_at=end,
                kind=ClassKind.lecture,
                room=room,
                week_parity=week,
            )

        slots = {
            "ten": slot(time(10, 0), time(11, 20), WeekParity.all, "305"),
            "noon_other_week": slot(time(12, 0), time(13, 20), other, "306"),
            "two_this_week": slot(time(14, 0), time(15, 20), parity, "307"),
        }
        session.add_all(slots.values())
        await session.flush()
        return {key: s.id for key, s in slots.items()}


async def test_class_reminders_lead_time_parity_and_quiet_hours(demo_app: App) -> None:
    app = demo_app
    world = await make_world(app)
    slots = await make_timetable(app, world)
    # demo.student chooses 15 minutes on the settings screen; the Kazakh student 60 minutes.
    await world.me.send("/settings")
    await world.me.click("🔔 Notifications")
    await world.me.click("⏰ Class reminders: turned off")
    await world.me.click("15 min before")
    await set_prefs(app, world.kk.user_id, class_reminder_minutes=60)
    # Another student of the group wants 60 minutes but sleeps until 10:00.
    late = await _student(app, world.group_id, "rm.late", "en", 7_700_003)
    await set_prefs(
        app, late.user_id, class_reminder_minutes=60, quiet_start=22 * 60, quiet_end=10 * 60
    )

    app.clock.set(at(DAY, 9, 40))
    await class_reminders(job_context(app))
    queued = await rows(app, "reminders.class")
    assert [(r.user_id, r.ref_id) for r in queued] == [(world.kk.user_id, slots["ten"])]

    app.clock.set(at(DAY, 9, 46))
    await class_reminders(job_context(app))
    await class_reminders(job_context(app))  # a re-run or a restarted process
    queued = await rows(app, "reminders.class")
    assert sorted((r.user_id, r.ref_id) for r in queued) == sorted(
        [(world.kk.user_id, slots["ten"]), (world.me_person.user_id, slots["ten"])]
    )
    await deliver(app)
    mine = [t for t in bot_texts(app, world.me.chat_id) if "Class at" in t]
    assert len(mine) == 1 and "Class at 10:00" in mine[0] and "room 305" in mine[0]
    assert sum("Сабақ басталады: 10:00" in t for t in bot_texts(app, world.kk.chat_id)) == 1
    # The student in quiet hours was not queued, and the class has begun when they end.
    app.clock.set(at(DAY, 10, 1))
    await class_reminders(job_context(app))
    assert late.user_id not in {r.user_id for r in await rows(app, "reminders.class")}

    # 11:50: the noon class runs only in the other weeks; nothing is due.
    app.clock.set(at(DAY, 11, 50))
    await class_reminders(job_context(app))
    assert len(await rows(app, "reminders.class")) == 2

    # 13:50: the class of this week's parity is reminded to all three.
    app.clock.set(at(DAY, 13, 50))
    await class_reminders(job_context(app))
    two = [r for r in await rows(app, "reminders.class") if r.ref_id == slots["two_this_week"]]
    assert {r.user_id for r in two} == {world.me_person.user_id, world.kk.user_id, late.user_id}
    assert world.offline.user_id not in {r.user_id for r in await rows(app, "reminders.class")}


# ---- the morning digest -----------------------------------------------------------------------


async def test_morning_digest_once_a_day_with_what_matters(demo_app: App) -> None:
    app = demo_app
    world = await make_world(app)
    await make_timetable(app, world)
    await make_calendars(app, world)
    app.clock.set(at(DAY, 7, 0))
    await make_test(app, world, "Weekly quiz", at(DAY, 6, 0), at(DAY + timedelta(days=2), 18, 0))
    friday = DAY + timedelta(days=2)
    await make_test(app, world, "Friday exam", at(friday, 9, 0), at(friday, 12, 0))
    async with app.db.write() as session:
        teacher = await session.scalar(select(User.id).where(User.role == Role.teacher))
        message = Message(
            kind=MessageKind.letter,
            sender_id=teacher,
            subject="Hello",
            created_at=at(DAY, 6, 0),
            expires_at=at(DAY + timedelta(days=10), 0, 0),
            draft_token="rm-digest",
        )
        session.add(message)
        await session.flush()
        session.add(MessageRecipient(message_id=message.id, user_id=world.me_person.user_id))
        message_id = message.id
    await world.me.send("/settings")
    await world.me.click("🔔 Notifications")
    await world.me.click("☀️ Morning digest: off")
    await set_prefs(app, world.ru.user_id, digest_enabled=True)

    await morning_digest(job_context(app))  # 07:00: too early
    assert await rows(app, "reminders.digest") == []

    app.clock.set(at(DAY, 8, 1))
    await morning_digest(job_context(app))
    await morning_digest(job_context(app))
    digests = {r.user_id: r for r in await rows(app, "reminders.digest")}
    assert set(digests) == {world.me_person.user_id, world.ru.user_id}
    params = digests[world.me_person.user_id].params
    assert [c["starts"] for c in params["classes"]] == ["10:00", "14:00"]
    assert [t["name"] for t in params["tests"]] == ["Weekly quiz"]
    assert params["unread"] == {"letter": 1}
    # Their own calendar's midterm, not the university-wide add/drop of the other group.
    assert [(d["type"], d["date"]) for d in params["deadlines"]] == [
        ("calendar", "2031-03-13"),
        ("test", "2031-03-14"),
    ]
    ru_params = digests[world.ru.user_id].params
    assert ru_params["classes"] == [] and ru_params["unread"] == {}
    assert [(d["type"], d["date"]) for d in ru_params["deadlines"]] == [
        ("calendar", "2031-03-13"),
        ("test", "2031-03-14"),
    ]

    await deliver(app)
    text = bot_texts(app, world.me.chat_id)[-1]
    assert "Good morning!" in text and "Wednesday, 12 March" in text
    assert "10:00–11:20" in text and "14:00–15:20" in text and "12:00–13:20" not in text
    assert "Weekly quiz" in text and "Unread: letters 1" in text
    assert "Midterm 1 — midterm week starts" in text
    assert "• 14 March, 12:00: the test «Friday exam» closes" in text
    ru_text = bot_texts(app, world.ru.chat_id)[-1]
    assert "Доброе утро!" in ru_text and "Открытые тесты" in ru_text
    assert "Добавление/удаление дисциплин — срок добавления/удаления дисциплин" in ru_text

    # A restart later in the morning sends nothing again; a day missed until noon is skipped.
    app.clock.set(at(DAY, 11, 0))
    await morning_digest(job_context(app))
    assert len(await rows(app, "reminders.digest")) == 2
    app.clock.set(at(DAY + timedelta(days=1), 13, 0))
    await morning_digest(job_context(app))
    assert len(await rows(app, "reminders.digest")) == 2
    app.clock.set(at(DAY + timedelta(days=2), 8, 30))
    await morning_digest(job_context(app))
    assert len(await rows(app, "reminders.digest")) == 4

    # Saturday: no classes, the test is over, the letter is read: an empty digest is not sent.
    async with app.db.write() as session:
        mine = await session.scalar(
            select(MessageRecipient).where(
                MessageRecipient.user_id == world.me_person.user_id,
                MessageRecipient.message_id == message_id,
            )
        )
        mine.read_at = app.clock.now()
    app.clock.set(at(DAY + timedelta(days=3), 8, 30))
    await morning_digest(job_context(app))
    assert len(await rows(app, "reminders.digest")) == 4

    with app.i18n.context(), app.i18n.use_locale("kk"):
        kk_text = render("reminders.digest", params, "kk").text
    assert "Қайырлы таң!" in kk_text and "Бүгінгі сабақтар" in kk_text


def test_every_job_is_wired_with_a_sensible_interval() -> None:
    from scheduler.registry import JOBS
    from scheduler.runner import resolve

    specs = {spec.id: spec for spec in JOBS}
    assert len(specs) == len(JOBS)  # stable, unique ids
    # Attempts must close within a minute of their deadline.
    assert specs["testing.close_overdue"].seconds <= 30
    # A class reminder is due at a given minute.
    assert specs["reminders.classes"].seconds <= 60
    refs = {spec.ref for spec in JOBS}
    for ref in (
        "scheduler.jobs.reminders:remind_test_windows",
        "scheduler.jobs.reminders:calendar_reminders",
        "scheduler.jobs.reminders:class_reminders",
        "scheduler.jobs.reminders:morning_digest",
        "scheduler.jobs.messages:expire_messages",
        "scheduler.jobs.attendance:refresh_checkins",
    ):
        assert ref in refs and callable(resolve(ref))
