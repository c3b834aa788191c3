"""The service centre for students (§11): information support (the catalogue) and "My requests"
(filing a request field by field, following its status and history, downloading the document).

The texts that staff screens and notifications share (status names, the request's tabs) live
here too, so a request reads the same to everyone.
"""

from __future__ import annotations

import math
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.delivery.render import Rendered, renderer
from bot.downloads import attachment_refusal_text
from bot.handlers import verification
from bot.handlers.verification import deliver_document, document_state_label
from bot.i18n import fmt_date, fmt_datetime
from bot.keyboards.common import NavCb, back_button, pager_buttons
from bot.keyboards.service_centre import STUDENT_NAV, ScCb, sc_button
from bot.modules import HomeContext, MenuItem, Module
from bot.services import service_centre as sc
from bot.services.auth import Viewer
from bot.services.errors import DomainError
from bot.ui import esc, show
from db.models import Role
from db.models.services import IssuedDocument, RequestStatus, ServiceRequest
from db.session import Database

PAGE_SIZE = 8
HISTORY_LIMIT = 15
COMMENT_PREVIEW = 300
TABS = ("request", "details", "document", "history")


class NewRequest(StatesGroup):
    filling = State()
    preview = State()


class Resubmit(StatesGroup):
    answer = State()
    confirm = State()


# ---- shared texts ------------------------------------------------------------------------------


def status_label(status: RequestStatus | str) -> str:
    return {
        RequestStatus.submitted: _("🆕 Submitted"),
        RequestStatus.in_progress: _("🔄 In progress"),
        RequestStatus.needs_info: _("❓ Needs information"),
        RequestStatus.ready: _("📦 Ready"),
        RequestStatus.issued: _("✅ Issued"),
        RequestStatus.rejected: _("⛔ Rejected"),
    }.get(RequestStatus(status) if status in set(RequestStatus) else status, str(status))


def _clip(text: str, limit: int = COMMENT_PREVIEW) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def answer_lines(service: Any, answers: dict[str, Any], locale: str) -> list[str]:
    lines = []
    for spec in sc.form_of(service):
        value = answers.get(spec.key)
        if value in (None, ""):
            shown = "—"
        elif spec.kind == "file":
            shown = "📎 " + esc(value.get("name") if isinstance(value, dict) else "file")
        elif spec.kind == "choice":
            shown = esc(spec.choice_title(str(value), locale))
        elif spec.kind == "date":
            parsed = sc.parse_date(str(value))
            shown = fmt_date(parsed, locale) if parsed else esc(value)
        else:
            shown = esc(_clip(str(value)))
        lines.append(f"<b>{esc(spec.title(locale))}</b>: {shown}")
    return lines


def attachments(request: ServiceRequest, locale: str) -> list[tuple[str, str]]:
    """(label, file_id) of every file of a request: form answers, then answers to questions."""
    files = []
    for spec in sc.form_of(request.service):
        value = request.answers.get(spec.key)
        if spec.kind == "file" and isinstance(value, dict) and value.get("file_id"):
            files.append((f"{spec.title(locale)}: {value.get('name') or ''}", value["file_id"]))
    for event in request.events:
        if event.file_id:
            files.append((event.file_name or _("Attached file"), event.file_id))
    return files


def last_comment(request: ServiceRequest, status: RequestStatus) -> str | None:
    for event in reversed(request.events):
        if event.status == status:
            return event.comment
    return None


