"""The exam grade sheet (емтихан ведомосі / экзаменационная ведомость) from 📒 My classes.

A teacher gets the sheet of a group and discipline they teach in the current period; staff and
administrators of any group. The kind of control (midterm 1, midterm 2, exam) and the format
(PDF to print and sign, XLSX) are picked on one screen; the file is made off the event loop and
sent as a document in the reader's language.
"""

from __future__ import annotations

import asyncio

from aiogram import Router
from aiogram.enums import ChatAction
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import DOCUMENT_DATE_FORMAT, DOCUMENT_DATE_FORMATS
from bot.keyboards.academic import TeacherCb, period_title, traditional_label
from bot.keyboards.common import home_button
from bot.modules import Module
from bot.services import grade_sheet as gs
from bot.services import journal as journal_svc
from bot.services import service_centre as sc
from bot.services.auth import Viewer
from bot.services.fonts import FontNotFoundError
from bot.services.grading import TRADITIONAL_KEYS
from bot.ui import esc, show
from db.models import AcademicPeriod, Discipline, Group, Role
from db.session import Database

FORMATS = ("pdf", "xlsx")


class GradeSheetCb(CallbackData, prefix="gsh"):
    """A grade sheet: discipline `d`, group `g`, kind of control `k`, format `f` ("" = choose)."""

    d: int
    g: int
    k: str = ""
    f: str = ""


def grade_sheet_button(discipline_id: int, group_id: int) -> InlineKeyboardButton:
    """The button of the group screen of 📒 My classes."""
    return InlineKeyboardButton(
        text=_("🧾 Grade sheet"), callback_data=GradeSheetCb(d=discipline_id, g=group_id).pack()
    )


def kind_label(kind: str) -> str:
    return {
        "midterm1": _("Midterm control 1"),
        "midterm2": _("Midterm control 2"),
        "exam": _("Final control (exam)"),
    }.get(kind, kind)


def sheet_labels(kind: str, period: AcademicPeriod, not_final: int) -> gs.SheetLabels:
    """The sheet's words in the current language."""
    return gs.SheetLabels(
        title=_("GRADE SHEET · {kind}"),
        kind=kind_label(kind),
        faculty=_("Faculty"),
        programme=_("Educational programme"),
        group=_("Group"),
        group_value=_("{group}, year {course}, {form}"),
        discipline=_("Discipline"),
        discipline_value=_("{code} {name} ({credits} credits)"),
        period=_("Academic period"),
        period_value=period_title(period),
        teacher=_("Examiner"),
        date=_("Date"),
        number="№",
        full_name=_("Full name"),
        student_no=_("Student ID"),
        mark=_("Mark, %"),
        admission=_("Admission rating"),
        exam=_("Exam"),
        final=_("Final, %"),
        letter=_("Letter"),
        points=_("Points"),
        traditional=_("Traditional grade"),
        status=_("Note"),
        not_final=_("not final"),
        not_final_note=ngettext(
            "Preliminary: {count} grade is not final yet (marks are missing); it is not counted "
            "in the totals.",
            "Preliminary: {count} grades are not final yet (marks are missing); they are not "
            "counted in the totals.",
            not_final,
        ),
        exam_below=_("exam below the threshold"),
        totals=_("Totals by letter"),
        total_students=_("Students"),
        letter_column=_("Letter"),
        count_column=_("Students"),
        examiner=_("Examiner"),
        head=_("Head of the department"),
        signature=_("signature"),
        traditional_names={key: traditional_label(key) for key in TRADITIONAL_KEYS},
        date_format=DOCUMENT_DATE_FORMATS.get(get_i18n().current_locale, DOCUMENT_DATE_FORMAT),
    )


def _may_use(viewer: Viewer) -> bool:
    return viewer.is_staff or (viewer.role == Role.teacher and viewer.teacher_id is not None)


async def _unit(
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
    discipline_id: int,
    group_id: int,
) -> tuple[AcademicPeriod, Discipline, Group] | None:
    """The current period, discipline and group, if the viewer may see this class."""
    today = clock.now().astimezone(settings.tz).date()
    async with db.read() as session:
        period = await journal_svc.current_period(session, today)
        if period is None:
            return None
        if not viewer.is_staff:
            assert viewer.teacher_id is not None
            if not await journal_svc.teaches(
                session, viewer.teacher_id, discipline_id, group_id, period.id
            ):
                return None
        discipline = await session.get(Discipline, discipline_id)
        group = await session.get(Group, group_id)
    if discipline is None or group is None:
        return None
    return period, discipline, group


