"""Virtual classrooms (§10.1): the list and its filters, materials, the conversation, muting."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from bot.delivery.render import render
from bot.demo.core import DEMO_ACCOUNTS
from bot.services import classrooms as svc
from bot.services.auth import set_password
from db.models import AcademicPeriod, Student, Teacher, User
from db.models.academic import TimetableSlot
from db.models.classrooms import Classroom, ClassroomMaterial, ClassroomPost
from db.models.delivery import Delivery
from tests.conftest import TZ, App

STUDENT = DEMO_ACCOUNTS["student"]
TEACHER = DEMO_ACCOUNTS["teacher"]


async def _year_period_ids(app: App) -> list[int]:
    async with app.db.read() as session:
        periods = await svc.current_year_periods(session, app.clock.now().astimezone(TZ).date())
        return [p.id for p in periods]


async def _expected_student_rooms(app: App, term: int = 0, kind: str = "") -> set[tuple]:
    period_ids = await _year_period_ids(app)
    async with app.db.read() as session:
        group_id = await session.scalar(
            select(Student.group_id).join(User).where(User.login == STUDENT[0])
        )
        query = (
            select(TimetableSlot.period_id, TimetableSlot.discipline_id, TimetableSlot.kind)
            .join(AcademicPeriod, AcademicPeriod.id == TimetableSlot.period_id)
            .where(TimetableSlot.group_id == group_id, TimetableSlot.period_id.in_(period_ids))
        )
        if term:
            query = query.where(AcademicPeriod.term == term)
        if kind:
            query = query.where(TimetableSlot.kind == kind)
        return {tuple(row) for row in (await session.execute(query.distinct())).all()}


def _found(text: str) -> int:
    match = re.search(r"Found: (\d+)", text)
    assert match, text
    return int(match.group(1))


async def _demo_room(app: App) -> int:
    """The first demo classroom with materials (demo.teacher with the demo student's group)."""
    async with app.db.read() as session:
        return await session.scalar(
            select(ClassroomMaterial.classroom_id).order_by(ClassroomMaterial.classroom_id)
        )


async def test_student_list_and_a_filter_combination(demo_app: App) -> None:
    client = await demo_app.signed_in(*STUDENT)
    await client.click("🏫 Classrooms")
    everything = await _expected_student_rooms(demo_app)
    assert everything
    assert _found(client.last_message().text) == len(everything)

    # Semester → the first term offered; type → the first kind offered (lecture).
    await client.click(re.compile(r"^Semester: "))
    await client.click(re.compile(r"^Type: "))
    text = client.last_message().text
    assert "Semester: 1" in " ".join(client.buttons())
    assert "Type: lecture" in " ".join(client.buttons())
    expected = await _expected_student_rooms(demo_app, term=1, kind="lecture")
    assert _found(text) == len(expected) and 0 < len(expected) < len(everything)
    assert "lecture" in text and "practice ·" not in text

    # The teacher sees the classrooms they teach.
    teacher = await demo_app.signed_in(*TEACHER)
    await teacher.click("🏫 Classrooms")
    async with demo_app.db.read() as session:
        teacher_id = await session.scalar(
            select(Teacher.id).join(User).where(User.login == TEACHER[0])
        )
        own = await session.scalar(
            select(func.count())
            .select_from(Classroom)
            .where(
                Classroom.teacher_id == teacher_id,
                Classroom.period_id.in_(await _year_period_ids(demo_app)),
            )
        )
    assert _found(teacher.last_message().text) == own > 0


async def test_materials_new_since_last_visit_and_teacher_tools(demo_app: App) -> None:
    room_id = await _demo_room(demo_app)
    async with demo_app.db.read() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(ClassroomMaterial)
            .where(ClassroomMaterial.classroom_id == room_id)
        )
    student = await demo_app.signed_in(*STUDENT)
    await student.click_data(f"cls:room:{room_id}:0:0:0:0:0:")
    assert (
        f"Materials: {count} (new since your last visit: {count})" in student.last_message().text
    )
    await student.click("📎 Materials")
    assert student.last_message().text.count("🆕") == count

    # A second visit: nothing new.
    await student.click("« Back")
    assert f"Materials: {count} (new since your last visit: 0)" in student.last_message().text

    # Later, the teacher adds a document under week 5 and a link under week 6.
    demo_app.clock.advance(minutes=10)
    teacher = await demo_app.signed_in(*TEACHER)
    await teacher.click_data(f"cls:room:{room_id}:0:0:0:0:0:")
    await teacher.click("➕ Add material")
    await teacher.send("55 Too far")
    assert "week number from 1 to 30" in teacher.last_message().text
    await teacher.send("5 Indexes")
    await teacher.send_document("notes.txt", b"Indexes: B-trees and hash indexes.")
    assert "The material was added" in teacher.messages()[-2].text
    await teacher.click("➕ Add material")
    await teacher.send("6 Query plans")
    await teacher.send("no link here")
    assert "Send a document, a photo or a link" in teacher.last_message().text
    await teacher.send("https://www.sqlite.org/eqp.html EXPLAIN QUERY PLAN")
    assert "EXPLAIN QUERY PLAN" in teacher.last_message().text
    assert "Week 6: Query plans" in teacher.last_message().text

    await student.click_data(f"cls:room:{room_id}:0:0:0:0:0:")
    assert f"Materials: {count + 2} (new since your last visit: 2)" in student.last_message().text

    # A student cannot remove; the teacher can.
    async with demo_app.db.read() as session:
        first = await session.scalar(
            select(ClassroomMaterial.id)
            .where(ClassroomMaterial.classroom_id == room_id)
            .order_by(ClassroomMaterial.id)
        )
    await student.click_data(f"cls:rmok:{room_id}:{first}:0:0:0:0:")
    assert "not available" in student.last_answer().text
    await teacher.click_data(f"cls:rm:{room_id}:{first}:0:0:0:0:")
    await teacher.click("🗑 Remove")
    async with demo_app.db.read() as session:
        assert await session.get(ClassroomMaterial, first) is None