def request_tab_text(
    request: ServiceRequest, tab: int, locale: str, settings: Settings, clock: Clock
) -> str:
    tz = settings.tz
    service = request.service
    head = _("<b>Request №{number}</b>. {service}").format(
        number=esc(request.number), service=esc(service.name(locale))
    )
    lines = [head, _("Status: {status}").format(status=status_label(request.status)), ""]
    if tab == 1:
        lines.append(_("<b>Details of the request</b>"))
        lines.extend(
            answer_lines(service, request.answers, locale)
            or [_("The service asks for no details.")]
        )
    elif tab == 2:
        lines.extend(document_lines(request, locale, settings, clock))
    elif tab == 3:
        lines.append(_("<b>History</b>"))
        events = request.events
        if len(events) > HISTORY_LIMIT:
            lines.append(_("Earlier changes not shown: {n}").format(n=len(events) - HISTORY_LIMIT))
            events = events[-HISTORY_LIMIT:]
        for event in events:
            who = event.actor.full_name if event.actor is not None else "—"
            lines.append(
                f"• {fmt_datetime(event.created_at, locale, tz, 'short')} — "
                f"{status_label(event.status)} — {esc(who)}"
            )
            if event.comment:
                lines.append(f"  <i>{esc(_clip(event.comment, 200))}</i>")
            if event.file_name:
                lines.append(f"  📎 {esc(event.file_name)}")
    else:
        lines.append(_("Category: {category}").format(category=esc(service.category.name(locale))))
        lines.append(
            _("Submitted: {time}").format(
                time=fmt_datetime(request.submitted_at, locale, tz, "short")
            )
        )
        lines.append(
            _("Last change: {time}").format(
                time=fmt_datetime(request.updated_at, locale, tz, "short")
            )
        )
        status = request.status
        if status == RequestStatus.needs_info:
            question = last_comment(request, RequestStatus.needs_info) or ""
            lines += [
                "",
                _("❓ The service centre asks: {question}").format(question=esc(question)),
            ]
        elif status == RequestStatus.rejected:
            reason = last_comment(request, RequestStatus.rejected) or ""
            lines += ["", _("Reason: {reason}").format(reason=esc(reason))]
        elif status == RequestStatus.ready:
            lines += ["", _("Your document is ready: collect it at the service centre.")]
        elif status == RequestStatus.issued and request.document is not None:
            lines += ["", _('The document is issued: see the "Document" tab.')]
    return "\n".join(lines)


def document_lines(
    request: ServiceRequest, locale: str, settings: Settings, clock: Clock
) -> list[str]:
    document: IssuedDocument | None = request.document
    if document is None:
        if request.status == RequestStatus.issued:
            return [_("The paper document was handed over at the service centre.")]
        return [_("No document has been issued yet.")]
    today = clock.now().astimezone(settings.tz).date()
    state = sc.document_state(document, today)
    lines = [
        _("<b>Issued document</b>"),
        _("Number: {number}").format(number=esc(document.number)),
        _("Date of issue: {date}").format(date=fmt_date(document.issue_date, locale)),
    ]
    if document.valid_until is not None:
        lines.append(_("Valid until: {date}").format(date=fmt_date(document.valid_until, locale)))
    lines.append(_("State: {state}").format(state=document_state_label(state)))
    if document.revoked_at is not None:
        lines.append(
            _("Revoked on {date}: {reason}").format(
                date=fmt_date(document.revoked_at.astimezone(settings.tz).date(), locale),
                reason=esc(document.revoke_reason or ""),
            )
        )
    lines.append(_("The QR code on the document leads to its verification in this bot."))
    return lines


def tab_row(make: Any, current: int) -> list[InlineKeyboardButton]:
    names = (_("Request"), _("Details"), _("Document"), _("History"))
    return [make(("• " if i == current else "") + name, i) for i, name in enumerate(names)]


# ---- screens -----------------------------------------------------------------------------------


def _centre_screen(active: int) -> tuple[str, InlineKeyboardMarkup]:
    text = "\n".join(
        [
            _("🏛 <b>Student Service Centre</b>"),
            "",
            _("<b>Information support</b>: the services, what they need and how long they take."),
            _("<b>My requests</b>: file a request and follow it until the document is issued."),
            "",
            _("Active requests: {n}").format(n=active),
        ]
    )
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [sc_button(_("ℹ️ Information support"), "info")],
            [sc_button(_("📝 My requests"), "mine"), sc_button(_("➕ New request"), "info", p=1)],
            [back_button()],
        ]
    )
    return text, keyboard


async def open_centre(event: Message | CallbackQuery, viewer: Viewer, db: Database) -> None:
    active = 0
    if viewer.student_id is not None:
        async with db.read() as session:
            active = await sc.active_request_count(session, viewer.student_id)
    text, keyboard = _centre_screen(active)
    await show(event, text, keyboard)


async def on_nav(callback: CallbackQuery, state: FSMContext, viewer: Viewer, db: Database) -> None:
    """The "Service centre" button of the home screen."""
    await state.clear()
    await callback.answer()
    await open_centre(callback, viewer, db)