def choose_screen(
    period: AcademicPeriod, discipline: Discipline, group: Group, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    text = "\n".join(
        [
            _("🧾 <b>Grade sheet</b> · {discipline} · group {group}").format(
                discipline=esc(discipline.name(locale)), group=esc(group.code)
            ),
            esc(period_title(period)),
            "",
            _(
                "Choose the kind of control and the format: a PDF to print and sign, or a "
                "spreadsheet."
            ),
        ]
    )
    rows = [
        [
            InlineKeyboardButton(
                text=f"{kind_label(kind)} · {label}",
                callback_data=GradeSheetCb(d=discipline.id, g=group.id, k=kind, f=fmt).pack(),
            )
            for fmt, label in (("pdf", "PDF"), ("xlsx", "XLSX"))
        ]
        for kind in gs.KINDS
    ]
    rows.append(
        [
            InlineKeyboardButton(
                text=_("« Group"),
                callback_data=TeacherCb(a="g", x=discipline.id, y=group.id).pack(),
            ),
            home_button(),
        ]
    )
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def on_grade_sheet(
    callback: CallbackQuery,
    callback_data: GradeSheetCb,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """The Grade sheet button of a group screen, and its kind/format buttons."""
    if not _may_use(viewer):
        await callback.answer(_("This section is for teachers."), show_alert=True)
        return
    kind, fmt = callback_data.k, callback_data.f
    if (kind or fmt) and (kind not in gs.KINDS or fmt not in FORMATS):
        await callback.answer(_("This is not available."), show_alert=True)
        return
    unit = await _unit(db, viewer, settings, clock, callback_data.d, callback_data.g)
    if unit is None:
        await callback.answer(_("This is not available."), show_alert=True)
        return
    period, discipline, group = unit
    locale = get_i18n().current_locale
    if not kind:
        await callback.answer()
        await show(callback, *choose_screen(period, discipline, group, locale))
        return
    await send_sheet(callback, db, settings, clock, period, discipline.id, group.id, kind, fmt)


async def send_sheet(
    callback: CallbackQuery,
    db: Database,
    settings: Settings,
    clock: Clock,
    period: AcademicPeriod,
    discipline_id: int,
    group_id: int,
    kind: str,
    fmt: str,
) -> None:
    locale = get_i18n().current_locale
    university = sc.UniversityDetails.from_settings(
        settings.university_name, settings.extra, locale
    )
    async with db.read() as session:
        sheet = await gs.grade_sheet(
            session,
            discipline_id=discipline_id,
            group_id=group_id,
            period=period,
            kind=kind,
            locale=locale,
            university=university.name,
            issue_date=clock.now().astimezone(settings.tz).date(),
            logo_file=university.logo_file,
        )
    if sheet is None or callback.bot is None:
        await callback.answer(_("This is not available."), show_alert=True)
        return
    labels = sheet_labels(kind, period, sheet.not_final)
    await callback.answer(_("Preparing the file…"))
    chat_id = callback.from_user.id
    await callback.bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT)
    render = gs.render_pdf if fmt == "pdf" else gs.render_xlsx
    try:
        # Laying out a sheet takes CPU time: off the event loop, and outside any database unit.
        data = await asyncio.to_thread(render, sheet, labels)
    except FontNotFoundError:
        await callback.bot.send_message(
            chat_id,
            _("The PDF cannot be made right now: its font is not installed on the server."),
        )
        return
    caption = _("{title}: {discipline}, group {group}.").format(
        title=esc(kind_label(kind)), discipline=esc(sheet.discipline), group=esc(sheet.group)
    )
    if sheet.not_final:
        caption += "\n" + _("⚠️ Not final: {count} of {total}.").format(
            count=sheet.not_final, total=len(sheet.lines)
        )
    await callback.bot.send_document(
        chat_id, BufferedInputFile(data, filename=gs.file_name(sheet, fmt)), caption=caption
    )


def get_router() -> Router:
    router = Router(name="grade_sheet")
    router.callback_query.register(on_grade_sheet, GradeSheetCb.filter())
    return router


MODULE = Module(name="grade_sheet", router=get_router)
