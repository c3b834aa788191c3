"""Callback payloads and shared labels of the academic screens (journal, timetable, calendar,
transcript, profile, the teacher's journal). Payloads carry opaque ids and page numbers only."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _

from bot.i18n import fmt_date, fmt_number
from db.models import AcademicPeriod
from db.models.academic import CalendarEventKind, ClassKind, WeekParity, WorkKind

# Page and offset numbers come from the client: anything outside these bounds is refused.
MAX_PAGE = 500
MAX_WEEK_OFFSET = 104


class JournalCb(CallbackData, prefix="jr"):
    """a: "p" a period's table (id = period), "d" a discipline (id = enrolment), "l" periods."""

    a: str
    id: int = 0
    pg: int = 0


class TimetableCb(CallbackData, prefix="tt"):
    """a: "w" a week (n = weeks from this one), "d" a day (n = days from today), "ics"."""

    a: str
    n: int = 0
    pg: int = 0


class CalendarCb(CallbackData, prefix="ac"):
    """a: "mine", "list", "view" (id = calendar), "next"."""

    a: str
    id: int = 0
    pg: int = 0


class TranscriptCb(CallbackData, prefix="tr"):
    a: str
    pg: int = 0


class TranscriptRevokeCb(CallbackData, prefix="trv"):
    """Revoke an issued transcript (the registrar's office); `i` is its registry id."""

    i: int


def revoke_transcript_button(transcript_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=_("🚫 Revoke"), callback_data=TranscriptRevokeCb(i=transcript_id).pack()
    )


class TeacherCb(CallbackData, prefix="tj"):
    """The teacher's journal: `a` names the screen, x and y carry its ids."""

    a: str
    x: int = 0
    y: int = 0
    pg: int = 0


def valid_page(page: int) -> bool:
    return 0 <= page <= MAX_PAGE


def nav_row(
    make: type[CallbackData], page: int, pages: int, **fields: object
) -> list[InlineKeyboardButton]:
    """‹ 2/5 › for a screen of `pages` pages; empty when it fits on one."""
    if pages <= 1:
        return []
    row = []
    if page > 0:
        row.append(
            InlineKeyboardButton(text="‹", callback_data=make(pg=page - 1, **fields).pack())
        )
    row.append(
        InlineKeyboardButton(
            text=f"{page + 1}/{pages}", callback_data=make(pg=page, **fields).pack()
        )
    )
    if page < pages - 1:
        row.append(
            InlineKeyboardButton(text="›", callback_data=make(pg=page + 1, **fields).pack())
        )
    return row


# ---- labels ----------------------------------------------------------------------------------


def class_kind_label(kind: ClassKind) -> str:
    return {
        ClassKind.lecture: _("lecture"),
        ClassKind.practice: _("practice"),
        ClassKind.lab: _("lab"),
        ClassKind.srs: _("independent work (SIW)"),
        ClassKind.srop: _("independent work with the teacher (SIWT)"),
    }[ClassKind(kind)]


def work_kind_label(kind: WorkKind) -> str:
    return {
        WorkKind.lecture: _("lecture"),
        WorkKind.practice: _("practice"),
        WorkKind.lab: _("lab"),
        WorkKind.srs: _("independent work (SIW)"),
        WorkKind.srop: _("independent work with the teacher (SIWT)"),
        WorkKind.test: _("test"),
    }[WorkKind(kind)]


def parity_label(parity: WeekParity) -> str:
    return {
        WeekParity.all: _("every week"),
        WeekParity.odd: _("odd week (numerator)"),
        WeekParity.even: _("even week (denominator)"),
    }[WeekParity(parity)]


def traditional_label(key: str) -> str:
    return {
        "excellent": _("excellent"),
        "good": _("good"),
        "satisfactory": _("satisfactory"),
        "unsatisfactory": _("unsatisfactory"),
    }.get(key, key)


def control_label(control: str) -> str:
    return {
        "midterm1": _("midterm 1"),
        "midterm2": _("midterm 2"),
        "exam": _("exam"),
        "current": _("current mark"),
    }.get(control, control)


def event_section_label(kind: CalendarEventKind) -> str:
    return {
        CalendarEventKind.semester: _("Semester"),
        CalendarEventKind.add_drop: _("Add/drop"),
        CalendarEventKind.registration: _("Registration"),
        CalendarEventKind.midterm: _("Midterm controls"),
        CalendarEventKind.session: _("Exam session"),
        CalendarEventKind.practice: _("Practice"),
        CalendarEventKind.grading: _("Final grading"),
        CalendarEventKind.holiday: _("Holidays"),
        CalendarEventKind.vacation: _("Vacations"),
    }[CalendarEventKind(kind)]


def period_title(period: AcademicPeriod) -> str:
    return _("{year}, term {term}").format(year=period.academic_year, term=period.term)


def mark(value: object, locale: str) -> str:
    """A mark for a table cell: an empty cell is a dash, never 0."""
    if value is None:
        return "—"
    return fmt_number(value, locale)  # type: ignore[arg-type]


def date_range(first: object, last: object, locale: str) -> str:
    if first == last:
        return fmt_date(first, locale)  # type: ignore[arg-type]
    return f"{fmt_date(first, locale)} – {fmt_date(last, locale)}"  # type: ignore[arg-type]
