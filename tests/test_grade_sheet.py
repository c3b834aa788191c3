"""The exam grade sheet from 📒 My classes: PDF and XLSX in three languages, checked against the
database; not-final rows; totals per letter; who may have which sheet."""

from __future__ import annotations

import io
from collections import Counter
from decimal import Decimal

import pytest
from aiogram.enums import ChatAction
from aiogram.methods import SendChatAction
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from bot.demo.core import DEMO_ACCOUNTS
from bot.handlers.grade_sheet import GradeSheetCb
from bot.i18n import DOCUMENT_DATE_FORMAT, DOCUMENT_DATE_FORMATS
from bot.keyboards.academic import traditional_label
from bot.services import journal as journal_svc
from db.models import Discipline, Group, Student, User
from db.models.academic import Enrolment
from tests.conftest import App
from tests.test_journal import current_period
from tests.test_teacher_journal import teacher_id

STUDENT = DEMO_ACCOUNTS["student"]
TEACHER = DEMO_ACCOUNTS["teacher"]
STAFF = DEMO_ACCOUNTS["staff"]
LANGUAGES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}


def squash(text: str) -> str:
    return " ".join(text.split())


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return squash(" ".join(page.extract_text() for page in reader.pages))


async def taught_unit(app: App) -> tuple[Discipline, Group, int]:
    """A discipline and group demo.teacher teaches now, with its enrolments prepared: one
    complete, one without the exam (not final), one with a name that looks like a formula."""
    period = await current_period(app)
    me = await teacher_id(app)
    async with app.db.write() as session:
        units = await journal_svc.teaching_units(session, me, period.id)
        assert units
        unit = units[0]
        enrolments = list(
            await session.scalars(
                select(Enrolment)
                .join(Student, Student.id == Enrolment.student_id)
                .where(
                    Enrolment.discipline_id == unit.discipline.id,
                    Enrolment.period_id == period.id,
                    Student.group_id == unit.group.id,
                )
                .order_by(Enrolment.id)
            )
        )
        assert len(enrolments) >= 2
        complete, pending = enrolments[0], enrolments[1]
        complete.midterm1, complete.midterm2, complete.exam = (
            Decimal(90),
            Decimal(94),
            Decimal(88),
        )
        pending.midterm1, pending.midterm2, pending.exam = Decimal(70), Decimal(75), None
        user = await session.scalar(
            select(User)
            .join(Student, Student.user_id == User.id)
            .where(Student.id == pending.student_id)
        )
        user.last_name = '=HYPERLINK("http://x/","y")'
        session.expunge(unit.discipline)
        session.expunge(unit.group)
        return unit.discipline, unit.group, period.id


async def expected_rows(app: App, discipline: Discipline, group: Group, period_id: int):
    async with app.db.read() as session:
        lines = await journal_svc.roster(session, discipline.id, group.id, period_id)
    return [line for line in lines if line.row is not None]


