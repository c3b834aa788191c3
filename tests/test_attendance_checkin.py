"""QR attendance check-in (§12): the teacher's live code, scans, closing, corrections, warning."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import zxingcpp
from aiogram.methods import EditMessageCaption, EditMessageMedia, SendPhoto
from PIL import Image
from sqlalchemy import func, select

from bot.demo.core import DEMO_ACCOUNTS
from bot.services import journal, timetable
from bot.services.auth import set_password
from db.models import AcademicPeriod, Student, Teacher, User
from db.models.academic import AttendanceMark, ClassMeeting, TimetableSlot
from db.models.attendance_checkin import CheckIn
from db.models.delivery import Delivery
from scheduler.context import JobContext
from scheduler.jobs.attendance import refresh_checkins
from tests.conftest import TZ, App
from tests.support.fake_session import BOT_USERNAME

STUDENT = DEMO_ACCOUNTS["student"]
TEACHER = DEMO_ACCOUNTS["teacher"]
OTHER_PASSWORD = "Other-2026-pass!"


async def _class_of_demo_teacher(app: App) -> tuple[int, date, datetime]:
    """A class of demo.teacher with the demo student's group, on a day from today on."""
    async with app.db.read() as session:
        student = await session.scalar(select(Student).join(User).where(User.login == STUDENT[0]))
        teacher_id = await session.scalar(
            select(Teacher.id).join(User).where(User.login == TEACHER[0])
        )
        today = app.clock.now().astimezone(TZ).date()
        period = await journal.current_period(session, today)
        slots = list(
            await session.scalars(
                select(TimetableSlot)
                .where(
                    TimetableSlot.teacher_id == teacher_id,
                    TimetableSlot.group_id == student.group_id,
                    TimetableSlot.period_id == period.id,
                )
                .order_by(TimetableSlot.id)
            )
        )
        assert slots, "demo.teacher teaches the demo student's group"
        for offset in range(28):
            day = today + timedelta(days=offset)
            for slot in slots:
                if timetable.runs_on(slot, period, day):
                    start = datetime.combine(day, slot.starts_at, tzinfo=TZ) + timedelta(minutes=5)
                    return slot.id, day, start
    raise AssertionError("no class of demo.teacher in the next four weeks")


async def _student_of_group(app: App, same_group_as: str, same: bool) -> str:
    """Give a password to another student (of the same group or of another one); their login."""
    async with app.db.write() as session:
        group_id = await session.scalar(
            select(Student.group_id).join(User).where(User.login == same_group_as)
        )
        condition = Student.group_id == group_id if same else Student.group_id != group_id
        user = await session.scalar(
            select(User)
            .join(Student, Student.user_id == User.id)
            .where(condition, User.login != same_group_as)
            .order_by(User.id)
            .limit(1)
        )
        await set_password(session, user.id, OTHER_PASSWORD, temporary=False)
        return user.login


def _decode(photo: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(photo)))
    assert len(found) == 1
    return found[0].text


async def _open_checkin(app: App):
    slot_id, day, start = await _class_of_demo_teacher(app)
    app.clock.set(start)
    teacher = await app.signed_in(*TEACHER)
    await teacher.click("📷 Check-in")
    assert "Your classes on" in teacher.last_message().text
    await teacher.click_data(f"att:open:0:{slot_id}")
    photo = teacher.last_message()
    assert photo.media_type == "photo"
    return teacher, photo, slot_id, day


def _token(link: str) -> str:
    prefix = f"https://t.me/{BOT_USERNAME}?start=a_"
    assert link.startswith(prefix), link
    return link.removeprefix(prefix)