async def _categories(callback: CallbackQuery, db: Database, locale: str, filing: bool) -> None:
    async with db.read() as session:
        categories = await sc.list_categories(session)
    title = _("➕ <b>New request</b>") if filing else _("ℹ️ <b>Information support</b>")
    lines = [title, "", _("Choose a category of services:")]
    if not categories:
        lines = [title, "", _("The catalogue of services is empty for now.")]
    buttons = [
        [sc_button(f"{category.name(locale)} ({count})", "cat", id=category.id)]
        for category, count in categories
    ]
    buttons.append([sc_button(_("« Back"), "home")])
    await show(callback, "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=buttons))


async def _category(callback: CallbackQuery, db: Database, locale: str, category_id: int) -> None:
    async with db.read() as session:
        category = await sc.get_category(session, category_id)
        services = await sc.list_services(session, category_id)
    lines = [f"<b>{esc(category.name(locale))}</b>", "", _("Choose a service:")]
    buttons = [
        [sc_button(("📄 " if s.electronic else "🗂 ") + s.name(locale), "svc", id=s.id)]
        for s in services
    ]
    buttons.append([sc_button(_("« Back"), "info")])
    await show(callback, "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=buttons))


def service_card(service: Any, locale: str) -> str:
    yes_no = _("yes") if service.electronic else _("no, on paper at the service centre")
    lines = [
        f"<b>{esc(service.name(locale))}</b>",
        f"<i>{esc(service.category.name(locale))}</i>",
        "",
        esc(service.text("description", locale)),
        "",
        _("<b>Documents needed:</b> {documents}").format(
            documents=esc(service.text("documents", locale) or "—")
        ),
        _("<b>Processing time, working days:</b> {n}").format(n=service.duration_days),
        _("<b>Issued in electronic form:</b> {answer}").format(answer=yes_no),
    ]
    specs = sc.form_of(service)
    if specs:
        lines += ["", _("<b>You will be asked for:</b>")]
        lines += [
            f"• {esc(spec.title(locale))}" + ("" if spec.required else _(" (optional)"))
            for spec in specs
        ]
    return "\n".join(lines)


async def _service(
    callback: CallbackQuery, db: Database, viewer: Viewer, locale: str, service_id: int
) -> None:
    async with db.read() as session:
        service = await sc.get_service(session, service_id)
    buttons = []
    if viewer.student_id is not None:
        buttons.append([sc_button(_("📝 Apply"), "apply", id=service.id)])
    buttons.append([sc_button(_("« Back"), "cat", id=service.category_id)])
    await show(
        callback, service_card(service, locale), InlineKeyboardMarkup(inline_keyboard=buttons)
    )


async def _mine(callback: CallbackQuery, db: Database, viewer: Viewer, locale: str, page: int):
    if viewer.student_id is None:
        raise DomainError("sc_students_only", lambda: _("Requests are filed by students."))
    async with db.read() as session:
        requests, total = await sc.student_requests(
            session, viewer.student_id, max(page, 0) * PAGE_SIZE, PAGE_SIZE
        )
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if page >= pages and total:
        page = pages - 1
        async with db.read() as session:
            requests, total = await sc.student_requests(
                session, viewer.student_id, page * PAGE_SIZE, PAGE_SIZE
            )
    lines = [_("📝 <b>My requests</b>"), ""]
    if not requests:
        lines.append(_("You have no requests yet. Choose a service to file one."))
    buttons = [
        [
            sc_button(
                f"№{r.number} · {r.service.name(locale)} · {status_label(r.status)}",
                "req",
                id=r.id,
            )
        ]
        for r in requests
    ]
    pager = pager_buttons(lambda p: ScCb(a="mine", id=0, p=p).pack(), page, pages)
    if pager:
        buttons.append(pager)
    buttons.append([sc_button(_("➕ New request"), "info", p=1)])
    buttons.append([sc_button(_("« Back"), "home")])
    await show(callback, "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=buttons))


async def show_request(
    event: Message | CallbackQuery,
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
    locale: str,
    request_id: int,
    tab: int = 0,
    notice: str | None = None,
) -> None:
    tab = tab if 0 <= tab < len(TABS) else 0
    async with db.read() as session:
        request = await sc.student_request(session, viewer.student_id, request_id)
    text = request_tab_text(request, tab, locale, settings, clock)
    if notice:
        text = notice + "\n\n" + text
    rows = [tab_row(lambda t, i: sc_button(t, "req", id=request.id, p=i), tab)]
    if request.status == RequestStatus.needs_info:
        rows.append([sc_button(_("✏️ Answer and resubmit"), "ans", id=request.id)])
    if request.document is not None:
        rows.append([sc_button(_("⬇️ Download the document"), "dl", id=request.id)])
    if tab == 1:
        for index, (label, _file_id) in enumerate(attachments(request, locale)):
            rows.append([sc_button("📎 " + _clip(label, 40), "file", id=request.id, p=index)])
    rows.append([sc_button(_("« My requests"), "mine")])
    await show(event, text, InlineKeyboardMarkup(inline_keyboard=rows))


# ---- filing a request --------------------------------------------------------------------------


def _field_prompt(service_name: str, spec: sc.FieldSpec, index: int, total: int, locale: str):
    hint = {
        "text": _("Type the answer (at most {n} characters).").format(n=spec.max_length),
        "date": _("Type a date as DD.MM.YYYY, for example 01.09.2026."),
        "choice": _("Choose one of the options:"),
        "file": _("Send the file as a document or a photo (up to 20 MB)."),
    }[spec.kind]
    text = "\n".join(
        [
            _("<b>{service}</b> · step {step} of {total}").format(
                service=esc(service_name), step=index + 1, total=total
            ),
            "",
            f"<b>{esc(spec.title(locale))}</b>" + ("" if spec.required else _(" (optional)")),
            hint,
        ]
    )
    rows = []
    if spec.kind == "choice":
        rows += [
            [sc_button(sc.localized(choice.get("label") or {}, locale) or "?", "ch", p=i)]
            for i, choice in enumerate(spec.choices)
        ]
    if not spec.required:
        rows.append([sc_button(_("Skip »"), "skip")])
    rows.append([sc_button(_("✖️ Cancel"), "cancel")])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def _next_step(
    event: Message | CallbackQuery, state: FSMContext, db: Database, locale: str
) -> None:
    """Ask the next unanswered field, or show the preview when the form is complete."""
    data = await state.get_data()
    async with db.read() as session:
        service = await sc.get_service(session, int(data["svc"]))
    specs = sc.form_of(service)
    index = int(data.get("i", 0))
    if index < len(specs):
        await state.set_state(NewRequest.filling)
        text, keyboard = _field_prompt(
            service.name(locale), specs[index], index, len(specs), locale
        )
        await show(event, text, keyboard)
        return
    await state.set_state(NewRequest.preview)
    lines = [
        _("<b>Check your request</b>"),
        "",
        _("Service: {service}").format(service=esc(service.name(locale))),
        "",
        *answer_lines(service, data.get("ans") or {}, locale),
    ]
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [sc_button(_("✅ Submit"), "submit")],
            [sc_button(_("✏️ Fill in again"), "apply", id=service.id)],
            [sc_button(_("✖️ Cancel"), "cancel")],
        ]
    )
    await show(event, "\n".join(lines), keyboard)


async def _current_spec(state: FSMContext, db: Database) -> tuple[sc.FieldSpec, dict] | None:
    if await state.get_state() != NewRequest.filling.state:
        return None
    data = await state.get_data()
    if not isinstance(data.get("svc"), int):
        return None  # the form outlived its data (a restart, an expired storage key)
    async with db.read() as session:
        service = await sc.get_service(session, int(data["svc"]))
    specs = sc.form_of(service)
    index = int(data.get("i", 0))
    if index >= len(specs):
        return None
    return specs[index], data


async def _store_answer(state: FSMContext, data: dict, key: str, value: Any) -> None:
    answers = dict(data.get("ans") or {})
    if value is None:
        answers.pop(key, None)
    else:
        answers[key] = value
    await state.update_data(ans=answers, i=int(data.get("i", 0)) + 1)


async def on_field_text(message: Message, state: FSMContext, db: Database, viewer: Viewer) -> None:
    """A typed answer to the current field of the request form."""
    current = await _current_spec(state, db)
    if current is None:
        await state.clear()
        await message.answer(_("The form is closed. Open the service centre to start again."))
        return
    spec, data = current
    locale = get_i18n().current_locale
    if spec.kind == "choice":
        await message.answer(_("Please choose one of the options with the buttons."))
        return
    if spec.kind == "file":
        await message.answer(_("Please send a file (a document or a photo)."))
        return
    try:
        value = sc.check_text_answer(spec, message.text or "")
    except DomainError as exc:
        await message.answer(exc.user_message() or "")
        return
    await _store_answer(state, data, spec.key, value)
    await _next_step(message, state, db, locale)


async def on_field_file(message: Message, state: FSMContext, db: Database, viewer: Viewer) -> None:
    """A document or photo sent while the form is open."""
    current = await _current_spec(state, db)
    if current is None:
        await state.clear()
        await message.answer(_("The form is closed. Open the service centre to start again."))
        return
    spec, data = current
    if spec.kind != "file":
        await message.answer(_("Please type the answer as text."))
        return
    file = message.document or (message.photo[-1] if message.photo else None)
    if file is None:
        await message.answer(_("Please send a file (a document or a photo)."))
        return
    refusal = attachment_refusal_text(message)
    if refusal is not None:
        await message.answer(refusal)
        return
    name = message.document.file_name if message.document else None
    value = {"file_id": file.file_id, "name": (name or _("photo.jpg"))[:255]}
    await _store_answer(state, data, spec.key, value)
    await _next_step(message, state, db, get_i18n().current_locale)


async def on_other_content(message: Message) -> None:
    """A sticker, voice or anything else while the form waits for an answer."""
    await message.answer(
        _("This kind of message cannot be used here. Please type or send a file.")
    )


# ---- resubmitting after "needs information" ----------------------------------------------------


async def on_resubmit_text(message: Message, state: FSMContext) -> None:
    """The student's answer to the service centre's question (text or a file with a caption)."""
    data = await state.get_data()
    if not isinstance(data.get("req"), int):
        await state.clear()
        await message.answer(_("The form is closed. Open the service centre to start again."))
        return
    file = message.document
    if message.photo:
        file = message.photo[-1]
    comment = (message.text or message.caption or "").strip()
    if file is None and not comment:
        await message.answer(_("Please type your answer or send a file."))
        return
    if len(comment) > sc.COMMENT_LIMIT:
        await message.answer(
            _("That is too long: at most {n} characters.").format(n=sc.COMMENT_LIMIT)
        )
        return
    file_id = file_name = None
    if file is not None:
        refusal = attachment_refusal_text(message)
        if refusal is not None:
            await message.answer(refusal)
            return
        file_id = file.file_id
        file_name = (message.document.file_name if message.document else None) or _("photo.jpg")
    await state.update_data(comment=comment, file_id=file_id, file_name=file_name)
    await state.set_state(Resubmit.confirm)
    lines = [_("<b>Your answer</b>"), "", esc(comment) if comment else "—"]
    if file_name:
        lines.append(f"📎 {esc(file_name)}")
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [sc_button(_("✅ Resubmit the request"), "resub", id=int(data["req"]))],
            [sc_button(_("✏️ Write again"), "ans", id=int(data["req"]))],
            [sc_button(_("✖️ Cancel"), "req", id=int(data["req"]))],
        ]
    )
    await message.answer("\n".join(lines), reply_markup=keyboard)


