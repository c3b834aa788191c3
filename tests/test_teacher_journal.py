"""The teacher's journal: marks typed by a teacher, attendance at a class, and every refusal."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from bot.demo.core import DEMO_ACCOUNTS
from bot.i18n import fmt_date
from bot.services import timetable as tt
from db.models import Discipline, Teacher, User
from db.models.academic import AttendanceMark, ClassMeeting, CurrentMark, Enrolment, TimetableSlot
from db.models.delivery import Delivery
from tests.conftest import App
from tests.test_journal import current_period, demo_student

STUDENT = DEMO_ACCOUNTS["student"]
TEACHER = DEMO_ACCOUNTS["teacher"]


async def teacher_id(app: App, login: str = TEACHER[0]) -> int:
    async with app.db.read() as session:
        found = await session.scalar(
            select(Teacher.id).join(User, User.id == Teacher.user_id).where(User.login == login)
        )
        assert found is not None
        return found


async def taught_enrolment(app: App, *, mine: bool) -> tuple[Enrolment, Discipline]:
    """An enrolment of the demo student that demo.teacher teaches (or does not)."""
    student = await demo_student(app)
    period = await current_period(app)
    me = await teacher_id(app)
    async with app.db.read() as session:
        rows = list(
            await session.execute(
                select(Enrolment, Discipline)
                .join(Discipline, Discipline.id == Enrolment.discipline_id)
                .where(Enrolment.student_id == student.id, Enrolment.period_id == period.id)
                .order_by(Discipline.code)
            )
        )
    for enrolment, discipline in rows:
        if (enrolment.teacher_id == me) == mine:
            return enrolment, discipline
    raise AssertionError("no such enrolment in the demo")


async def open_student(client, discipline: Discipline, group: str) -> None:
    await client.click("My classes")
    await client.click(f"{group} · {discipline.name_en}")
    await client.click("Қасымов")


async def test_teacher_sets_a_midterm_and_the_student_is_told(demo_app: App) -> None:
    enrolment, discipline = await taught_enrolment(demo_app, mine=True)
    student = await demo_student(demo_app)
    async with demo_app.db.read() as session:
        group = (
            await session.scalar(select(Enrolment).where(Enrolment.id == enrolment.id))
        ).student_id
        from db.models import Group, Student

        code = await session.scalar(
            select(Group.code)
            .join(Student, Student.group_id == Group.id)
            .where(Student.id == group)
        )
    client = await demo_app.signed_in(*TEACHER)
    await open_student(client, discipline, code)
    assert f"Midterm 1: {enrolment.midterm1.normalize():f}" in client.last_message().text
    await client.click("Midterm 2")
    await client.send("abc")
    assert "A mark is a number from 0 to 100" in client.last_message().text
    await client.send("101")
    assert "A mark is a number from 0 to 100" in client.last_message().text
    await client.send("87,5")
    text = client.last_message().text
    assert "Saved. The student has been notified." in text
    assert "Midterm 2: 87.5" in text
    admission = (enrolment.midterm1 + Decimal("87.5")) / 2
    assert f"Admission: {admission.quantize(Decimal('0.01')).normalize():f}" in text
    async with demo_app.db.read() as session:
        saved = await session.get(Enrolment, enrolment.id)
        assert saved.midterm2 == Decimal("87.50")
        pushes = list(
            await session.scalars(
                select(Delivery).where(
                    Delivery.user_id == student.user_id,
                    Delivery.template == "journal.mark_changed",
                )
            )
        )
    assert len(pushes) == 1 and pushes[0].params["new"] == "87.5"
    assert pushes[0].params["discipline"]["en"] == discipline.name_en

    # The same value again changes nothing and queues nothing.
    await client.click("Midterm 2")
    await client.send("87.50")
    assert "Nothing changed." in client.last_message().text
    # A current mark with its kind.
    await client.click("Current mark")
    await client.click("lab")
    await client.send("93")
    async with demo_app.db.read() as session:
        last = await session.scalar(
            select(CurrentMark)
            .where(CurrentMark.enrolment_id == enrolment.id)
            .order_by(CurrentMark.id.desc())
            .limit(1)
        )
        count = await session.scalar(
            select(func.count(Delivery.id)).where(Delivery.user_id == student.user_id)
        )
    assert last.value == Decimal("93.00") and last.work_kind == "lab"
    assert count == 2
    # Clearing a control mark with a dash.
    await client.click("Exam")
    await client.send("-")
    assert "Nothing changed." in client.last_message().text  # there was no exam yet


async def test_a_teacher_cannot_touch_what_they_do_not_teach(demo_app: App) -> None:
    enrolment, _discipline = await taught_enrolment(demo_app, mine=False)
    client = await demo_app.signed_in(*TEACHER)
    await client.click("My classes")
    for data in (
        f"tj:s:{enrolment.id}:0:0",
        f"tj:e:{enrolment.id}:2:0",
        f"tj:k:{enrolment.id}:0:0",
    ):
        await client.click_data(data)
        assert client.last_answer().text == "This is not available."
    # Even with the typing state forged through a stale "enter the mark" step.
    mine, _ = await taught_enrolment(demo_app, mine=True)
    await client.click_data(f"tj:e:{mine.id}:2:0")
    async with demo_app.db.write() as session:
        taken = await session.get(Enrolment, mine.id)
        taken.teacher_id = None
        await session.execute(
            TimetableSlot.__table__.update()
            .where(TimetableSlot.discipline_id == taken.discipline_id)
            .values(teacher_id=None)
        )
    await client.send("55")
    assert client.last_message().text == "This is not available."
    async with demo_app.db.read() as session:
        assert (await session.get(Enrolment, mine.id)).exam is None
    # A unit of someone else and a forged control code.
    await client.click_data(f"tj:g:{enrolment.discipline_id}:1:0")
    assert client.last_answer().text == "This is not available."
    await client.click_data("tj:e:1:7:0")
    assert client.last_answer().text == "This is not available."


async def test_students_are_kept_out(demo_app: App) -> None:
    client = await demo_app.signed_in(*STUDENT)
    assert "📒 My classes" not in client.buttons()
    await client.click_data("tj:u:0:0:0")
    assert client.last_answer().text == "This section is for teachers."
    await client.click_data("nav:tjournal")
    assert client.last_answer().text == "This section is for teachers."


async def test_attendance_by_the_teacher(demo_app: App) -> None:
    period = await current_period(demo_app)
    me = await teacher_id(demo_app)
    student = await demo_student(demo_app)
    monday = tt.monday_of(period.starts_on) + timedelta(weeks=4)
    demo_app.clock.set(
        datetime.combine(
            monday + timedelta(days=1), time(18), tzinfo=demo_app.settings.tz
        ).astimezone(UTC)
    )
    async with demo_app.db.read() as session:
        days = await tt.classes_between(session, monday, monday, teacher_id=me)
        item = next(i for i in days[monday] if i.slot.group_id == student.group_id)
        # Forget what the demo recorded for this class, so the screen starts unmarked.
    async with demo_app.db.write() as session:
        meeting = await tt.meeting_for(session, item.slot.id, monday)
        await session.execute(
            AttendanceMark.__table__.delete().where(AttendanceMark.meeting_id == meeting.id)
        )
        meeting_id = meeting.id
    client = await demo_app.signed_in(*TEACHER)
    await client.click("My classes")
    await client.click(f"{item.slot.group.code} · {item.slot.discipline.name_en}")
    await client.click("Attendance")
    label = next(
        b
        for b in client.buttons()
        if b.startswith(fmt_date(monday, "en", "short"))
        and item.slot.starts_at.strftime("%H:%M") in b
    )
    await client.click(label)
    assert "not marked: 8" in client.last_message().text
    await client.click("Қасымов")
    await client.click("Қасымов")  # present -> absent
    await client.click("Everyone else present")
    assert "Present: 7 · absent: 1 · not marked: 0" in client.last_message().text
    async with demo_app.db.read() as session:
        marks = dict(
            (
                await session.execute(
                    select(AttendanceMark.student_id, AttendanceMark.present).where(
                        AttendanceMark.meeting_id == meeting_id
                    )
                )
            ).all()
        )
    assert marks[student.id] is False and sum(marks.values()) == 7
    # A future class cannot be opened, nor a class of another teacher.
    future = monday + timedelta(weeks=3)
    await client.click_data(f"tj:m:{item.slot.id}:{future.toordinal()}:0")
    assert client.last_answer().text == "This is not available."
    async with demo_app.db.read() as session:
        foreign = await session.scalar(
            select(ClassMeeting.id)
            .join(TimetableSlot, TimetableSlot.id == ClassMeeting.slot_id)
            .where(TimetableSlot.teacher_id != me)
            .limit(1)
        )
    await client.click_data(f"tj:t:{foreign}:{student.id}:0")
    assert client.last_answer().text == "This is not available."
    await client.click_data(f"tj:t:{meeting_id}:999999:0")
    assert client.last_answer().text == "This is not available."


async def test_staff_see_every_class(demo_app: App) -> None:
    period = await current_period(demo_app)
    async with demo_app.db.read() as session:
        groups = await session.scalar(
            select(func.count(func.distinct(TimetableSlot.group_id))).where(
                TimetableSlot.period_id == period.id
            )
        )
    client = await demo_app.signed_in(*DEMO_ACCOUNTS["staff"])
    await client.click("My classes")
    assert "Choose a discipline and group" in client.last_message().text
    assert groups > 2
    assert (
        any(b.startswith("EC-") or b.startswith("LAW-") for b in client.buttons())
        or "›" in client.buttons()
    )
