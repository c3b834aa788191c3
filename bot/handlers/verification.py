"""Verification of an issued document by the link in its QR code: /start v_<token>.

Open to everyone, signed in or not (this router sees private-chat updates before sign-in). The
answer shows what a clerk needs to trust the paper in front of them (state, kind, number, date,
a masked holder name) and offers the original for comparison, and nothing more.
"""

from __future__ import annotations

import asyncio

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import fmt_date
from bot.keyboards.academic import revoke_transcript_button
from bot.keyboards.common import home_button
from bot.keyboards.service_centre import VfCb
from bot.services import roles
from bot.services import service_centre as sc
from bot.services import transcript as transcript_svc
from bot.services.auth import Viewer
from bot.services.errors import DomainError
from bot.ui import esc
from db.models import Role
from db.models.admin import SubRole
from db.models.documents import IssuedTranscript
from db.models.services import DocumentKind, IssuedDocument
from db.session import Database

PREFIX = "v_"


async def may_revoke_transcripts(db: Database, viewer: Viewer | None) -> bool:
    """Administrators and staff of the registrar's office revoke transcripts."""
    if viewer is None or not viewer.is_staff:
        return False
    if viewer.role == Role.admin:
        return True
    async with db.read() as session:
        return await roles.has_sub_role(session, viewer.user_id, SubRole.registrar)


def document_state_label(state: str) -> str:
    return {
        "valid": _("✅ Valid"),
        "revoked": _("⛔ Revoked"),
        "expired": _("⌛ Expired"),
    }.get(state, state)


async def certificate_pdf(
    db: Database,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
    draft: sc.DocumentDraft,
    signer_id: int | None,
) -> bytes:
    """The certificate of study for `draft`, from the student's record, in the draft's language."""
    async with db.read() as session:
        source = await sc.certificate_source(session, draft.request_id, signer_id)
    me = await bot.me()
    university = sc.UniversityDetails.from_settings(
        settings.university_name, settings.extra, draft.locale
    )
    with i18n.use_locale(draft.locale):
        doc = sc.certificate_doc(
            source, draft, university, sc.verify_link(me.username or "", draft.token)
        )
        labels = sc.certificate_labels()
    # Imported here: fpdf2 is heavy and start-up does not need it.
    from bot.services.pdf_certificate import render_certificate

    # Rendering takes a moment of CPU: off the event loop, and outside any database unit.
    return await asyncio.to_thread(render_certificate, doc, labels)


async def deliver_document(
    bot: Bot,
    db: Database,
    i18n: I18n,
    settings: Settings,
    chat_id: int,
    document: IssuedDocument,
    caption: str,
) -> None:
    """Send the original: by Telegram file id when known, else the stored PDF bytes.

    A certificate recorded without its PDF (the demo's, seeded before the bot knew its own
    username) gets it made once, then kept, so every later copy is the same file.
    """
    if document.file_id is None and document.pdf is None:
        if document.kind != DocumentKind.certificate_of_study:
            raise DomainError("sc_no_file", lambda: _("This document is not available."))
        pdf = await certificate_pdf(
            db, bot, i18n, settings, sc.draft_of(document), document.issued_by_id
        )
        async with db.write() as session:
            document = await sc.store_pdf(session, document.id, pdf)
    if document.file_id:
        await bot.send_document(chat_id, document.file_id, caption=caption)
        return
    assert document.pdf is not None
    sent = await bot.send_document(
        chat_id, BufferedInputFile(document.pdf, filename=document.file_name), caption=caption
    )
    if sent.document is not None:
        async with db.write() as session:
            await sc.remember_file_id(session, document.id, sent.document.file_id)


async def deliver_transcript(
    bot: Bot, db: Database, chat_id: int, result: sc.Verification
) -> None:
    """The original of a verified transcript, byte for byte as it was issued."""
    assert result.transcript_id is not None
    async with db.read() as session:
        issued = await session.get(IssuedTranscript, result.transcript_id)
    if issued is None or issued.pdf is None:  # pragma: no cover - deleted meanwhile
        await bot.send_message(chat_id, _("This document is not available."))
        return
    locale = get_i18n().current_locale
    caption = _("{kind} №{number} · {state}").format(
        kind=esc(sc.localized(result.service or {}, locale)),
        number=esc(result.number),
        state=document_state_label(result.state),
    )
    await bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT)
    document = issued.file_id or BufferedInputFile(issued.pdf, filename=issued.file_name)
    sent = await bot.send_document(chat_id, document, caption=caption)
    if issued.file_id is None and sent.document is not None:
        async with db.write() as session:
            await transcript_svc.remember_transcript_file_id(
                session, issued.id, sent.document.file_id
            )