async def on_resubmit_other(message: Message) -> None:
    """Neither text nor a file while an answer is expected."""
    await message.answer(_("Please type your answer or send a file."))


# ---- the callback dispatcher -------------------------------------------------------------------


async def on_action(
    callback: CallbackQuery,
    callback_data: ScCb,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
    bot: Bot,
    i18n: I18n,
) -> None:
    """Every button of the student's service centre screens."""
    a, item, p = callback_data.a, callback_data.id, callback_data.p
    locale = i18n.current_locale
    if a in ("home", "info", "cat", "svc", "mine", "req"):
        # Navigating away abandons a half-filled form or answer.
        await state.clear()
    if a == "home":
        await callback.answer()
        await open_centre(callback, viewer, db)
    elif a == "info":
        await callback.answer()
        await _categories(callback, db, locale, filing=p == 1)
    elif a == "cat":
        await callback.answer()
        await _category(callback, db, locale, item)
    elif a == "svc":
        await callback.answer()
        await _service(callback, db, viewer, locale, item)
    elif a == "mine":
        await callback.answer()
        await _mine(callback, db, viewer, locale, p)
    elif a == "req":
        await callback.answer()
        await show_request(callback, db, viewer, settings, clock, locale, item, p)
    elif a == "apply":
        await _apply(callback, state, db, viewer, locale, item)
    elif a in ("ch", "skip"):
        await _choice_or_skip(callback, state, db, locale, a, p)
    elif a == "submit":
        await _submit(callback, state, db, viewer, settings, clock, locale)
    elif a == "cancel":
        await state.clear()
        await callback.answer(_("Cancelled."))
        await open_centre(callback, viewer, db)
    elif a == "dl":
        await _download(callback, db, viewer, bot, i18n, settings, item)
    elif a == "file":
        await _send_attachment(callback, db, viewer, bot, locale, item, p)
    elif a == "ans":
        await _start_answer(callback, state, db, viewer, item)
    elif a == "resub":
        await _resubmit(callback, state, db, viewer, settings, clock, locale, item)
    else:
        await callback.answer(_("This button is no longer available."))


