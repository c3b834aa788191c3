"""The academic transcript as a PDF, laid out like the university's official trilingual form.

The renderer only lays out: every value, including the already translated traditional grade and
every GPA, comes from the caller (see `bot.services.grading` for the arithmetic). The fixed
headings are trilingual (Kazakh / English / Russian), as on the paper form; the values (names of
disciplines, faculty, programme, form of study, traditional grades) are in the language the
caller chose, the reader's.

Layout decisions: A4 portrait; one table for all academic periods so that its two heading rows
repeat on every page; a period caption row opens each period and a GPA row closes it; long
discipline names wrap inside their cell and a row never splits across pages; the practice,
final attestation and degree work sections are omitted when they have no rows; every page is
numbered "page N of M" and pages after the first repeat the student's name and ID at the top.
The document closes with the signatures, a stamp area and, when the transcript is registered, a
QR code of its verification link.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from bot.services.fonts import close_fonts, register_fonts
from bot.services.letterhead import draw_logo, keep_together

if TYPE_CHECKING:
    from fpdf.table import Row, Table

Num = Decimal | int | float


@dataclass(frozen=True, slots=True)
class TranscriptRow:
    """One discipline with its final mark; mark fields are `None` while not graded."""

    discipline: str
    credits: Num
    percent: Num | None
    letter: str | None
    points: Num | None
    traditional: str | None


@dataclass(frozen=True, slots=True)
class TranscriptPeriod:
    """An academic period (semester, trimester…): its caption, disciplines and GPA."""

    title: str
    rows: Sequence[TranscriptRow]
    gpa: Num | None = None
    credits: Num | None = None


@dataclass(frozen=True, slots=True)
class PracticeRow:
    """A professional practice: its kind (e.g. "Industrial practice") and when it took place."""

    kind: str
    period: str
    credits: Num
    percent: Num | None
    letter: str | None
    points: Num | None
    traditional: str | None


@dataclass(frozen=True, slots=True)
class AttestationRow:
    """One component of the final state attestation (state exam, defence…)."""

    name: str
    credits: Num
    percent: Num | None
    letter: str | None
    points: Num | None
    traditional: str | None


@dataclass(frozen=True, slots=True)
class ThesisRow:
    """The degree work: its subject and mark."""

    subject: str
    credits: Num
    percent: Num | None
    letter: str | None
    points: Num | None
    traditional: str | None


@dataclass(frozen=True, slots=True)
class Signatory:
    """A signature line at the end of the transcript."""

    position: str
    name: str


@dataclass(frozen=True, slots=True)
class TranscriptDoc:
    """Everything printed on a transcript."""

    university: str
    faculty: str
    programme_code: str
    programme_name: str
    admission_year: int | str
    study_form: str
    full_name: str
    student_id: str
    periods: Sequence[TranscriptPeriod]
    total_credits: Num
    cumulative_gpa: Num | None
    issue_date: date
    practices: Sequence[PracticeRow] = ()
    attestation: Sequence[AttestationRow] = ()
    theses: Sequence[ThesisRow] = ()
    number: str | None = None
    signatories: Sequence[Signatory] = ()
    # The verification link its QR code carries (registered transcripts only).
    verify_url: str | None = None
    logo_file: str | None = None
    date_format: str = "%d.%m.%Y"


def _tri(kk: str, en: str, ru: str) -> str:
    return f"{kk} / {en} / {ru}"


TITLE = _tri("ТРАНСКРИПТ", "TRANSCRIPT", "ТРАНСКРИПТ")
H_NUMBER = "№"
H_SUBJECTS = _tri("Пәннің атауы", "Subjects", "Наименование дисциплины")
H_CREDITS = _tri("Кредиттер саны", "Number of credits", "Количество кредитов")
H_MARK = _tri("Баға", "Mark", "Оценка")
H_PERCENT = _tri("Пайызбен", "In percent", "В процентах")
H_LETTER = _tri("Әріптік", "Alphabetical", "Буквенная")
H_POINTS = _tri("Баллмен", "In points", "В баллах")
H_TRADITIONAL = _tri("Дәстүрлі жүйемен", "Traditional", "Традиционная")
H_PRACTICE_KIND = _tri("Практика түрі", "Type of practice", "Вид практики")
H_PRACTICE_PERIOD = _tri("Өту кезеңі", "Period", "Период прохождения")
H_ATTESTATION_NAME = _tri("Аттестация түрі", "Form of attestation", "Форма аттестации")
H_THESIS_SUBJECT = _tri("Тақырыбы", "Subject", "Тема")

S_PRACTICE = _tri(
    "Кәсіптік практикадан өтті",
    "Has passed professional practice",
    "Прошел профессиональную практику",
)
S_ATTESTATION = _tri(
    "Қорытынды мемлекеттік аттестация",
    "Final state attestation",
    "Итоговая государственная аттестация",
)
S_THESIS = _tri("Дипломдық жұмыс", "Degree work subject", "Тема дипломной работы")

L_FACULTY = _tri("Факультет", "Faculty", "Факультет")
L_PROGRAMME = _tri("Білім беру бағдарламасы", "Educational programme", "Образовательная программа")
L_ADMISSION_YEAR = _tri("Түскен жылы", "Year of admission", "Год поступления")
L_STUDY_FORM = _tri("Оқу нысаны", "Form of study", "Форма обучения")
L_FULL_NAME = _tri("Тегі, аты, әкесінің аты", "Full name", "Фамилия, имя, отчество")
L_STUDENT_ID = _tri("Студенттің ID", "Student ID", "ID студента")
L_PERIOD_GPA = _tri("Кезеңдегі GPA", "GPA for the period", "GPA за период")
L_TOTAL_CREDITS = _tri("Кредиттердің жалпы саны", "Total credits", "Общее количество кредитов")
L_CUMULATIVE_GPA = _tri("Жалпы орташа балл (GPA)", "Cumulative GPA", "Средний балл (GPA)")
L_ISSUE_DATE = _tri("Берілген күні", "Date of issue", "Дата выдачи")
L_STAMP = "М.О. / L.S. / М.П."
L_VERIFY = _tri(
    "Түпнұсқалығын тексеру үшін сканерлеңіз",
    "Scan to check that this document is genuine",
    "Отсканируйте, чтобы проверить подлинность",
)
PAGE_FOOTER = "Бет {page} / {pages} · Page {page} of {pages} · Страница {page} из {pages}"

NO_VALUE = "—"

_MARGIN = 12.0
_CONTENT_WIDTH = 210.0 - 2 * _MARGIN
# Columns shared by every table so the mark columns line up from section to section.
_W_NO = 8.0
_W_CREDITS = 16.0
_W_MARKS = (15.0, 17.0, 14.0, 36.0)  # the last one fits «неудовлетворительно» whole
_W_NAME = _CONTENT_WIDTH - _W_NO - _W_CREDITS - sum(_W_MARKS)
_W_PRACTICE_PERIOD = 30.0

_BODY_PT = 8.0
_HEAD_PT = 6.5
_GREY = 235
_SECTION_KEEP_TOGETHER = 6 + 45 + 10
_QR_SIZE = 28.0
_STAMP_SIZE = 30.0


def render_transcript(doc: TranscriptDoc) -> bytes:
    """Lay the transcript out and return the PDF bytes."""
    pdf = _transcript_pdf_class()(doc)
    try:
        pdf.add_page()
        pdf.top_block()
        pdf.disciplines_table()
        pdf.section(
            S_PRACTICE,
            (H_PRACTICE_KIND, H_PRACTICE_PERIOD),
            [
                [item.kind, item.period, _number(item.credits), *_marks(item)]
                for item in doc.practices
            ],
        )
        pdf.section(
            S_ATTESTATION,
            (H_ATTESTATION_NAME,),
            [[item.name, _number(item.credits), *_marks(item)] for item in doc.attestation],
        )
        pdf.section(
            S_THESIS,
            (H_THESIS_SUBJECT,),
            [[item.subject, _number(item.credits), *_marks(item)] for item in doc.theses],
        )
        pdf.closing_block()
        return bytes(pdf.output())
    finally:
        close_fonts(pdf)


@cache
def _transcript_pdf_class() -> Any:
    # fpdf2 is imported when the first transcript is made, not when the bot starts.
    from fpdf import FPDF
    from fpdf.enums import (
        Align,
        CellBordersLayout,
        TableBordersLayout,
        VAlign,
        WrapMode,
        XPos,
        YPos,
    )
    from fpdf.fonts import FontFace

    class _TranscriptPDF(FPDF):
        def __init__(self, doc: TranscriptDoc) -> None:
            super().__init__(orientation="P", unit="mm", format="A4")
            self.doc = doc
            self._family = register_fonts(self)
            self.set_margins(_MARGIN, _MARGIN, _MARGIN)
            self.set_auto_page_break(auto=True, margin=16)
            self.alias_nb_pages("{pages}")
            self.set_title(f"{TITLE}: {doc.full_name}")
            self.set_author(doc.university)
            # A fixed date keeps the bytes reproducible for the same data.
            self.set_creation_date(datetime.combine(doc.issue_date, time(), tzinfo=UTC))

        def header(self) -> None:
            if self.page_no() == 1:
                return
            self.set_font(self._family, "", 7)
            self.set_text_color(90)
            self.cell(
                0,
                4,
                f"{self.doc.full_name} · ID {self.doc.student_id}",
                align=Align.R,
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            self.set_text_color(0)
            self.ln(2)

        def footer(self) -> None:
            self.set_y(-11)
            self.set_font(self._family, "", 7)
            self.set_text_color(90)
            text = PAGE_FOOTER.format(page=self.page_no(), pages="{pages}")
            self.cell(0, 4, text, align=Align.C)
            self.set_text_color(0)

        def top_block(self) -> None:
            doc = self.doc
            draw_logo(self, doc.logo_file, height=15)
            self.set_font(self._family, "B", 11)
            self.multi_cell(
                0, 5.5, keep_together(doc.university), align=Align.C, new_x=XPos.LMARGIN
            )
            self.ln(2)
            self.set_font(self._family, "B", 12)
            title = TITLE if not doc.number else f"{TITLE} №\u00a0{doc.number}"
            self.multi_cell(0, 6, title, align=Align.C, new_x=XPos.LMARGIN)
            self.ln(2)
            programme = f"{doc.programme_code} {doc.programme_name}".strip()
            self.key_values(
                [
                    (L_FULL_NAME, doc.full_name),
                    (L_STUDENT_ID, doc.student_id),
                    (L_FACULTY, doc.faculty),
                    (L_PROGRAMME, programme),
                    (L_ADMISSION_YEAR, str(doc.admission_year)),
                    (L_STUDY_FORM, doc.study_form),
                ]
            )
            self.ln(3)

        def key_values(self, pairs: Sequence[tuple[str, str]]) -> None:
            label_style = FontFace(family=self._family, emphasis="", size_pt=7, color=70)
            value_style = FontFace(family=self._family, emphasis="B", size_pt=9)
            with self.table(
                col_widths=(78, _CONTENT_WIDTH - 78),
                width=_CONTENT_WIDTH,
                first_row_as_headings=False,
                borders_layout=TableBordersLayout.NONE,
                text_align=(Align.L, Align.L),
                v_align=VAlign.M,
                line_height=3.6,
                padding=(0.5, 1, 0.5, 0),
            ) as table:
                for label, value in pairs:
                    row = table.row()
                    row.cell(label, style=label_style)
                    row.cell(value, style=value_style)

        def disciplines_table(self) -> None:
            caption = FontFace(emphasis="B", size_pt=_BODY_PT, fill_color=_GREY)
            summary = FontFace(emphasis="B", size_pt=_BODY_PT)
            with self._marks_table() as table:
                self._marks_headings(table, H_SUBJECTS)
                for period in self.doc.periods:
                    table.row().cell(period.title, colspan=7, align=Align.L, style=caption)
                    for index, item in enumerate(period.rows, start=1):
                        _fill(
                            table.row(),
                            [str(index), item.discipline, _number(item.credits), *_marks(item)],
                        )
                    row = table.row()
                    row.cell(L_PERIOD_GPA, colspan=2, align=Align.R, style=summary)
                    row.cell(_number(period.credits) if period.credits is not None else "")
                    row.cell("", colspan=2)
                    row.cell(_fixed(period.gpa), style=summary)
                    row.cell("")

        def section(
            self, title: str, name_headings: tuple[str, ...], rows: list[list[str]]
        ) -> None:
            # An empty section is left out rather than printed as an empty table.
            if not rows:
                return
            self.ln(4)
            self._section_title(title)
            with self._marks_table(name_columns=len(name_headings)) as table:
                self._marks_headings(table, *name_headings)
                for index, cells in enumerate(rows, start=1):
                    _fill(table.row(), [str(index), *cells])

        def closing_block(self) -> None:
            doc = self.doc
            self.ln(4)
            # Keep the totals, the date, the signatures, the stamp and the QR code together.
            needed = 30 + 14 * len(doc.signatories) + (_QR_SIZE + 6 if doc.verify_url else 0)
            if self.will_page_break(needed):
                self.add_page()
            self.key_values(
                [
                    (L_TOTAL_CREDITS, _number(doc.total_credits)),
                    (L_CUMULATIVE_GPA, _fixed(doc.cumulative_gpa)),
                    (L_ISSUE_DATE, doc.issue_date.strftime(doc.date_format)),
                ]
            )
            if doc.signatories:
                self.ln(6)
                self.signature_lines(doc.signatories)
            self.stamp_and_verification()

        def stamp_and_verification(self) -> None:
            """The stamp's place on the left, the QR code with its caption on the right."""
            doc = self.doc
            top = self.y + 4
            # The circle is where the seal goes, beside the signatures as on the paper form.
            self.set_draw_color(150)
            self.set_dash_pattern(dash=1, gap=1)
            self.circle(
                x=_MARGIN + 20 + _STAMP_SIZE / 2, y=top + _STAMP_SIZE / 2, radius=_STAMP_SIZE / 2
            )
            self.set_dash_pattern()
            self.set_draw_color(0)
            self.set_font(self._family, "", 7)
            self.set_text_color(110)
            self.set_xy(_MARGIN + 20, top + _STAMP_SIZE / 2 - 2)
            self.cell(_STAMP_SIZE, 4, L_STAMP, align=Align.C)
            self.set_text_color(0)
            bottom = top + _STAMP_SIZE
            if doc.verify_url:
                from bot.services.qr import qr_png

                qr_x = self.w - _MARGIN - _QR_SIZE
                self.image(
                    io.BytesIO(qr_png(doc.verify_url)), x=qr_x, y=top, w=_QR_SIZE, h=_QR_SIZE
                )
                text_width = 62.0
                self.set_xy(qr_x - text_width - 3, top + 4)
                self.set_font(self._family, "B", 7)
                self.multi_cell(
                    text_width,
                    3.4,
                    _stacked(L_VERIFY),
                    align=Align.R,
                    new_x=XPos.LEFT,
                    new_y=YPos.NEXT,
                )
                self.ln(1)
                self.set_x(qr_x - text_width - 3)
                self.set_font(self._family, "", 6)
                self.set_text_color(80)
                self.multi_cell(
                    text_width,
                    3,
                    doc.verify_url,
                    align=Align.R,
                    wrapmode=WrapMode.CHAR,
                    new_x=XPos.LEFT,
                    new_y=YPos.NEXT,
                )
                self.set_text_color(0)
                bottom = max(bottom, top + _QR_SIZE)
            self.set_xy(_MARGIN, bottom + 2)

        def signature_lines(self, signatories: Sequence[Signatory]) -> None:
            self.set_font(self._family, "", 9)
            with self.table(
                col_widths=(90, 45, _CONTENT_WIDTH - 135),
                width=_CONTENT_WIDTH,
                first_row_as_headings=False,
                borders_layout=TableBordersLayout.NONE,
                text_align=(Align.L, Align.C, Align.R),
                v_align=VAlign.B,
                line_height=4.2,
                padding=(2.5, 0, 0.5, 0),
            ) as table:
                for signatory in signatories:
                    row = table.row()
                    row.cell(signatory.position)
                    # The blank with a bottom rule is where the pen goes.
                    row.cell("", border=CellBordersLayout.BOTTOM)
                    row.cell(keep_together(signatory.name))

        def _section_title(self, title: str) -> None:
            # A section title alone at the bottom of a page reads as belonging to nothing. fpdf2
            # moves a table to the next page unless its headings and first row fit, counting the
            # two heading rows at about 45 mm, so the title needs that much room below it too.
            if self.will_page_break(_SECTION_KEEP_TOGETHER):
                self.add_page()
            self.set_font(self._family, "B", 9)
            self.multi_cell(0, 5, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.ln(1)

        def _marks_table(self, *, name_columns: int = 1) -> Any:
            self.set_font(self._family, "", _BODY_PT)
            if name_columns == 2:
                name_widths: tuple[float, ...] = (_W_NAME - _W_PRACTICE_PERIOD, _W_PRACTICE_PERIOD)
            else:
                name_widths = (_W_NAME,)
            widths = (_W_NO, *name_widths, _W_CREDITS, *_W_MARKS)
            aligns = (Align.C,) + (Align.L,) * len(name_widths) + (Align.C,) * 4 + (Align.L,)
            return self.table(
                col_widths=widths,
                width=_CONTENT_WIDTH,
                text_align=aligns,
                v_align=VAlign.M,
                num_heading_rows=2,
                headings_style=FontFace(emphasis="B", size_pt=_HEAD_PT, fill_color=_GREY),
                line_height=_BODY_PT * 0.45,
                padding=(0.8, 1, 0.8, 1),
                repeat_headings=1,
            )

        @staticmethod
        def _marks_headings(table: Table, *name_headings: str) -> None:
            first = table.row()
            first.cell(H_NUMBER, rowspan=2, align=Align.C)
            for heading in name_headings:
                first.cell(_stacked(heading), rowspan=2, align=Align.C)
            first.cell(_stacked(H_CREDITS), rowspan=2, align=Align.C)
            first.cell(_stacked(H_MARK), colspan=4, align=Align.C)
            second = table.row()
            for heading in (H_PERCENT, H_LETTER, H_POINTS, H_TRADITIONAL):
                second.cell(_stacked(heading), align=Align.C)

    return _TranscriptPDF


def _fill(row: Row, texts: Sequence[str]) -> None:
    for text in texts:
        row.cell(text)


def _stacked(heading: str) -> str:
    # One language per line keeps narrow heading cells readable.
    return heading.replace(" / ", "\n")


def _marks(item: TranscriptRow | PracticeRow | AttestationRow | ThesisRow) -> list[str]:
    return [
        _number(item.percent),
        item.letter or NO_VALUE,
        _fixed(item.points),
        item.traditional or NO_VALUE,
    ]


def _decimal(value: Num) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _number(value: Num | None) -> str:
    """Up to two decimals without trailing zeros: 5 → "5", 94.50 → "94.5"."""
    if value is None:
        return NO_VALUE
    text = format(_decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _fixed(value: Num | None) -> str:
    """Exactly two decimals, as grade points and GPA are written: 3 → "3.00"."""
    if value is None:
        return NO_VALUE
    return format(_decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")