def verification_text(result: sc.Verification, locale: str, settings: Settings) -> str:
    if result.state == "too_many":
        return _("⏳ Too many checks in a short time. Please wait a minute and try again.")
    if result.state == "not_found":
        return _(
            "🔎 <b>Document verification</b>\n\n"
            "❓ No document was found for this link. Check that the QR code was scanned or the "
            "link copied completely."
        )
    verdict = {
        "valid": _("✅ <b>The document is genuine and valid.</b>"),
        "revoked": _("⛔ <b>The document has been revoked</b> and is no longer valid."),
        "expired": _("⌛ <b>The document is genuine, but its validity has expired.</b>"),
    }[result.state]
    lines = [_("🔎 <b>Document verification</b>"), "", verdict, ""]
    lines.append(
        _("Document: {kind}").format(kind=esc(sc.localized(result.service or {}, locale)))
    )
    lines.append(_("Number: {number}").format(number=esc(result.number)))
    if result.issue_date is not None:
        lines.append(_("Date of issue: {date}").format(date=fmt_date(result.issue_date, locale)))
    if result.valid_until is not None:
        lines.append(_("Valid until: {date}").format(date=fmt_date(result.valid_until, locale)))
    if result.revoked_at is not None:
        revoked_on = result.revoked_at.astimezone(settings.tz).date()
        lines.append(_("Revoked on: {date}").format(date=fmt_date(revoked_on, locale)))
    lines.append(_("Holder: {name}").format(name=esc(result.holder_masked)))
    return "\n".join(lines)


async def _check(
    db: Database, token: str, telegram_id: int, viewer: Viewer | None, settings: Settings, clock
) -> sc.Verification:
    async with db.write() as session:
        return await sc.verify(
            session,
            token=token,
            telegram_id=telegram_id,
            checker_user_id=viewer.user_id if viewer is not None else None,
            now=clock.now(),
            tz=settings.tz,
        )


async def on_verify_link(
    message: Message,
    command: CommandObject,
    viewer: Viewer | None,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """/start v_<token>: somebody scanned the QR code of a document."""
    assert message.from_user is not None
    token = (command.args or "")[len(PREFIX) :]
    result = await _check(db, token, message.from_user.id, viewer, settings, clock)
    locale = get_i18n().current_locale
    rows: list[list[InlineKeyboardButton]] = []
    if result.document_id is not None or result.transcript_id is not None:
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("⬇️ Download the original"), callback_data=VfCb(t=token).pack()
                )
            ]
        )
    if (
        result.transcript_id is not None
        and result.state == "valid"
        and await may_revoke_transcripts(db, viewer)
    ):
        rows.append([revoke_transcript_button(result.transcript_id)])
    if viewer is not None:
        rows.append([home_button()])
    markup = InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
    await message.answer(verification_text(result, locale, settings), reply_markup=markup)


async def on_download(
    callback: CallbackQuery,
    callback_data: VfCb,
    viewer: Viewer | None,
    db: Database,
    settings: Settings,
    clock: Clock,
    bot: Bot,
    i18n: I18n,
) -> None:
    """The "Download the original" button under a verification answer."""
    result = await _check(db, callback_data.t, callback.from_user.id, viewer, settings, clock)
    if result.state == "too_many":
        await callback.answer(verification_text(result, "", settings), show_alert=True)
        return
    if result.transcript_id is not None:
        await callback.answer()
        await deliver_transcript(bot, db, callback.from_user.id, result)
        return
    if result.document_id is None:
        await callback.answer(_("This document is not available."), show_alert=True)
        return
    async with db.read() as session:
        document = await session.scalar(
            select(IssuedDocument).where(IssuedDocument.id == result.document_id)
        )
    if document is None:  # pragma: no cover - deleted between two statements
        await callback.answer(_("This document is not available."), show_alert=True)
        return
    await callback.answer()
    locale = get_i18n().current_locale
    caption = _("{kind} №{number} · {state}").format(
        kind=esc(sc.localized(result.service or {}, locale)),
        number=esc(result.number),
        state=document_state_label(result.state),
    )
    await deliver_document(bot, db, i18n, settings, callback.from_user.id, document, caption)


def get_public_router() -> Router:
    router = Router(name="verification")
    router.message.register(
        on_verify_link, CommandStart(deep_link=True, magic=F.args.startswith(PREFIX))
    )
    router.callback_query.register(on_download, VfCb.filter())
    return router