async def _apply(
    callback: CallbackQuery,
    state: FSMContext,
    db: Database,
    viewer: Viewer,
    locale: str,
    service_id: int,
) -> None:
    if viewer.student_id is None:
        raise DomainError("sc_students_only", lambda: _("Requests are filed by students."))
    async with db.read() as session:
        await sc.get_service(session, service_id)
    await callback.answer()
    await state.clear()
    await state.update_data(svc=service_id, i=0, ans={})
    await _next_step(callback, state, db, locale)


async def _choice_or_skip(
    callback: CallbackQuery, state: FSMContext, db: Database, locale: str, a: str, p: int
) -> None:
    current = await _current_spec(state, db)
    if current is None:
        await callback.answer(_("This button is no longer available."))
        return
    spec, data = current
    if a == "skip":
        if spec.required:
            await callback.answer(_("This field is required."), show_alert=True)
            return
        value = None
    else:
        if spec.kind != "choice" or not 0 <= p < len(spec.choices):
            await callback.answer(_("This button is no longer available."))
            return
        value = spec.choices[p].get("value")
    await callback.answer()
    await _store_answer(state, data, spec.key, value)
    await _next_step(callback, state, db, locale)


async def _submit(
    callback: CallbackQuery,
    state: FSMContext,
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
    locale: str,
) -> None:
    if await state.get_state() != NewRequest.preview.state or viewer.student_id is None:
        await callback.answer(
            _("Nothing to submit: the request was already sent or cancelled."), show_alert=True
        )
        return
    data = await state.get_data()
    # Cleared first: a second tap on "Submit" finds nothing to send.
    await state.clear()
    if not isinstance(data.get("svc"), int):
        await callback.answer(
            _("Nothing to submit: the request was already sent or cancelled."), show_alert=True
        )
        return
    async with db.write() as session:
        request = await sc.create_request(
            session,
            student_id=viewer.student_id,
            actor_id=viewer.user_id,
            service_id=int(data["svc"]),
            answers=data.get("ans") or {},
            now=clock.now(),
        )
        request_id, number = request.id, request.number
    await callback.answer(_("The request has been submitted."))
    notice = _(
        "✅ Request №{number} has been submitted. You will be told of every change."
    ).format(number=esc(number))
    await show_request(callback, db, viewer, settings, clock, locale, request_id, 0, notice)