async def test_qr_encodes_the_start_link_and_students_check_in(demo_app: App) -> None:
    teacher, photo, slot_id, day = await _open_checkin(demo_app)
    link = _decode(photo.photo_bytes)
    token = _token(link)
    assert "Checked in: 0 of" in photo.text

    student = await demo_app.signed_in(*STUDENT)
    await student.send(f"/start a_{token}")
    assert "You are marked present" in student.last_message().text
    # Scanning twice is harmless.
    await student.send(f"/start a_{token}")
    assert "already marked present" in student.last_message().text

    async with demo_app.db.read() as session:
        meeting = await session.scalar(
            select(ClassMeeting).where(
                ClassMeeting.slot_id == slot_id, ClassMeeting.on_date == day
            )
        )
        marks = [
            (m.present, m.source.value)
            for m in await session.scalars(
                select(AttendanceMark).where(AttendanceMark.meeting_id == meeting.id)
            )
        ]
        group_size = await session.scalar(
            select(func.count())
            .select_from(Student)
            .join(TimetableSlot, TimetableSlot.group_id == Student.group_id)
            .where(TimetableSlot.id == slot_id)
        )
    assert marks == [(True, "qr")]

    # The teacher's count follows (the refresh button edits the caption).
    demo_app.clock.advance(seconds=6)
    await teacher.click("🔄 Refresh")
    assert f"Checked in: 1 of {group_size}" in teacher.last_message().text

    # A student of another group is refused and not marked.
    outsider_login = await _student_of_group(demo_app, STUDENT[0], same=False)
    outsider = await demo_app.signed_in(outsider_login, OTHER_PASSWORD)
    await outsider.send(f"/start a_{token}")
    assert "is not in your timetable" in outsider.last_message().text

    # Someone not signed in is asked to sign in first.
    stranger = demo_app.client()
    await stranger.send(f"/start a_{token}")
    assert any("Sign in first" in (m.text or "") for m in stranger.messages())

    async with demo_app.db.read() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(AttendanceMark)
            .join(ClassMeeting, ClassMeeting.id == AttendanceMark.meeting_id)
            .where(ClassMeeting.slot_id == slot_id, ClassMeeting.on_date == day)
        )
    assert count == 1


async def test_codes_rotate_and_expire(demo_app: App) -> None:
    teacher, photo, _slot, _day = await _open_checkin(demo_app)
    first = _token(_decode(photo.photo_bytes))
    ctx = JobContext(
        db=demo_app.db,
        bot=demo_app.bot,
        i18n=demo_app.i18n,
        settings=demo_app.settings,
        clock=demo_app.clock,
    )
    # Nothing changed yet: the job leaves the message alone.
    demo_app.session.clear()
    await refresh_checkins(ctx)
    assert demo_app.session.requests_of(EditMessageMedia, EditMessageCaption) == []

    demo_app.clock.advance(seconds=demo_app.settings.checkin.rotate_seconds + 1)
    await refresh_checkins(ctx)
    assert len(demo_app.session.requests_of(EditMessageMedia)) == 1
    second = _token(_decode(teacher.last_message().photo_bytes))
    assert second != first

    # The first code still works for a moment, then no longer.
    demo_app.clock.advance(seconds=demo_app.settings.checkin.token_ttl_seconds)
    student = await demo_app.signed_in(*STUDENT)
    await student.send(f"/start a_{first}")
    assert "expired" in student.last_message().text
    await student.send("/start a_notARealToken123")
    assert "expired" in student.last_message().text


