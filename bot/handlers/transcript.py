"""The transcript (§9) on screen and as a PDF laid out like the university's form, and the
profile (§12)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import SUPPORTED_LOCALES, Settings
from bot.i18n import fmt_date, fmt_number
from bot.keyboards.academic import (
    TranscriptCb,
    date_range,
    mark,
    nav_row,
    period_title,
    traditional_label,
    valid_page,
)
from bot.keyboards.common import NavCb, home_button
from bot.modules import MenuItem, Module
from bot.services import profile as profile_svc
from bot.services import transcript as svc
from bot.services.auth import Viewer
from bot.services.fonts import FontNotFoundError
from bot.services.grading import LetterGrade
from bot.ui import esc, show, split_text
from db.models import Role
from db.models.academic import AttestationKind
from db.session import Database

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from bot.services.pdf_transcript import TranscriptDoc


def render_transcript(doc: TranscriptDoc) -> bytes:
    # The renderer's module is imported on first use: it loads fpdf2, start-up does not need it.
    from bot.services.pdf_transcript import render_transcript as render

    return render(doc)


def _grade(percent: object, grade: LetterGrade | None, locale: str) -> str:
    if grade is None:
        return "—"
    return _("{percent}% · {letter} · {points} · {traditional}").format(
        percent=mark(percent, locale),
        letter=grade.display,
        points=fmt_number(grade.points, locale, fixed=True),
        traditional=traditional_label(grade.traditional),
    )


def transcript_blocks(data: svc.TranscriptData, locale: str) -> list[str]:
    student = data.student
    blocks = [
        _("🎓 <b>Transcript</b>\n{name} · {student_no}").format(
            name=esc(student.user.full_name), student_no=esc(student.student_no)
        )
    ]
    if not data.periods:
        blocks.append(_("No final grades yet."))
    for item in data.periods:
        lines = [f"<b>{esc(period_title(item.period))}</b>"]
        for index, line in enumerate(item.lines, start=1):
            row = line.row
            lines.append(
                _("{n}. {name} · {credits} cr.\n    {grade}").format(
                    n=index,
                    name=esc(row.discipline.name(locale)) + (" *" if line.retaken else ""),
                    credits=row.credits,
                    grade=_grade(row.final, row.grade, locale),
                )
            )
        lines.append(
            _("Period GPA: {gpa} · credits: {credits}").format(
                gpa=fmt_number(item.gpa, locale, fixed=True) or "—", credits=item.credits
            )
        )
        blocks.append("\n".join(lines))
    if data.practices:
        lines = [_("<b>Professional practice</b>")]
        for practice, graded in data.practices:
            lines.append(
                _("• {name} ({when}) · {credits} cr. · {grade}").format(
                    name=esc(practice.name(locale)),
                    when=date_range(practice.starts_on, practice.ends_on, locale),
                    credits=graded.credits,
                    grade=_grade(graded.percent, graded.grade, locale),
                )
            )
        blocks.append("\n".join(lines))
    for kind, title in (
        (AttestationKind.state_exam, _("<b>Final state attestation</b>")),
        (AttestationKind.thesis, _("<b>Degree work</b>")),
    ):
        rows = [(a, g) for a, g in data.attestations if a.kind == kind]
        if rows:
            lines = [title]
            for item, graded in rows:
                protocol = f" ({esc(item.protocol)})" if item.protocol else ""
                lines.append(
                    _("• {name} · {credits} cr. · {grade}").format(
                        name=esc(item.title) + protocol,
                        credits=graded.credits,
                        grade=_grade(graded.percent, graded.grade, locale),
                    )
                )
            blocks.append("\n".join(lines))
    if any(line.retaken for period in data.periods for line in period.lines):
        blocks.append(_("* retaken later; the later result counts in the cumulative GPA."))
    blocks.append(
        _("<b>Cumulative GPA: {gpa}</b> · credits earned: {credits}").format(
            gpa=fmt_number(data.cumulative_gpa, locale, fixed=True) or "—",
            credits=data.total_credits,
        )
    )
    return blocks


async def transcript_screen(
    db: Database, viewer: Viewer, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    locale = get_i18n().current_locale
    assert viewer.student_id is not None
    async with db.read() as session:
        data = await svc.transcript(session, viewer.student_id)
    if data is None:
        return _("No transcript."), InlineKeyboardMarkup(inline_keyboard=[[home_button()]])
    pages = split_text(transcript_blocks(data, locale))
    page = min(page, len(pages) - 1)
    buttons = []
    pager = nav_row(TranscriptCb, page, len(pages), a="v")
    if pager:
        buttons.append(pager)
    buttons.append(
        [InlineKeyboardButton(text=_("📄 PDF"), callback_data=TranscriptCb(a="pdf").pack())]
    )
    buttons.append([home_button()])
    return pages[page], InlineKeyboardMarkup(inline_keyboard=buttons)


async def send_pdf(
    callback: CallbackQuery, db: Database, viewer: Viewer, settings: Settings, clock: Clock
) -> None:
    assert viewer.student_id is not None
    async with db.read() as session:
        data = await svc.transcript(session, viewer.student_id)
    if data is None or callback.bot is None:
        await callback.answer(_("This is not available."), show_alert=True)
        return
    # The document is written in the group's language of instruction, like the paper form.
    language = data.student.group.language
    doc_locale = language if language in SUPPORTED_LOCALES else "kk"
    i18n = get_i18n()
    with i18n.use_locale(doc_locale):
        doc = svc.to_document(
            data,
            locale=doc_locale,
            university=settings.university_name,
            issue_date=clock.now().astimezone(settings.tz).date(),
            period_title=period_title,
            traditional=traditional_label,
            practice_period=lambda p: f"{p.starts_on:%d.%m.%Y} – {p.ends_on:%d.%m.%Y}",
        )
    await callback.answer(_("Preparing the PDF…"))
    try:
        pdf = await asyncio.to_thread(render_transcript, doc)
    except FontNotFoundError:
        log.exception("transcript font missing")
        await callback.bot.send_message(
            callback.from_user.id,
            _("The PDF cannot be made right now: its font is not installed on the server."),
        )
        return
    name = data.student.student_no
    await callback.bot.send_document(
        callback.from_user.id,
        BufferedInputFile(pdf, filename=f"transcript-{name}.pdf"),
        caption=_("Transcript of {name}, issued {date}.").format(
            name=esc(data.student.user.full_name),
            date=fmt_date(doc.issue_date, get_i18n().current_locale, "dd.MM.yyyy"),
        ),
    )


async def not_a_student(callback: CallbackQuery) -> None:
    await callback.answer(_("This section is for students."), show_alert=True)


async def on_open(callback: CallbackQuery, viewer: Viewer, db: Database) -> None:
    """The Transcript button of the home screen."""
    if viewer.student_id is None:
        await not_a_student(callback)
        return
    await callback.answer()
    await show(callback, *await transcript_screen(db, viewer, 0))


async def on_transcript(
    callback: CallbackQuery,
    callback_data: TranscriptCb,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """Pages of the transcript and the PDF button."""
    if viewer.student_id is None:
        await not_a_student(callback)
        return
    if callback_data.a == "v" and valid_page(callback_data.pg):
        await callback.answer()
        await show(callback, *await transcript_screen(db, viewer, callback_data.pg))
    elif callback_data.a == "pdf":
        await send_pdf(callback, db, viewer, settings, clock)
    else:
        await callback.answer(_("This is not available."), show_alert=True)


# ---- profile ---------------------------------------------------------------------------------


async def profile_screen(db: Database, viewer: Viewer) -> tuple[str, InlineKeyboardMarkup]:
    locale = get_i18n().current_locale
    assert viewer.student_id is not None
    async with db.read() as session:
        student = await profile_svc.student_profile(session, viewer.student_id)
    markup = InlineKeyboardMarkup(inline_keyboard=[[home_button()]])
    if student is None:
        return _("No profile."), markup
    group = student.group
    none = "—"
    rows = [
        (_("Name"), student.user.full_name),
        (_("Student ID"), student.student_no),
        (_("Faculty"), group.programme.faculty.name(locale)),
        (_("Programme"), f"{group.programme.code} {group.programme.name(locale)}"),
        (_("Group"), group.code),
        (_("Year of study"), str(group.course)),
        (_("Form of study"), group.study_form.name(locale)),
        (_("Year of admission"), str(student.admission_year)),
        (_("Advisor"), student.advisor.user.full_name if student.advisor else none),
        (_("Phone"), student.phone or none),
        (_("Email"), student.email or none),
        (_("Address"), student.address or none),
    ]
    if student.birth_date:
        rows.insert(2, (_("Date of birth"), fmt_date(student.birth_date, locale)))
    lines = [_("👤 <b>Profile</b>"), ""]
    lines += [f"{label}: <b>{esc(value)}</b>" for label, value in rows]
    lines += ["", _("If something is wrong, contact the Registrar's office.")]
    return "\n".join(lines), markup


async def on_profile(callback: CallbackQuery, viewer: Viewer, db: Database) -> None:
    """The Profile button of the home screen."""
    if viewer.student_id is None:
        await not_a_student(callback)
        return
    await callback.answer()
    await show(callback, *await profile_screen(db, viewer))


def get_router() -> Router:
    router = Router(name="transcript")
    router.callback_query.register(on_open, NavCb.filter(F.to == "transcript"))
    router.callback_query.register(on_transcript, TranscriptCb.filter())
    router.callback_query.register(on_profile, NavCb.filter(F.to == "profile"))
    return router


STUDENTS = frozenset({Role.student})

MODULE = Module(
    name="transcript",
    router=get_router,
    menu=(
        MenuItem(to="transcript", label=lambda: _("🎓 Transcript"), roles=STUDENTS, order=40),
        MenuItem(to="profile", label=lambda: _("👤 Profile"), roles=STUDENTS, order=45),
    ),
)