async def _download(
    callback: CallbackQuery,
    db: Database,
    viewer: Viewer,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
    request_id: int,
) -> None:
    locale = i18n.current_locale
    async with db.read() as session:
        request = await sc.student_request(session, viewer.student_id, request_id)
    document = request.document
    if document is None:
        await callback.answer(_("No document has been issued yet."), show_alert=True)
        return
    await callback.answer()
    caption = _("{service} №{number}").format(
        service=esc(request.service.name(locale)), number=esc(document.number)
    )
    await deliver_document(bot, db, i18n, settings, callback.from_user.id, document, caption)


async def _send_attachment(
    callback: CallbackQuery,
    db: Database,
    viewer: Viewer,
    bot: Bot,
    locale: str,
    request_id: int,
    index: int,
) -> None:
    async with db.read() as session:
        request = await sc.student_request(session, viewer.student_id, request_id)
    files = attachments(request, locale)
    if not 0 <= index < len(files):
        await callback.answer(_("This button is no longer available."))
        return
    await callback.answer()
    label, file_id = files[index]
    await bot.send_document(callback.from_user.id, file_id, caption=esc(label))


async def _start_answer(
    callback: CallbackQuery, state: FSMContext, db: Database, viewer: Viewer, request_id: int
) -> None:
    async with db.read() as session:
        request = await sc.student_request(session, viewer.student_id, request_id)
    if request.status != RequestStatus.needs_info:
        await callback.answer(
            _("The request does not wait for your answer any more."), show_alert=True
        )
        return
    await callback.answer()
    await state.clear()
    await state.set_state(Resubmit.answer)
    await state.update_data(req=request.id)
    question = last_comment(request, RequestStatus.needs_info) or ""
    text = "\n".join(
        [
            _("❓ The service centre asks: {question}").format(question=esc(question)),
            "",
            _("Type your answer, or send a file (with a caption if you like)."),
        ]
    )
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[sc_button(_("✖️ Cancel"), "req", id=request.id)]]
    )
    await show(callback, text, keyboard)