async def test_close_marks_absent_then_corrections_and_warning_once(demo_app: App) -> None:
    teacher, photo, slot_id, day = await _open_checkin(demo_app)
    token = _token(_decode(photo.photo_bytes))
    classmate_login = await _student_of_group(demo_app, STUDENT[0], same=True)
    classmate = await demo_app.signed_in(classmate_login, OTHER_PASSWORD)
    await classmate.send(f"/start a_{token}")
    assert "marked present" in classmate.last_message().text

    # Bring the demo student one absence short of the limit in this discipline.
    async with demo_app.db.write() as session:
        student = await session.scalar(select(Student).join(User).where(User.login == STUDENT[0]))
        slot = await session.get(TimetableSlot, slot_id)
        period = await session.get(AcademicPeriod, slot.period_id)
        student_id, user_id = student.id, student.user_id
        siblings = list(
            await session.scalars(
                select(TimetableSlot).where(
                    TimetableSlot.group_id == slot.group_id,
                    TimetableSlot.discipline_id == slot.discipline_id,
                    TimetableSlot.period_id == slot.period_id,
                )
            )
        )
        upcoming = [
            (sibling, day + timedelta(days=n))
            for n in range(1, (period.ends_on - day).days + 1)
            for sibling in siblings
            if timetable.runs_on(sibling, period, day + timedelta(days=n))
        ]
        for sibling, when in upcoming:
            share = await journal.absence_share(
                session, student_id, slot.discipline_id, slot.period_id
            )
            if (share.absent + 1) / (share.planned or share.held) >= float(share.limit):
                break
            meeting = await timetable.meeting_for(session, sibling.id, when)
            await journal.mark_attendance(
                session,
                meeting_id=meeting.id,
                student_id=student_id,
                present=False,
                source="teacher",
                now=demo_app.clock.now(),
            )
        else:
            raise AssertionError("the period is too short to reach the absence limit")
        warnings = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.user_id == user_id, Delivery.template == "journal.absence_limit")
        )
        assert warnings == 0

    await teacher.click("✅ Close the check-in")
    assert "Marked absent" in teacher.last_answer().text
    screen = teacher.last_message().text
    assert "Present: 1 of" in screen
    qr_message = teacher.session.chats[teacher.chat_id][photo.message_id]
    assert "closed" in qr_message.text and qr_message.reply_markup is None

    async with demo_app.db.read() as session:
        warnings = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.user_id == user_id, Delivery.template == "journal.absence_limit")
        )
        meeting_id = await session.scalar(
            select(CheckIn.meeting_id).where(CheckIn.closed_at.is_not(None))
        )
        present = await journal.meeting_marks(session, meeting_id)
    assert warnings == 1
    assert present[student_id] is False

    # A scan after closing is refused.
    student = await demo_app.signed_in(*STUDENT)
    await student.send(f"/start a_{token}")
    assert "is closed" in student.last_message().text

    # The teacher corrects the demo student by hand, then back: still one warning.
    name = "Қасымов Әлихан"
    await teacher.click(f"❌ {name}")
    assert f"✅ {name}" in " ".join(teacher.buttons())
    await teacher.click(f"✅ {name}")
    async with demo_app.db.read() as session:
        warnings = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.user_id == user_id, Delivery.template == "journal.absence_limit")
        )
        mark = await session.scalar(
            select(AttendanceMark.source).where(
                AttendanceMark.meeting_id == meeting_id,
                AttendanceMark.student_id == student_id,
            )
        )
    assert warnings == 1
    assert mark.value == "teacher"


async def test_checkin_is_for_teachers_and_their_own_classes(demo_app: App) -> None:
    slot_id, _day, start = await _class_of_demo_teacher(demo_app)
    demo_app.clock.set(start)
    student = await demo_app.signed_in(*STUDENT)
    assert "📷 Check-in" not in student.buttons()
    await student.click_data(f"att:open:0:{slot_id}")
    assert "no longer available" in student.last_answer().text
    async with demo_app.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(CheckIn)) == 0
        foreign = await session.scalar(
            select(TimetableSlot.id)
            .join(Teacher, Teacher.id == TimetableSlot.teacher_id)
            .join(User, User.id == Teacher.user_id)
            .where(User.login != TEACHER[0])
            .limit(1)
        )
    teacher = await demo_app.signed_in(*TEACHER)
    await teacher.click_data(f"att:open:0:{foreign}")
    assert "not available" in teacher.last_answer().text
    await teacher.click_data("att:close:999999:0")
    assert "not available" in teacher.last_answer().text
    async with demo_app.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(CheckIn)) == 0
    assert demo_app.session.requests_of(SendPhoto) == []
