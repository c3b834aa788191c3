"""The transcript (§9) on screen and as a PDF laid out like the university's form, and the
profile (§12)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.handlers.verification import may_revoke_transcripts
from bot.i18n import DOCUMENT_DATE_FORMAT, DOCUMENT_DATE_FORMATS, fmt_date, fmt_number
from bot.keyboards.academic import (
    TranscriptCb,
    TranscriptRevokeCb,
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
from bot.services import service_centre as sc
from bot.services import transcript as svc
from bot.services.auth import Viewer
from bot.services.errors import DomainError
from bot.services.fonts import FontNotFoundError
from bot.services.grading import LetterGrade
from bot.services.pdf_transcript import Signatory, TranscriptDoc, render_transcript
from bot.ui import esc, show, split_text
from db.models import Role
from db.models.academic import AttestationKind
from db.models.documents import IssuedTranscript
from db.session import Database

log = logging.getLogger(__name__)


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


def transcript_signatories(university: sc.UniversityDetails) -> list[Signatory]:
    """Who signs a transcript, in the current language."""
    return [
        Signatory(
            position=_("Head of the Office of the Registrar"), name=university.registrar_name
        )
    ]


def transcript_doc(
    data: svc.TranscriptData, settings: Settings, locale: str, now: datetime
) -> TranscriptDoc:
    """The transcript's content in `locale`, not yet numbered (enter that locale first)."""
    university = sc.UniversityDetails.from_settings(
        settings.university_name, settings.extra, locale
    )
    dates = DOCUMENT_DATE_FORMATS.get(locale, DOCUMENT_DATE_FORMAT)
    return svc.to_document(
        data,
        locale=locale,
        university=university.name,
        issue_date=now.astimezone(settings.tz).date(),
        period_title=period_title,
        traditional=traditional_label,
        practice_period=lambda p: f"{p.starts_on:{dates}} – {p.ends_on:{dates}}",
        signatories=transcript_signatories(university),
        logo_file=university.logo_file,
        date_format=dates,
    )


async def render_issued(
    bot: Bot, db: Database, chat_id: int, doc: TranscriptDoc, issued: IssuedTranscript
) -> bytes | None:
    """Number the document, render it off the event loop and keep it as the original; on
    failure the reserved registry entry is dropped (None: the reader has been told why)."""
    me = await bot.me()
    doc = replace(
        doc, number=issued.number, verify_url=sc.verify_link(me.username or "", issued.token)
    )
    try:
        # Rendering takes CPU time: off the event loop and outside any database unit.
        pdf = await asyncio.to_thread(render_transcript, doc)
    except Exception as exc:
        async with db.write() as session:
            await svc.discard_transcript(session, issued.id)
        if not isinstance(exc, FontNotFoundError):
            raise
        log.exception("transcript font missing")
        await bot.send_message(
            chat_id,
            _("The PDF cannot be made right now: its font is not installed on the server."),
        )
        return None
    async with db.write() as session:
        await svc.store_transcript_pdf(session, issued.id, pdf)
    return pdf


async def send_pdf(
    callback: CallbackQuery, db: Database, viewer: Viewer, settings: Settings, clock: Clock
) -> None:
    """Issue the transcript as a registered document in the reader's language, or send again the
    one already issued when nothing in it has changed."""
    assert viewer.student_id is not None
    bot = callback.bot
    async with db.read() as session:
        data = await svc.transcript(session, viewer.student_id)
    if data is None or bot is None:
        await callback.answer(_("This is not available."), show_alert=True)
        return
    locale = get_i18n().current_locale
    now = clock.now()
    doc = transcript_doc(data, settings, locale, now)
    print_hash = svc.fingerprint(doc, locale)
    await callback.answer(_("Preparing the PDF…"))
    chat_id = callback.from_user.id
    await bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT)
    async with db.write() as session:
        issued = await svc.reusable_transcript(session, viewer.student_id, print_hash, locale)
        if issued is None:
            issued = await svc.reserve_transcript(
                session,
                student=data.student,
                locale=locale,
                print_hash=print_hash,
                now=now,
                issued_on=doc.issue_date,
            )
    pdf = issued.pdf or await render_issued(bot, db, chat_id, doc, issued)
    if pdf is None:
        return
    caption = _(
        "Transcript №{number} of {name}, issued {date}. Its QR code lets anyone check it."
    ).format(
        number=esc(issued.number),
        name=esc(data.student.user.full_name),
        date=fmt_date(issued.issue_date, locale, "dd.MM.yyyy"),
    )
    document = issued.file_id or BufferedInputFile(pdf, filename=issued.file_name)
    sent = await bot.send_document(chat_id, document, caption=caption)
    if issued.file_id is None and sent.document is not None:
        async with db.write() as session:
            await svc.remember_transcript_file_id(session, issued.id, sent.document.file_id)