async def _resubmit(
    callback: CallbackQuery,
    state: FSMContext,
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
    locale: str,
    request_id: int,
) -> None:
    data = await state.get_data()
    if await state.get_state() != Resubmit.confirm.state or int(data.get("req", 0)) != request_id:
        await callback.answer(
            _("Nothing to submit: the request was already sent or cancelled."), show_alert=True
        )
        return
    await state.clear()
    if viewer.student_id is None:
        raise DomainError("sc_students_only", lambda: _("Requests are filed by students."))
    async with db.write() as session:
        await sc.resubmit(
            session,
            student_id=viewer.student_id,
            actor_id=viewer.user_id,
            request_id=request_id,
            comment=data.get("comment") or "",
            file_id=data.get("file_id"),
            file_name=data.get("file_name"),
            now=clock.now(),
        )
    await callback.answer(_("The request has been sent back to the service centre."))
    notice = _("✅ The request has been sent back to the service centre.")
    await show_request(callback, db, viewer, settings, clock, locale, request_id, 0, notice)


# ---- notifications -----------------------------------------------------------------------------


def _open_button(request_id: int) -> list[list[InlineKeyboardButton]]:
    return [[sc_button(_("Open the request"), "req", id=int(request_id))]]


@renderer("services.status_changed")
def render_status_changed(params: dict[str, Any], locale: str) -> Rendered:
    lines = [
        _("🏛 Request №{number}. {service}").format(
            number=esc(params.get("number")),
            service=esc(sc.localized(params.get("service") or {}, locale)),
        ),
        _("New status: {status}").format(status=status_label(params.get("status", ""))),
    ]
    if params.get("comment"):
        lines.append(_("Comment: {comment}").format(comment=esc(_clip(params["comment"]))))
    return Rendered(text="\n".join(lines), buttons=_open_button(params["request_id"]))


@renderer("services.document_verified")
def render_document_verified(params: dict[str, Any], locale: str) -> Rendered:
    text = _(
        "🔎 Your document {service} №{number} has just been checked through its QR code."
    ).format(
        service=esc(sc.localized(params.get("service") or {}, locale)),
        number=esc(params.get("number")),
    )
    return Rendered(text=text, buttons=_open_button(params["request_id"]))


@renderer("services.document_revoked")
def render_document_revoked(params: dict[str, Any], locale: str) -> Rendered:
    text = _("⛔ Your document №{number} has been revoked. Reason: {reason}").format(
        number=esc(params.get("number")), reason=esc(_clip(params.get("reason") or ""))
    )
    return Rendered(text=text, buttons=_open_button(params["request_id"]))


# ---- the module --------------------------------------------------------------------------------


async def home_lines(ctx: HomeContext) -> list[str]:
    if ctx.viewer.student_id is None:
        return []
    active = await sc.active_request_count(ctx.session, ctx.viewer.student_id)
    if not active:
        return []
    return [_("🏛 Active service centre requests: {n}").format(n=active)]


def get_router() -> Router:
    router = Router(name="service_centre")
    router.callback_query.register(on_nav, NavCb.filter(F.to == STUDENT_NAV))
    router.callback_query.register(on_action, ScCb.filter())
    filling = StateFilter(NewRequest.filling)
    router.message.register(on_field_text, filling, F.text, ~F.text.startswith("/"))
    router.message.register(on_field_file, filling, F.document | F.photo)
    router.message.register(on_other_content, filling, ~F.text)
    answering = StateFilter(Resubmit.answer)
    router.message.register(
        on_resubmit_text, answering, (F.text & ~F.text.startswith("/")) | F.document | F.photo
    )
    router.message.register(on_resubmit_other, answering, ~F.text)
    return router


MODULE = Module(
    name="service_centre",
    router=get_router,
    menu=(
        MenuItem(
            to=STUDENT_NAV,
            label=lambda: _("🏛 Service centre"),
            roles=frozenset({Role.student}),
            order=700,
        ),
    ),
    home_lines=home_lines,
    public_router=verification.get_public_router,
)