async def test_conversation_is_delivered_to_members_and_muting(demo_app: App) -> None:
    room_id = await _demo_room(demo_app)
    student = await demo_app.signed_in(*STUDENT)
    await student.click_data(f"cls:room:{room_id}:0:0:0:0:0:")
    await student.click("💬 Write")
    await student.send("x" * (svc.MAX_POST_LENGTH + 1))
    assert "too long" in student.last_message().text
    await student.send("Can we get the slides <b>before</b> class?")
    assert "Sent to the classroom" in student.messages()[-2].text

    async with demo_app.db.read() as session:
        room = await session.get(Classroom, room_id)
        group_users = set(
            await session.scalars(select(Student.user_id).where(Student.group_id == room.group_id))
        )
        teacher_user = await session.scalar(
            select(Teacher.user_id).where(Teacher.id == room.teacher_id)
        )
        author = await session.scalar(select(User.id).where(User.login == STUDENT[0]))
        post = await session.scalar(
            select(ClassroomPost).order_by(ClassroomPost.id.desc()).limit(1)
        )
        rows = list(
            await session.scalars(select(Delivery).where(Delivery.template == "classrooms.post"))
        )
        recipients = {d.user_id for d in rows}
        params = rows[0].params
    assert recipients == (group_users | {teacher_user}) - {author}
    assert params["post_id"] == post.id

    with demo_app.i18n.context(), demo_app.i18n.use_locale("kk"):
        in_kazakh = render("classrooms.post", params, "kk")
    assert "аудиторияда жазды" in in_kazakh.text
    with demo_app.i18n.context(), demo_app.i18n.use_locale("en"):
        shown = render("classrooms.post", params, "en")
    assert "Қасымов Әлихан" in shown.text and "&lt;b&gt;before&lt;/b&gt;" in shown.text
    assert "(student)" in shown.text
    assert [b.text for b in shown.buttons[0]] == ["↩️ Reply", "🏫 Open the classroom"]

    # The teacher's home counts what others wrote in their classrooms.
    teacher = await demo_app.signed_in(*TEACHER)
    async with demo_app.db.read() as session:
        unread = await session.scalar(
            select(func.count())
            .select_from(ClassroomPost)
            .join(Classroom, Classroom.id == ClassroomPost.classroom_id)
            .where(
                Classroom.teacher_id == room.teacher_id,
                Classroom.period_id.in_(await _year_period_ids(demo_app)),
                ClassroomPost.author_user_id != teacher_user,
            )
        )
    assert f"New messages in your classrooms: {unread}" in teacher.last_message().text

    # The teacher replies from the pushed post.
    await teacher.click_data(shown.buttons[0][0].callback_data)
    assert "Type your message" in teacher.last_message().text
    await teacher.send("Yes, they are in the materials.")
    async with demo_app.db.read() as session:
        teacher_rows = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.template == "classrooms.post", Delivery.user_id == author)
        )
    assert teacher_rows == 1

    # The teacher mutes the student: writing is refused, nothing is queued.
    await teacher.click("👥 Members")
    await teacher.click("🔊 Қасымов Әлихан")
    assert "🔇 Қасымов Әлихан Ұлықбекұлы" in teacher.buttons()
    await student.click_data(f"cls:write:{room_id}:0:0:0:0:0:")
    assert "muted" in student.last_answer().text
    async with demo_app.db.read() as session:
        before = await session.scalar(select(func.count()).select_from(ClassroomPost))
    await student.click_data(f"cls:room:{room_id}:0:0:0:0:0:")
    assert "muted you here" in student.last_message().text
    await student.send("let me in")
    async with demo_app.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(ClassroomPost)) == before


async def test_outsiders_and_forged_ids_are_refused(demo_app: App) -> None:
    room_id = await _demo_room(demo_app)
    async with demo_app.db.write() as session:
        group_id = await session.scalar(select(Classroom.group_id).where(Classroom.id == room_id))
        outsider = await session.scalar(
            select(User)
            .join(Student, Student.user_id == User.id)
            .where(Student.group_id != group_id)
            .limit(1)
        )
        await set_password(session, outsider.id, "Outsider-2026!", temporary=False)
        login = outsider.login
    client = await demo_app.signed_in(login, "Outsider-2026!")
    for action in ("room", "mats", "write", "mem", "conv"):
        await client.click_data(f"cls:{action}:{room_id}:0:0:0:0:0:")
        assert "not available" in client.last_answer().text
    await client.click_data("cls:room:99999999:0:0:0:0:0:")
    assert "not available" in client.last_answer().text
    student = await demo_app.signed_in(*STUDENT)
    await student.click_data(f"cls:mem:{room_id}:0:0:0:0:0:")
    assert "not available" in student.last_answer().text
    await student.click_data(f"cls:mute:{room_id}:0:1:0:0:0:")
    assert "not available" in student.last_answer().text