async def not_a_student(callback: CallbackQuery) -> None:
    await callback.answer(_("This section is for students."), show_alert=True)


async def on_open(callback: CallbackQuery, viewer: Viewer, db: Database) -> None:
    """The Transcript button of the home screen."""
    if viewer.student_id is None:
        await not_a_student(callback)
        return
    await callback.answer()
    await show(callback, *await transcript_screen(db, viewer, 0))


async def on_transcript_page(
    callback: CallbackQuery, callback_data: TranscriptCb, viewer: Viewer, db: Database
) -> None:
    """A page of the transcript on screen."""
    if viewer.student_id is None:
        await not_a_student(callback)
        return
    if not valid_page(callback_data.pg):
        await callback.answer(_("This is not available."), show_alert=True)
        return
    await callback.answer()
    await show(callback, *await transcript_screen(db, viewer, callback_data.pg))


async def on_transcript_pdf(
    callback: CallbackQuery, viewer: Viewer, db: Database, settings: Settings, clock: Clock
) -> None:
    """«PDF»: the transcript issued as a document."""
    if viewer.student_id is None:
        await not_a_student(callback)
        return
    await send_pdf(callback, db, viewer, settings, clock)


async def on_stale_button(callback: CallbackQuery, viewer: Viewer) -> None:
    """A transcript button of an action this version no longer has."""
    if viewer.student_id is None:
        await not_a_student(callback)
        return
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


# ---- revoking an issued transcript (the registrar's office) ----------------------------------


class RevokeTranscript(StatesGroup):
    reason = State()


def _cancel_markup() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[home_button()]])


async def on_revoke(
    callback: CallbackQuery,
    callback_data: TranscriptRevokeCb,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
) -> None:
    """The Revoke button under a transcript's verification answer."""
    if not await may_revoke_transcripts(db, viewer):
        await callback.answer(_("This is not available."), show_alert=True)
        return
    async with db.read() as session:
        issued = await session.get(IssuedTranscript, callback_data.i)
    if issued is None or issued.revoked_at is not None or issued.pdf is None:
        await callback.answer(_("There is no valid document to revoke."), show_alert=True)
        return
    await state.set_state(RevokeTranscript.reason)
    await state.update_data(trv_id=issued.id)
    await callback.answer()
    if callback.bot is not None:
        await callback.bot.send_message(
            callback.from_user.id,
            _("Type the reason for revoking transcript №{number}. Its holder will see it.").format(
                number=esc(issued.number)
            ),
            reply_markup=_cancel_markup(),
        )


async def on_revoke_reason(
    message: Message, state: FSMContext, viewer: Viewer, db: Database, clock: Clock
) -> None:
    """The typed reason for revoking a transcript."""
    data = await state.get_data()
    transcript_id = data.get("trv_id")
    if not isinstance(transcript_id, int) or not await may_revoke_transcripts(db, viewer):
        await state.clear()
        await message.answer(_("This is not available."))
        return
    reason = (message.text or "").strip()
    if not reason or len(reason) > 1000:
        await message.answer(
            _("Type the reason in words (at most 1000 characters)."), reply_markup=_cancel_markup()
        )
        return
    try:
        async with db.write() as session:
            issued = await svc.revoke_transcript(
                session,
                transcript_id=transcript_id,
                actor_id=viewer.user_id,
                reason=reason,
                now=clock.now(),
            )
            number = issued.number
    except DomainError as exc:
        await state.clear()
        await message.answer(exc.user_message() or _("This is not available."))
        return
    await state.clear()
    await message.answer(
        _("🚫 Transcript №{number} has been revoked. Its holder has been told.").format(
            number=esc(number)
        ),
        reply_markup=_cancel_markup(),
    )


async def on_revoke_not_text(message: Message) -> None:
    """Anything but text while the reason is expected."""
    await message.answer(_("Type the reason in words (at most 1000 characters)."))


def get_router() -> Router:
    router = Router(name="transcript")
    router.callback_query.register(on_open, NavCb.filter(F.to == "transcript"))
    router.callback_query.register(on_transcript_page, TranscriptCb.filter(F.a == "v"))
    router.callback_query.register(on_transcript_pdf, TranscriptCb.filter(F.a == "pdf"))
    # Last: a button of an action that no longer exists.
    router.callback_query.register(on_stale_button, TranscriptCb.filter())
    router.callback_query.register(on_revoke, TranscriptRevokeCb.filter())
    router.message.register(on_revoke_reason, StateFilter(RevokeTranscript.reason), F.text)
    router.message.register(on_revoke_not_text, StateFilter(RevokeTranscript.reason))
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
