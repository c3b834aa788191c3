"""The exam grade sheet (емтихан ведомосі / экзаменационная ведомость) of a group in a discipline.

One sheet per kind of control: midterm 1, midterm 2 or the exam. A midterm sheet lists each
student's midterm mark with its letter; the exam sheet lists the admission rating, the exam, the
final percent, the letter, its points and the traditional grade, all computed by
`bot.services.grading` with the university's rules. A row whose marks are incomplete is not final
and says so; the totals per letter count final rows only.

The sheet is built from the database (`grade_sheet`), then laid out as a PDF to sign
(`render_pdf`) or as a spreadsheet (`render_xlsx`). Every human word of the layout comes from
`SheetLabels`, already translated by the caller, so the renderers hold no language logic. fpdf2 and
openpyxl are imported when a sheet is first made.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.services import exports, grading
from bot.services.cells import safe_cell
from bot.services.fonts import close_fonts, register_fonts
from bot.services.grading import GradingRules, LetterGrade
from bot.services.journal import roster, rules
from bot.services.letterhead import draw_logo, keep_together
from db.models import AcademicPeriod, Discipline, Group, Programme, Student, Teacher
from db.models.academic import Enrolment, TimetableSlot

if TYPE_CHECKING:
    from fpdf import FPDF

KINDS = ("midterm1", "midterm2", "exam")
NO_VALUE = "—"


@dataclass(frozen=True, slots=True)
class SheetLine:
    """One student of the sheet; a mark is `None` while it is not entered."""

    full_name: str
    student_no: str
    mark: Decimal | None  # the midterm mark on a midterm sheet, the final percent on the exam's
    admission: Decimal | None
    exam: Decimal | None
    grade: LetterGrade | None
    is_final: bool
    exam_below_threshold: bool = False


@dataclass(frozen=True, slots=True)
class GradeSheet:
    """Everything printed on a sheet; names are already in the reader's language."""

    kind: str
    university: str
    faculty: str
    programme: str
    group: str
    course: int
    study_form: str
    discipline: str
    discipline_code: str
    credits: int
    period: AcademicPeriod
    teacher: str
    lines: Sequence[SheetLine]
    letters: Sequence[str]  # the scale's letters in order, for the totals
    issue_date: date
    logo_file: str | None = None

    @property
    def totals(self) -> list[tuple[str, int]]:
        """How many final rows got each letter, in the order of the scale."""
        counted = Counter(line.grade.letter for line in self.lines if line.is_final and line.grade)
        return [(letter, counted.get(letter, 0)) for letter in self.letters]

    @property
    def not_final(self) -> int:
        return sum(1 for line in self.lines if not line.is_final)


@dataclass(frozen=True, slots=True)
class SheetLabels:
    """The sheet's words in one language. Templates name their placeholders in comments."""

    title: str  # {kind}
    kind: str
    faculty: str
    programme: str
    group: str
    group_value: str  # {group}, {course}, {form}
    discipline: str
    discipline_value: str  # {code}, {name}, {credits}
    period: str
    period_value: str
    teacher: str
    date: str
    number: str
    full_name: str
    student_no: str
    mark: str
    admission: str
    exam: str
    final: str
    letter: str
    points: str
    traditional: str
    status: str
    not_final: str
    not_final_note: str  # {count}
    exam_below: str
    totals: str
    total_students: str
    letter_column: str
    count_column: str
    examiner: str
    head: str
    signature: str
    traditional_names: dict[str, str]
    date_format: str = "%d.%m.%Y"


# ---- building the sheet from the database ------------------------------------------------------


def _person(last: str, first: str, middle: str | None) -> str:
    return " ".join(part for part in (last, first, middle) if part)


async def _teacher_name(
    session: AsyncSession, discipline_id: int, group_id: int, period_id: int
) -> str:
    """The examiner: the teacher of the group's enrolments, else of its timetable slots."""
    teacher = await session.scalar(
        select(Teacher)
        .join(Enrolment, Enrolment.teacher_id == Teacher.id)
        .join(Student, Student.id == Enrolment.student_id)
        .where(
            Enrolment.discipline_id == discipline_id,
            Enrolment.period_id == period_id,
            Student.group_id == group_id,
        )
        .options(joinedload(Teacher.user))
        .order_by(Enrolment.id)
        .limit(1)
    )
    if teacher is None:
        teacher = await session.scalar(
            select(Teacher)
            .join(TimetableSlot, TimetableSlot.teacher_id == Teacher.id)
            .where(
                TimetableSlot.discipline_id == discipline_id,
                TimetableSlot.group_id == group_id,
                TimetableSlot.period_id == period_id,
            )
            .options(joinedload(Teacher.user))
            .order_by(TimetableSlot.kind, TimetableSlot.id)
            .limit(1)
        )
    if teacher is None:
        return ""
    user = teacher.user
    return _person(user.last_name, user.first_name, user.middle_name)


