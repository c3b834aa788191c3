"""Spreadsheet exports and charts: built from the database, opened and checked cell by cell."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from aiogram.methods import SendChatAction
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, select, update

from bot.demo.core import DEMO_ACCOUNTS
from bot.handlers import exports as export_handlers
from bot.handlers.exports import parse_range
from bot.keyboards.academic import TeacherCb
from bot.keyboards.exports import ExportCb
from bot.keyboards.messages import MailCb
from bot.services import charts
from bot.services import journal as journal_svc
from bot.services.exports import XLSX_MIME, Column, Sheet, file_name, workbook_bytes
from db.models import AcademicPeriod, Discipline, Group, Student, Teacher, User
from db.models.academic import (
    AttendanceMark,
    ClassMeeting,
    CurrentMark,
    Enrolment,
    TimetableSlot,
    WorkKind,
)
from db.models.messaging import Message, MessageKind
from db.models.services import ServiceRequest
from db.models.testing import Attempt, AttemptStatus, OnlineTest
from tests.conftest import App
from tests.support import ChatMessage

STUDENT = DEMO_ACCOUNTS["student"]
TEACHER = DEMO_ACCOUNTS["teacher"]
STAFF = DEMO_ACCOUNTS["staff"]
HOSTILE = '=HYPERLINK("x")'


def sheet_rows(data: bytes, title: str | None = None) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook[title] if title else workbook.worksheets[0]
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def header_index(rows: list[tuple], first: str) -> int:
    return next(i for i, row in enumerate(rows) if row and row[0] == first)


def last_document(client: object) -> ChatMessage:
    found = [m for m in client.messages() if m.media_type == "document"]  # type: ignore[attr-defined]
    assert found, "no document was sent"
    return found[-1]


def last_photo(client: object) -> ChatMessage:
    found = [m for m in client.messages() if m.media_type == "photo"]  # type: ignore[attr-defined]
    assert found, "no photo was sent"
    return found[-1]


# ---- the pure parts --------------------------------------------------------------------------


def test_workbook_neutralises_formulas_and_freezes_the_header() -> None:
    sheet = Sheet(
        title="Journal: [IS]",
        caption=[HOSTILE],
        columns=[Column("Name"), Column("Mark", "0.00"), Column("@cmd")],
        rows=[[HOSTILE, Decimal("85.5"), "-1"], ["+7 701", 42, None]],
    )
    data = workbook_bytes([sheet])
    workbook = load_workbook(io.BytesIO(data))
    ws = workbook.worksheets[0]
    assert ws.title == "Journal   IS"
    assert ws["A1"].value == "'" + HOSTILE
    assert ws.freeze_panes == "A4"
    assert [c.value for c in ws[3]] == ["Name", "Mark", "'@cmd"]
    assert [c.value for c in ws[4]] == ["'" + HOSTILE, 85.5, "'-1"]
    assert [c.value for c in ws[5]] == ["'+7 701", 42, None]
    assert ws["B4"].number_format == "0.00"
    assert ws.auto_filter.ref == "A3:C5"
    assert all(cell.data_type != "f" for row in ws.iter_rows() for cell in row)


def test_file_names_are_plain() -> None:
    assert (
        file_name("journal", "IS-25-1", "DBS2201", "2026-autumn")
        == "journal-IS-25-1-DBS2201-2026-autumn.xlsx"
    )
    assert file_name("x", "../../etc/passwd", ext="png") == "x-etc-passwd.png"
    assert file_name("journal", "ИС-25-1", "ҚАЗ 1101") == "journal-ИС-25-1-ҚАЗ-1101.xlsx"
    assert file_name("", "///") == "export.xlsx"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01.09.2026–30.09.2026", (date(2026, 9, 1), date(2026, 9, 30))),
        (" 1.9.2026 - 30.9.2026 ", (date(2026, 9, 1), date(2026, 9, 30))),
        ("01.09.2026—01.09.2026", (date(2026, 9, 1), date(2026, 9, 1))),
        ("01.09.2026", "Type the range"),
        ("31.02.2026–01.03.2026", "does not exist"),
        ("30.09.2026–01.09.2026", "starts after it ends"),
        ("01.01.2025–01.01.2027", "at most a year"),
        ("=1+1", "Type the range"),
    ],
)
def test_parse_range(i18n: object, text: str, expected: object) -> None:
    with i18n.context(), i18n.use_locale("en"):  # type: ignore[attr-defined]
        result = parse_range(text)
    if isinstance(expected, tuple):
        assert result == expected
    else:
        assert isinstance(result, str) and expected in result


def test_weeks_and_bands() -> None:
    weeks = charts.student_weeks(
        [
            (date(2026, 9, 1), Decimal(60)),
            (date(2026, 9, 3), Decimal(80)),
            (date(2026, 9, 15), Decimal(90)),
        ],
        [(date(2026, 9, 2), True), (date(2026, 9, 9), False)],
        lambda d: f"{d:%d.%m}",
    )
    assert [w.monday for w in weeks] == [date(2026, 8, 31), date(2026, 9, 7), date(2026, 9, 14)]
    assert [w.mean_mark for w in weeks] == [70.0, None, 90.0]
    assert [round(w.running_average or 0, 2) for w in weeks] == [70.0, 70.0, 76.67]
    assert [(w.attended, w.held) for w in weeks] == [(1, 1), (0, 1), (0, 0)]
    bands = charts.band_counts(
        [Decimal("49.49"), Decimal("49.5"), Decimal("94.5"), Decimal(10)], journal_svc.rules()
    )
    counts = {b.label: b.count for b in bands}
    assert counts["FX"] == 1 and counts["D"] == 1 and counts["A"] == 1 and counts["F"] == 1
    assert [b.label for b in bands][:3] == ["F", "FX", "D"]


# ---- the teacher's class ---------------------------------------------------------------------


async def _teacher_unit(app: App) -> tuple[Discipline, Group, int]:
    today = app.clock.now().astimezone(app.settings.tz).date()
    async with app.db.read() as session:
        teacher = await session.scalar(select(Teacher).join(User).where(User.login == TEACHER[0]))
        period = await journal_svc.current_period(session, today)
        units = await journal_svc.teaching_units(session, teacher.id, period.id)
        unit = units[0]
        return unit.discipline, unit.group, period.id


async def _open_unit(app: App, login: tuple[str, str] = TEACHER) -> tuple:
    discipline, group, period_id = await _teacher_unit(app)
    client = await app.signed_in(*login)
    await client.click("My classes")
    label = f"{group.code} · {discipline.name_en}"[:64]
    if label in client.buttons():
        await client.click(label)
    else:  # staff see every class of the university, paged
        await client.click_data(TeacherCb(a="g", x=discipline.id, y=group.id).pack())
    return client, discipline, group, period_id


async def _make_hostile(app: App, group_id: int) -> int:
    async with app.db.write() as session:
        student = await session.scalar(
            select(Student).where(Student.group_id == group_id).order_by(Student.id).limit(1)
        )
        await session.execute(
            update(User).where(User.id == student.user_id).values(last_name=HOSTILE)
        )
        return student.id


async def test_teacher_exports_the_journal(demo_app: App) -> None:
    discipline, group, period_id = await _teacher_unit(demo_app)
    await _make_hostile(demo_app, group.id)
    client, *_ = await _open_unit(demo_app)
    assert "📥 Journal (XLSX)" in client.buttons()
    await client.click("📥 Journal (XLSX)")
    document = last_document(client)
    async with demo_app.db.read() as session:
        period_code = (await session.get(AcademicPeriod, period_id)).code
        lines = await journal_svc.roster(session, discipline.id, group.id, period_id)
        marks_count = await session.scalar(
            select(func.count(CurrentMark.id))
            .join(Enrolment, Enrolment.id == CurrentMark.enrolment_id)
            .join(Student, Student.id == Enrolment.student_id)
            .where(
                Student.group_id == group.id,
                Enrolment.discipline_id == discipline.id,
                Enrolment.period_id == period_id,
            )
        )
    assert document.document_name == f"journal-{group.code}-{discipline.code}-{period_code}.xlsx"
    assert document.document_mime == XLSX_MIME
    rows = sheet_rows(document.document_bytes, "Journal")
    head = header_index(rows, "№")
    assert rows[head][:4] == ("№", "Student ID", "Student", "Current average")
    body = rows[head + 1 :]
    enrolled = [line for line in lines if line.row is not None]
    assert len(body) == len(enrolled)
    by_no = {row[1]: row for row in body}
    for line in enrolled:
        row = by_no[line.student.student_no]
        expected = line.row
        assert row[3] == (float(expected.current) if expected.current is not None else None)
        assert row[8] == (float(expected.final) if expected.final is not None else None)
        assert row[9] == (expected.grade.display if expected.grade else None)
    hostile = [row for row in body if HOSTILE in str(row[2])]
    assert hostile and all(row[2].startswith("'=") for row in hostile)
    marks = sheet_rows(document.document_bytes, "Current marks")
    assert marks[header_index(marks, "Student ID")][:3] == ("Student ID", "Student", "Date")
    assert len(marks) - header_index(marks, "Student ID") - 1 == marks_count


async def _hold_classes(app: App, discipline: Discipline, group: Group) -> list[tuple[date, int]]:
    """Two classes this week of the discipline with marks for everyone (first one absent)."""
    today = app.clock.now().astimezone(app.settings.tz).date()
    held = []
    async with app.db.write() as session:
        slot = await session.scalar(
            select(TimetableSlot).where(
                TimetableSlot.discipline_id == discipline.id, TimetableSlot.group_id == group.id
            )
        )
        students = list(
            await session.scalars(
                select(Student.id).where(Student.group_id == group.id).order_by(Student.id)
            )
        )
        for back in (0, 1):
            day = today - timedelta(days=back)
            meeting = await session.scalar(
                select(ClassMeeting).where(
                    ClassMeeting.slot_id == slot.id, ClassMeeting.on_date == day
                )
            )
            if meeting is None:
                meeting = ClassMeeting(slot_id=slot.id, on_date=day)
                session.add(meeting)
                await session.flush()
            for index, student_id in enumerate(students):
                exists = await session.scalar(
                    select(AttendanceMark).where(
                        AttendanceMark.meeting_id == meeting.id,
                        AttendanceMark.student_id == student_id,
                    )
                )
                if exists is None:
                    session.add(
                        AttendanceMark(
                            meeting_id=meeting.id,
                            student_id=student_id,
                            present=not (index == 0 and back == 0),
                            source="teacher",
                            marked_at=app.clock.now(),
                        )
                    )
            held.append((day, meeting.id))
    return held


async def test_attendance_over_presets_and_a_typed_range(
    demo_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    discipline, group, _period = await _teacher_unit(demo_app)
    await _hold_classes(demo_app, discipline, group)
    client, *_ = await _open_unit(demo_app, STAFF)
    await client.click("📥 Attendance (XLSX)")
    assert client.buttons()[:4] == ["This week", "This month", "This period", "⌨️ Type the dates"]
    monkeypatch.setattr(export_handlers, "LARGE_EXPORT_ROWS", 1)
    demo_app.session.requests.clear()
    await client.click("This period")
    actions = demo_app.session.requests_of(SendChatAction)
    assert [a.action for a in actions] == ["upload_document"]
    document = last_document(client)
    assert document.document_name.startswith(f"attendance-{group.code}-{discipline.code}-")
    assert document.document_mime == XLSX_MIME
    rows = sheet_rows(document.document_bytes)
    head = header_index(rows, "Student ID")
    header = rows[head]
    assert header[-3:] == ("Present", "Absent", "Attendance, %")
    async with demo_app.db.read() as session:
        marks = (
            await session.execute(
                select(Student.student_no, AttendanceMark.present)
                .join(Student, Student.id == AttendanceMark.student_id)
                .join(ClassMeeting, ClassMeeting.id == AttendanceMark.meeting_id)
                .join(TimetableSlot, TimetableSlot.id == ClassMeeting.slot_id)
                .where(
                    TimetableSlot.discipline_id == discipline.id,
                    TimetableSlot.group_id == group.id,
                )
            )
        ).all()
    for row in rows[head + 1 :]:
        mine = [present for no, present in marks if no == row[0]]
        assert row[-3] == sum(mine) and row[-2] == len(mine) - sum(mine)
    assert any(cell == "abs." for row in rows[head + 1 :] for cell in row)

    # A typed range (the choice stays on screen): mistakes are explained, a good one exported.
    await client.click("⌨️ Type the dates")
    await client.send("yesterday")
    assert "Type the range as two dates" in client.last_message().text
    await client.send("30.09.2026–01.09.2026")
    assert "starts after it ends" in client.last_message().text
    today = demo_app.clock.now().astimezone(demo_app.settings.tz).date()
    await client.send(f"{today:%d.%m.%Y}–{today:%d.%m.%Y}")
    document = last_document(client)
    assert document.document_name.endswith(f"-{today:%Y%m%d}-{today:%Y%m%d}.xlsx")
    rows = sheet_rows(document.document_bytes)
    head = header_index(rows, "Student ID")
    assert len(rows[head]) == 2 + 1 + 3  # one class today


async def test_averages_chart_is_cached_until_the_data_changes(demo_app: App) -> None:
    charts.clear_cache()
    client, discipline, group, _period = await _open_unit(demo_app)
    before = charts.renders
    await client.click("📊 Averages chart")
    photo = last_photo(client)
    image = Image.open(io.BytesIO(photo.photo_bytes))
    assert image.format == "PNG" and image.size[0] == charts.WIDTH_PX
    assert group.code in photo.caption
    await client.click("📊 Averages chart")
    assert charts.renders == before + 1
    async with demo_app.db.write() as session:
        enrolment = await session.scalar(
            select(Enrolment)
            .join(Student, Student.id == Enrolment.student_id)
            .where(Student.group_id == group.id, Enrolment.discipline_id == discipline.id)
            .limit(1)
        )
        session.add(
            CurrentMark(
                enrolment_id=enrolment.id,
                on_date=date.today(),
                work_kind=WorkKind.practice,
                value=Decimal("3"),
            )
        )
    await client.click("📊 Averages chart")
    assert charts.renders == before + 2


async def test_student_chart_of_a_discipline(demo_app: App) -> None:
    charts.clear_cache()
    client = await demo_app.signed_in(*STUDENT)
    await client.click("Journal")
    await client.click("1. ")
    await client.click("📈 Chart of marks and attendance")
    photo = last_photo(client)
    assert Image.open(io.BytesIO(photo.photo_bytes)).size == (1080, 1350)
    assert "marks and attendance by week" in photo.caption
    # Someone else's enrolment is refused.
    async with demo_app.db.read() as session:
        me = await session.scalar(select(Student.id).join(User).where(User.login == STUDENT[0]))
        foreign = await session.scalar(
            select(Enrolment.id).where(Enrolment.student_id != me).limit(1)
        )
    await client.click_data(ExportCb(a="sc", x=foreign).pack())
    assert client.last_answer().text == "This is not available."


async def test_student_chart_in_kazakh(demo_app: App) -> None:
    charts.clear_cache()
    client = await demo_app.signed_in(*STUDENT, language="Қазақша")
    async with demo_app.db.read() as session:
        me = await session.scalar(select(Student.id).join(User).where(User.login == STUDENT[0]))
        marked = await session.scalar(
            select(Enrolment.id)
            .join(CurrentMark, CurrentMark.enrolment_id == Enrolment.id)
            .where(Enrolment.student_id == me)
            .limit(1)
        )
        blank = await session.scalar(
            select(Enrolment.id)
            .where(Enrolment.student_id == me, ~Enrolment.id.in_(select(CurrentMark.enrolment_id)))
            .limit(1)
        )
    await client.click_data(ExportCb(a="sc", x=marked).pack())
    photo = last_photo(client)
    assert "апталар бойынша" in photo.caption
    assert Image.open(io.BytesIO(photo.photo_bytes)).size == (1080, 1350)
    # Nothing to draw yet: a short card says so instead of empty axes.
    if blank is not None:
        await client.click_data(ExportCb(a="sc", x=blank).pack())
        assert Image.open(io.BytesIO(last_photo(client).photo_bytes)).size[1] < 1350


# ---- staff screens ---------------------------------------------------------------------------


async def test_test_results_with_difficulty_counts(demo_app: App) -> None:
    async with demo_app.db.write() as session:
        test = await session.scalar(select(OnlineTest).order_by(OnlineTest.id).limit(1))
        student = await session.scalar(select(Student).join(User).where(User.login == STUDENT[0]))
        await session.execute(
            update(User).where(User.id == student.user_id).values(last_name=HOSTILE)
        )
        now = demo_app.clock.now()
        session.add(
            Attempt(
                test_id=test.id,
                student_id=student.id,
                number=1,
                open_marker=None,
                status=AttemptStatus.finished,
                seed=1,
                started_at=now - timedelta(minutes=20),
                deadline=now + timedelta(minutes=10),
                finished_at=now,
                total=6,
                easy_total=3,
                medium_total=2,
                hard_total=1,
                easy_correct=2,
                medium_correct=1,
                hard_correct=0,
                score=Decimal("50.00"),
            )
        )
        test_name, test_id, student_no = test.name, test.id, student.student_no
    client = await demo_app.signed_in(*STAFF)
    await client.click("Tests (staff)")
    await client.click("Tests and results")
    await client.click(test_name[:20])
    await client.click("📥 Results (XLSX)")
    document = last_document(client)
    assert document.document_name.startswith(f"test-{test_id}-")
    rows = sheet_rows(document.document_bytes)
    head = header_index(rows, "Student ID")
    assert rows[head][10:] == (
        "Easy: correct",
        "Easy: asked",
        "Medium: correct",
        "Medium: asked",
        "Hard: correct",
        "Hard: asked",
    )
    mine = next(row for row in rows[head + 1 :] if row[0] == student_no)
    assert mine[3] == "finished" and mine[7] == 50 and mine[8:10] == (3, 6)
    assert mine[10:] == (2, 3, 1, 2, 0, 1)
    assert mine[1].startswith("'") and HOSTILE in mine[1]


async def test_delivery_report_of_an_announcement(demo_app: App) -> None:
    async with demo_app.db.read() as session:
        message = await session.scalar(
            select(Message).where(Message.kind == MessageKind.announcement).limit(1)
        )
    client = await demo_app.signed_in(*STAFF)
    await client.click_data(MailCb(a="prog", id=message.id).pack())
    await client.click("📥 Delivery report (XLSX)")
    document = last_document(client)
    assert document.document_mime == XLSX_MIME
    rows = sheet_rows(document.document_bytes)
    head = header_index(rows, "Recipient")
    assert len(rows) - head - 1 == message.recipients_count
    assert rows[0][0] == message.subject
    # The teacher cannot have it.
    teacher = await demo_app.signed_in(*TEACHER)
    await teacher.click_data(ExportCb(a="dx", x=message.id).pack())
    assert teacher.messages()[-1].media_type != "document"


async def test_requests_queue_and_role_checks(demo_app: App) -> None:
    client = await demo_app.signed_in(*STAFF)
    await client.click("Requests queue")
    await client.click("📥 Export the queue (XLSX)")
    document = last_document(client)
    assert document.document_name.startswith("requests-all-")
    rows = sheet_rows(document.document_bytes)
    head = header_index(rows, "Number")
    async with demo_app.db.read() as session:
        numbers = set(await session.scalars(select(ServiceRequest.number)))
    assert {row[0] for row in rows[head + 1 :]} == numbers

    student = await demo_app.signed_in(*STUDENT)
    discipline, group, _period = await _teacher_unit(demo_app)
    for data in (
        ExportCb(a="qx").pack(),
        ExportCb(a="jx", x=discipline.id, y=group.id).pack(),
        ExportCb(a="tx", x=1).pack(),
        ExportCb(a="dx", x=1).pack(),
    ):
        await student.click_data(data)
        assert student.last_answer().text in {
            "This button is no longer available.",
            "Only the service centre staff can do this.",
        }
    assert all(m.media_type != "document" for m in student.messages())
    teacher = await demo_app.signed_in(*TEACHER)
    await teacher.click_data(ExportCb(a="qx").pack())
    assert "Only the service centre staff" in teacher.last_answer().text


async def test_headers_in_the_readers_language_and_foreign_classes_refused(demo_app: App) -> None:
    discipline, group, _period = await _teacher_unit(demo_app)
    client = await demo_app.signed_in(*TEACHER, language="Русский")
    await client.click_data(ExportCb(a="jx", x=discipline.id, y=group.id).pack())
    rows = sheet_rows(last_document(client).document_bytes, "Журнал")
    assert rows[header_index(rows, "№")][:3] == ("№", "ID студента", "Студент")
    await client.click_data(ExportCb(a="ar", x=discipline.id, y=group.id).pack())
    assert client.buttons()[:3] == ["Эта неделя", "Этот месяц", "Этот период"]
    await client.click("Ввести даты")
    await client.send("31.02.2026–01.03.2026")
    assert "Одной из этих дат не существует" in client.last_message().text

    # A class the teacher does not teach: nothing is sent, whatever the button says.
    async with demo_app.db.read() as session:
        teacher = await session.scalar(select(Teacher).join(User).where(User.login == TEACHER[0]))
        foreign = await session.scalar(
            select(TimetableSlot).where(
                (TimetableSlot.teacher_id != teacher.id) | TimetableSlot.teacher_id.is_(None)
            )
        )
        mine = await session.scalar(
            select(TimetableSlot.id).where(
                TimetableSlot.teacher_id == teacher.id,
                TimetableSlot.discipline_id == foreign.discipline_id,
                TimetableSlot.group_id == foreign.group_id,
            )
        )
    assert mine is None
    documents = len([m for m in client.messages() if m.media_type])
    for action in ("jx", "ar", "ax", "at", "gc"):
        await client.click_data(
            ExportCb(a=action, x=foreign.discipline_id, y=foreign.group_id).pack()
        )
        assert client.last_answer().text == "Недоступно." or client.last_answer().show_alert
    assert len([m for m in client.messages() if m.media_type]) == documents


async def test_a_missing_chart_font_is_explained(
    demo_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.services.fonts import FontNotFoundError

    def no_font(_data: object) -> bytes:
        raise FontNotFoundError("missing")

    charts.clear_cache()
    monkeypatch.setattr(charts, "render_distribution_chart", no_font)
    client, *_ = await _open_unit(demo_app)
    await client.click("📊 Averages chart")
    assert "font is not installed" in client.last_message().text
    assert all(m.media_type != "photo" for m in client.messages())


async def test_at_most_two_charts_are_drawn_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    import threading

    charts.clear_cache()
    loop = asyncio.get_running_loop()
    two_started = asyncio.Event()
    release = threading.Event()
    lock = threading.Lock()
    running = {"now": 0, "most": 0, "started": 0}

    def slow_draw(chart: charts.DistributionChart) -> bytes:
        with lock:
            running["now"] += 1
            running["started"] += 1
            running["most"] = max(running["most"], running["now"])
            if running["started"] == charts.MAX_PARALLEL:
                loop.call_soon_threadsafe(two_started.set)
        release.wait(timeout=30)
        with lock:
            running["now"] -= 1
        return chart.title.encode()

    monkeypatch.setattr(charts, "render_distribution_chart", slow_draw)

    def chart(n: int) -> charts.DistributionChart:
        return charts.DistributionChart(f"chart {n}", "", (), "", "", "", "")

    tasks = [asyncio.create_task(charts.png(chart(n), "en")) for n in range(5)]
    await two_started.wait()
    for _ in range(20):
        await asyncio.sleep(0)
    assert running["started"] == charts.MAX_PARALLEL
    release.set()
    pictures = await asyncio.gather(*tasks)
    assert pictures == [f"chart {n}".encode() for n in range(5)]
    assert running["most"] == charts.MAX_PARALLEL