async def open_sheet_screen(app: App, client, discipline: Discipline, group: Group) -> None:
    await client.click_data("nav:tjournal")
    await client.click(f"{group.code} · ")
    await client.click("🧾")


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
async def test_exam_sheet_as_pdf_and_xlsx_matches_the_database(demo_app: App, locale: str) -> None:
    discipline, group, period_id = await taught_unit(demo_app)
    rows = await expected_rows(demo_app, discipline, group, period_id)
    teacher = await demo_app.signed_in(*TEACHER, language=LANGUAGES[locale])
    await open_sheet_screen(demo_app, teacher, discipline, group)
    assert discipline.name(locale) in teacher.last_message().text
    demo_app.session.clear()

    await teacher.click_data(GradeSheetCb(d=discipline.id, g=group.id, k="exam", f="pdf").pack())
    sent = teacher.last_message()
    assert sent.document_name == f"grade-sheet-{group.code}-{discipline.code}-exam.pdf".replace(
        " ", "_"
    )
    actions = demo_app.session.requests_of(SendChatAction)
    assert [a.action for a in actions] == [ChatAction.UPLOAD_DOCUMENT]
    text = pdf_text(sent.document_bytes)
    with demo_app.i18n.context(), demo_app.i18n.use_locale(locale):
        words = {key: traditional_label(key) for key in ("excellent", "good")}
        not_final = demo_app.i18n.gettext("not final", locale=locale)
    assert squash(discipline.name(locale)) in text
    assert group.code in text
    today = demo_app.clock.now().astimezone(demo_app.settings.tz).date()
    assert today.strftime(DOCUMENT_DATE_FORMATS.get(locale, DOCUMENT_DATE_FORMAT)) in text
    final_rows = [line for line in rows if line.row.final is not None]
    assert final_rows and len(final_rows) < len(rows)
    for line in rows:
        assert line.student.student_no in text
        assert line.user.last_name in text
    complete = rows[0] if rows[0].row.exam == Decimal(88) else None
    for line in final_rows:
        assert line.row.grade.display in text
    assert not_final in text
    assert words["excellent"] in text or words["good"] in text
    if complete is not None:
        assert complete.row.grade.display in text

    await teacher.click_data(GradeSheetCb(d=discipline.id, g=group.id, k="exam", f="xlsx").pack())
    sent = teacher.last_message()
    assert sent.document_name.endswith("-exam.xlsx")
    book = load_workbook(io.BytesIO(sent.document_bytes))
    ws = book.active
    values = [list(row) for row in ws.iter_rows(values_only=True)]
    header_index = next(i for i, row in enumerate(values) if row and row[0] == "№")
    header = values[header_index]
    assert len(header) == 10
    table = values[header_index + 1 : header_index + 1 + len(rows)]
    by_id = {row[2]: row for row in table}
    assert set(by_id) == {line.student.student_no for line in rows}
    for line in rows:
        cells = by_id[line.student.student_no]
        row = line.row
        for got, want in zip(cells[3:6], (row.admission, row.exam, row.final), strict=True):
            assert (got is None and want is None) or Decimal(str(got)) == want
        if row.final is None:
            assert cells[6] is None and cells[7] is None and cells[9] == not_final
        else:
            assert cells[6] == row.grade.display
            assert Decimal(str(cells[7])) == row.grade.points
            with demo_app.i18n.context(), demo_app.i18n.use_locale(locale):
                assert cells[8] == traditional_label(row.grade.traditional)
    # Text cells never start a formula.
    every_text = [c for row in values for c in row if isinstance(c, str)]
    assert not any(c.startswith("=") for c in every_text)
    assert any(c.startswith("'=HYPERLINK") for c in every_text)
    # Totals per letter count the final rows only.
    counted = Counter(line.row.grade.display for line in final_rows)
    totals = {
        row[0]: row[1]
        for row in values[header_index + len(rows) + 1 :]
        if row and isinstance(row[0], str) and isinstance(row[1], int)
    }
    for letter, count in counted.items():
        assert totals[letter] == count
    assert totals[not_final] == len(rows) - len(final_rows)


async def test_midterm_sheet_and_who_may_have_it(demo_app: App) -> None:
    discipline, group, period_id = await taught_unit(demo_app)
    rows = await expected_rows(demo_app, discipline, group, period_id)
    teacher = await demo_app.signed_in(*TEACHER)
    await teacher.click_data(
        GradeSheetCb(d=discipline.id, g=group.id, k="midterm2", f="xlsx").pack()
    )
    book = load_workbook(io.BytesIO(teacher.last_message().document_bytes))
    values = [list(row) for row in book.active.iter_rows(values_only=True)]
    header_index = next(i for i, row in enumerate(values) if row and row[0] == "№")
    assert values[header_index][3] == "Mark, %"
    not_final_en = "not final"
    for line in rows:
        cells = next(r for r in values if len(r) > 2 and r[2] == line.student.student_no)
        want = line.row.midterm2
        assert (cells[3] is None and want is None) or Decimal(str(cells[3])) == want
        assert (cells[7] or "") == (not_final_en if want is None else "")

    # Forged or foreign presses are refused and send nothing.
    for bad in (
        GradeSheetCb(d=discipline.id, g=group.id, k="exam", f="docx"),
        GradeSheetCb(d=discipline.id, g=group.id, k="final", f="pdf"),
        GradeSheetCb(d=discipline.id, g=group.id + 10_000, k="exam", f="pdf"),
    ):
        await teacher.click_data(bad.pack())
        assert teacher.last_answer().text == "This is not available."
    async with demo_app.db.read() as session:
        other = await session.scalar(
            select(Group).where(Group.id != group.id).order_by(Group.id).limit(1)
        )
    if other is not None:
        async with demo_app.db.read() as session:
            taught = await journal_svc.teaches(
                session, await teacher_id(demo_app), discipline.id, other.id, period_id
            )
        if not taught:
            await teacher.click_data(
                GradeSheetCb(d=discipline.id, g=other.id, k="exam", f="pdf").pack()
            )
            assert teacher.last_answer().text == "This is not available."

    student = await demo_app.signed_in(*STUDENT)
    await student.click_data(GradeSheetCb(d=discipline.id, g=group.id, k="exam", f="pdf").pack())
    assert student.last_answer().text == "This section is for teachers."
    assert student.last_message().document_bytes is None

    # Staff have the sheet of any group.
    staff = await demo_app.signed_in(*STAFF)
    await staff.click_data(GradeSheetCb(d=discipline.id, g=group.id, k="exam", f="pdf").pack())
    assert staff.last_message().document_name.endswith("-exam.pdf")