async def grade_sheet(
    session: AsyncSession,
    *,
    discipline_id: int,
    group_id: int,
    period: AcademicPeriod,
    kind: str,
    locale: str,
    university: str,
    issue_date: date,
    logo_file: str | None = None,
    cfg: GradingRules | None = None,
) -> GradeSheet | None:
    """The sheet of the group's enrolled students; None when the group or discipline is gone."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of control {kind!r}")
    cfg = cfg or rules()
    discipline = await session.get(Discipline, discipline_id)
    group = await session.scalar(
        select(Group)
        .where(Group.id == group_id)
        .options(
            joinedload(Group.programme).joinedload(Programme.faculty),
            joinedload(Group.study_form),
        )
    )
    if discipline is None or group is None:
        return None
    lines: list[SheetLine] = []
    for item in await roster(session, discipline_id, group_id, period.id):
        row = item.row
        if row is None:
            continue
        name = _person(item.user.last_name, item.user.first_name, item.user.middle_name)
        if kind == "exam":
            lines.append(
                SheetLine(
                    full_name=name,
                    student_no=item.student.student_no,
                    mark=row.final,
                    admission=row.admission,
                    exam=row.exam,
                    grade=row.grade,
                    is_final=row.final is not None and row.grade is not None,
                    exam_below_threshold=row.exam_below_threshold,
                )
            )
        else:
            value = row.midterm1 if kind == "midterm1" else row.midterm2
            lines.append(
                SheetLine(
                    full_name=name,
                    student_no=item.student.student_no,
                    mark=value,
                    admission=None,
                    exam=None,
                    grade=grading.grade_for(value, cfg) if value is not None else None,
                    is_final=value is not None,
                )
            )
    return GradeSheet(
        kind=kind,
        university=university,
        faculty=group.programme.faculty.name(locale),
        programme=f"{group.programme.code} {group.programme.name(locale)}".strip(),
        group=group.code,
        course=group.course,
        study_form=group.study_form.name(locale),
        discipline=discipline.name(locale),
        discipline_code=discipline.code,
        credits=discipline.credits,
        period=period,
        teacher=await _teacher_name(session, discipline_id, group_id, period.id),
        lines=lines,
        letters=[band.letter for band in cfg.scale],
        issue_date=issue_date,
        logo_file=logo_file,
    )


def file_name(sheet: GradeSheet, extension: str) -> str:
    """`grade-sheet-<group>-<discipline code>-<kind>.<ext>`, named like every export."""
    return exports.file_name(
        "grade-sheet", sheet.group, sheet.discipline_code, sheet.kind, ext=extension
    )


# ---- the table both formats share --------------------------------------------------------------


def _number(value: Decimal | None) -> str:
    if value is None:
        return NO_VALUE
    text = format(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _columns(sheet: GradeSheet, labels: SheetLabels) -> list[str]:
    marks = (
        [labels.admission, labels.exam, labels.final] if sheet.kind == "exam" else [labels.mark]
    )
    return [
        labels.number,
        labels.full_name,
        labels.student_no,
        *marks,
        labels.letter,
        labels.points,
        labels.traditional,
        labels.status,
    ]


def _cells(sheet: GradeSheet, line: SheetLine, labels: SheetLabels) -> list[tuple[Any, str]]:
    """One row's values after the name and ID, each with how to print it: "mark" (a percent),
    "points" (two decimals) or "text". A missing value is None."""
    marks = [line.admission, line.exam, line.mark] if sheet.kind == "exam" else [line.mark]
    grade = line.grade if line.is_final else None
    status = ""
    if not line.is_final:
        status = labels.not_final
    elif line.exam_below_threshold:
        status = labels.exam_below
    return [
        *[(value, "mark") for value in marks],
        (grade.display if grade else None, "text"),
        (grade.points if grade else None, "points"),
        (
            labels.traditional_names.get(grade.traditional, grade.traditional) if grade else None,
            "text",
        ),
        (status, "text"),
    ]


def _printed(value: Any, how: str) -> str:
    if value is None:
        return NO_VALUE
    if how == "mark":
        return _number(value)
    if how == "points":
        return format(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")
    return str(value)


def _header_lines(sheet: GradeSheet, labels: SheetLabels) -> list[tuple[str, str]]:
    return [
        (labels.faculty, sheet.faculty),
        (labels.programme, sheet.programme),
        (
            labels.group,
            labels.group_value.format(
                group=sheet.group, course=sheet.course, form=sheet.study_form
            ),
        ),
        (
            labels.discipline,
            labels.discipline_value.format(
                code=sheet.discipline_code, name=sheet.discipline, credits=sheet.credits
            ),
        ),
        (labels.period, labels.period_value),
        (labels.teacher, sheet.teacher or NO_VALUE),
        (labels.date, sheet.issue_date.strftime(labels.date_format)),
    ]


# ---- PDF ---------------------------------------------------------------------------------------

_MARGIN = 12.0


def render_pdf(sheet: GradeSheet, labels: SheetLabels) -> bytes:
    """The sheet as a PDF to print and sign."""
    from fpdf import FPDF

    # Landscape: the long names and the eight mark columns fit without breaking words.
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    try:
        _lay_out(pdf, sheet, labels)
        return bytes(pdf.output())
    finally:
        close_fonts(pdf)


def _lay_out(pdf: FPDF, sheet: GradeSheet, labels: SheetLabels) -> None:
    from fpdf.enums import Align, TableBordersLayout, VAlign, XPos, YPos
    from fpdf.fonts import FontFace

    family = register_fonts(pdf)
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(auto=True, margin=14)
    title = labels.title.format(kind=labels.kind)
    pdf.set_title(f"{title} · {sheet.group} · {sheet.discipline}")
    pdf.set_author(sheet.university)
    pdf.set_creation_date(datetime.combine(sheet.issue_date, time(), tzinfo=UTC))
    pdf.add_page()
    draw_logo(pdf, sheet.logo_file, height=14)
    pdf.set_font(family, "B", 10.5)
    pdf.multi_cell(
        0, 5, keep_together(sheet.university), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.ln(2)
    pdf.set_font(family, "B", 13)
    pdf.multi_cell(0, 6.5, title, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)

    label_style = FontFace(family=family, emphasis="", size_pt=8, color=70)
    value_style = FontFace(family=family, emphasis="B", size_pt=9)
    pdf.set_font(family, "", 9)
    with pdf.table(
        col_widths=(45, pdf.epw - 45),
        width=pdf.epw,
        first_row_as_headings=False,
        borders_layout=TableBordersLayout.NONE,
        text_align=(Align.L, Align.L),
        v_align=VAlign.M,
        line_height=4,
        padding=(0.4, 1, 0.4, 0),
    ) as table:
        for label, value in _header_lines(sheet, labels):
            row = table.row()
            row.cell(label, style=label_style)
            row.cell(keep_together(value), style=value_style)
    pdf.ln(3)

    if sheet.not_final:
        pdf.set_font(family, "B", 9)
        pdf.set_text_color(170, 0, 0)
        pdf.multi_cell(
            0,
            4.5,
            labels.not_final_note.format(count=sheet.not_final),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.set_text_color(0)
        pdf.ln(1)

    columns = _columns(sheet, labels)
    marks = 3 if sheet.kind == "exam" else 1
    fixed = 9 + 24 + 22 * marks + 16 + 14 + 34 + 40
    widths = (9, pdf.epw - fixed, 24, *([22] * marks), 16, 14, 34, 40)
    aligns = (
        "CENTER",
        "LEFT",
        "CENTER",
        *(["CENTER"] * marks),
        "CENTER",
        "CENTER",
        "LEFT",
        "LEFT",
    )
    pdf.set_font(family, "", 8.5)
    with pdf.table(
        col_widths=widths,
        width=pdf.epw,
        text_align=aligns,
        v_align=VAlign.M,
        headings_style=FontFace(emphasis="B", size_pt=7.5, fill_color=235),
        line_height=4,
        padding=(0.8, 1, 0.8, 1),
        repeat_headings=1,
    ) as table:
        heading = table.row()
        for text in columns:
            heading.cell(text)
        for index, line in enumerate(sheet.lines, start=1):
            row = table.row()
            row.cell(str(index))
            row.cell(line.full_name)
            row.cell(line.student_no)
            for value, how in _cells(sheet, line, labels):
                row.cell(_printed(value, how))
    pdf.ln(4)

    if pdf.will_page_break(50):
        pdf.add_page()
    pdf.set_font(family, "B", 9)
    pdf.cell(0, 5, labels.totals, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(family, "", 8.5)
    with pdf.table(
        width=pdf.epw,
        text_align="CENTER",
        headings_style=FontFace(emphasis="B", size_pt=8, fill_color=235),
        line_height=4.2,
        padding=(0.6, 0.5, 0.6, 0.5),
    ) as table:
        heading = table.row()
        values = table.row()
        for letter, count in sheet.totals:
            heading.cell(grading.display_letter(letter))
            values.cell(str(count))
    pdf.ln(1)
    pdf.set_font(family, "", 9)
    pdf.cell(
        0,
        5,
        f"{labels.not_final}: {sheet.not_final} · {labels.total_students}: {len(sheet.lines)}",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(10)
    _signatures(pdf, family, sheet, labels)


def _signatures(pdf: FPDF, family: str, sheet: GradeSheet, labels: SheetLabels) -> None:
    from fpdf.enums import Align, CellBordersLayout, TableBordersLayout, VAlign, XPos, YPos

    pdf.set_font(family, "", 9.5)
    with pdf.table(
        col_widths=(90, 60, pdf.epw - 150),
        width=pdf.epw,
        first_row_as_headings=False,
        borders_layout=TableBordersLayout.NONE,
        text_align=(Align.L, Align.C, Align.R),
        v_align=VAlign.B,
        line_height=4.5,
        padding=(5, 2, 0.5, 0),
    ) as table:
        for position, name in ((labels.examiner, sheet.teacher), (labels.head, "")):
            row = table.row()
            row.cell(position)
            # The blank with a bottom rule is where the pen goes.
            row.cell("", border=CellBordersLayout.BOTTOM)
            row.cell(keep_together(name))
    pdf.set_font(family, "", 7)
    pdf.set_text_color(100)
    pdf.set_x(_MARGIN + 90)
    pdf.cell(60, 4, labels.signature, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0)


# ---- XLSX --------------------------------------------------------------------------------------


def render_xlsx(sheet: GradeSheet, labels: SheetLabels) -> bytes:
    """The sheet as a workbook: the same header, table, totals and signature lines. Marks are
    numbers; every text cell goes through `safe_cell`, so no name can become a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    ws = book.active
    assert ws is not None
    title = labels.title.format(kind=labels.kind)
    ws.title = safe_cell(title[:31].replace("/", "-").replace(":", " ")) or "Sheet"
    bold = Font(bold=True)
    ws.append([safe_cell(sheet.university)])
    ws.append([safe_cell(title)])
    ws["A1"].font = bold
    ws["A2"].font = Font(bold=True, size=13)
    for label, value in _header_lines(sheet, labels):
        ws.append([safe_cell(label), safe_cell(value)])
    if sheet.not_final:
        ws.append([safe_cell(labels.not_final_note.format(count=sheet.not_final))])
        ws.cell(ws.max_row, 1).font = Font(bold=True, color="AA0000")
    ws.append([])
    columns = _columns(sheet, labels)
    ws.append([safe_cell(text) for text in columns])
    header_row = ws.max_row
    thin = Side(style="thin", color="999999")
    grey = PatternFill("solid", fgColor="EBEBEB")
    for col in range(1, len(columns) + 1):
        cell = ws.cell(header_row, col)
        cell.font = bold
        cell.fill = grey
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
    for index, line in enumerate(sheet.lines, start=1):
        values: list[Any] = [index, safe_cell(line.full_name), safe_cell(line.student_no)]
        for value, how in _cells(sheet, line, labels):
            values.append(value if how != "text" else safe_cell(value))
        ws.append(values)
        for col in range(1, len(columns) + 1):
            cell = ws.cell(ws.max_row, col)
            cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
            if col == len(columns) - 2 and isinstance(cell.value, Decimal):
                cell.number_format = "0.00"
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    ws.append([])
    ws.append([safe_cell(labels.totals)])
    ws.cell(ws.max_row, 1).font = bold
    ws.append([safe_cell(labels.letter_column), safe_cell(labels.count_column)])
    for letter, count in sheet.totals:
        ws.append([safe_cell(grading.display_letter(letter)), count])
    ws.append([safe_cell(labels.not_final), sheet.not_final])
    ws.append([safe_cell(labels.total_students), len(sheet.lines)])
    ws.append([])
    for position, name in ((labels.examiner, sheet.teacher), (labels.head, "")):
        ws.append([safe_cell(position), "", "________________", safe_cell(name)])
    # Printed like the PDF: landscape, the table one page wide, its heading on every page.
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    widths = [5, 34, 14] + [12] * (len(columns) - 3)
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
