"""The service centre's queue for staff: requests by status and service; take, ask for
information, reject, mark ready, hand over, issue (the bot generates a certificate of study,
staff attach any other document) and revoke.

Every press is checked twice: the router lets only processing roles through, and the service
re-checks the role and the request's status inside the write unit.
"""

from __future__ import annotations

import math
from dataclasses import replace

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.downloads import attachment_refusal_text
from bot.filters import HasSubRole, SignedIn
from bot.handlers.service_centre import (
    answer_lines,
    attachments,
    request_tab_text,
    status_label,
)
from bot.handlers.verification import certificate_pdf, deliver_document
from bot.i18n import fmt_datetime
from bot.keyboards.common import NavCb, back_button, pager_buttons
from bot.keyboards.exports import queue_export_button
from bot.keyboards.service_centre import STAFF_NAV, SqCb, sq_button
from bot.modules import HomeContext, MenuItem, Module
from bot.services import service_centre as sc
from bot.services.auth import Viewer
from bot.services.errors import DomainError
from bot.ui import esc, show
from db.models.services import DocumentKind, RequestStatus
from db.session import Database

PAGE_SIZE = 8
STATUS_CODES = {status.value: status for status in RequestStatus}


class StaffInput(StatesGroup):
    text = State()
    file = State()


def _status_of(code: str) -> RequestStatus:
    return STATUS_CODES.get(code, RequestStatus.submitted)


# ---- the queue ---------------------------------------------------------------------------------


async def open_queue(event: Message | CallbackQuery, db: Database, service_id: int) -> None:
    locale = get_i18n().current_locale
    async with db.read() as session:
        counts = await sc.queue_counts(session, service_id or None)
        service_name = _("all services")
        if service_id:
            service = await sc.get_service(session, service_id, active=False)
            service_name = service.name(locale)
    lines = [
        _("📥 <b>Requests queue</b>"),
        _("Service: {service}").format(service=esc(service_name)),
        "",
        _("Choose a status:"),
    ]
    buttons = [
        sq_button(
            f"{status_label(status)} ({counts[status]})", "list", s=status.value, v=service_id
        )
        for status in RequestStatus
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([sq_button(_("🔎 Filter by service"), "svcs", v=service_id)])
    rows.append([queue_export_button(service_id)])
    rows.append([back_button()])
    await show(event, "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows))


async def _services_filter(callback: CallbackQuery, db: Database) -> None:
    locale = get_i18n().current_locale
    async with db.read() as session:
        services = await sc.all_services(session)
    rows = [[sq_button(_("All services"), "q", v=0)]]
    rows += [[sq_button(service.name(locale), "q", v=service.id)] for service in services]
    rows.append([sq_button(_("« Back"), "q")])
    await show(callback, _("Choose a service:"), InlineKeyboardMarkup(inline_keyboard=rows))


async def _list(
    callback: CallbackQuery, db: Database, status: RequestStatus, service_id: int, page: int
) -> None:
    locale = get_i18n().current_locale
    page = max(page, 0)
    async with db.read() as session:
        requests, total = await sc.queue(
            session, status, service_id or None, page * PAGE_SIZE, PAGE_SIZE
        )
    pages = max(1, math.ceil(total / PAGE_SIZE))
    lines = [
        _("📥 <b>Requests queue</b>"),
        _("Status: {status}").format(status=status_label(status)),
        _("Requests: {n}").format(n=total),
    ]
    if not requests:
        lines += ["", _("No requests here.")]
    rows = []
    for request in requests:
        user = request.student.user
        who = f"{user.last_name} {user.first_name[:1]}.".strip()
        rows.append(
            [
                sq_button(
                    f"№{request.number} · {who} · {request.service.name(locale)}",
                    "open",
                    id=request.id,
                )
            ]
        )
    pager = pager_buttons(
        lambda p: SqCb(a="list", id=0, s=status.value, v=service_id, p=p).pack(), page, pages
    )
    if pager:
        rows.append(pager)
    rows.append([sq_button(_("« Back"), "q", v=service_id)])
    await show(callback, "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows))


# ---- one request -------------------------------------------------------------------------------


async def show_staff_request(
    event: Message | CallbackQuery,
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
    request_id: int,
    tab: int = 0,
    notice: str | None = None,
) -> None:
    locale = get_i18n().current_locale
    async with db.read() as session:
        request = await sc.staff_request(session, viewer.role, request_id)
    student = request.student
    group = student.group
    if tab == 1:
        text = request_tab_text(request, 3, locale, settings, clock)
    elif tab == 2:
        text = request_tab_text(request, 2, locale, settings, clock)
    else:
        assignee = request.assignee.full_name if request.assignee is not None else "—"
        lines = [
            _("<b>Request №{number}</b>. {service}").format(
                number=esc(request.number), service=esc(request.service.name(locale))
            ),
            _("Status: {status}").format(status=status_label(request.status)),
            _("Student: {name}, group {group}, ID {student_no}").format(
                name=esc(student.user.full_name),
                group=esc(group.code if group is not None else "—"),
                student_no=esc(student.student_no),
            ),
            _("Submitted: {time}").format(
                time=fmt_datetime(request.submitted_at, locale, settings.tz, "short")
            ),
            _("Assigned to: {name}").format(name=esc(assignee)),
            "",
            *answer_lines(request.service, request.answers, locale),
        ]
        if request.events and request.events[-1].comment:
            last = request.events[-1]
            lines += [
                "",
                _("Last comment ({status}): {comment}").format(
                    status=status_label(last.status), comment=esc(last.comment[:300])
                ),
            ]
        text = "\n".join(lines)
    if notice:
        text = notice + "\n\n" + text

    rid = request.id
    names = (_("Request"), _("History"), _("Document"))
    rows = [
        [
            sq_button(("• " if i == tab else "") + name, "open", id=rid, p=i)
            for i, name in enumerate(names)
        ]
    ]
    status = request.status
    actions: list[InlineKeyboardButton] = []
    if status == RequestStatus.submitted:
        actions.append(sq_button(_("▶️ Take"), "take", id=rid))
    if status in sc.OPEN_FOR_STAFF:
        actions.append(sq_button(_("❓ Ask for information"), "ask", id=rid))
        if request.service.document_kind == DocumentKind.certificate_of_study:
            actions.append(sq_button(_("🧾 Generate the certificate"), "gen", id=rid))
        elif request.service.electronic:
            actions.append(sq_button(_("📎 Attach the document"), "attach", id=rid))
        else:
            actions.append(sq_button(_("📦 Ready for pickup"), "ready", id=rid))
    if status == RequestStatus.ready:
        actions.append(sq_button(_("✅ Handed over"), "handed", id=rid))
    if status in (*sc.OPEN_FOR_STAFF, RequestStatus.needs_info, RequestStatus.ready):
        actions.append(sq_button(_("⛔ Reject"), "reject", id=rid))
    document = request.document
    if document is not None:
        actions.append(sq_button(_("⬇️ Download"), "dl", id=rid))
        if document.revoked_at is None:
            actions.append(sq_button(_("🚫 Revoke"), "revoke", id=rid))
    rows += [actions[i : i + 2] for i in range(0, len(actions), 2)]
    for index, (label, _file_id) in enumerate(attachments(request, locale)):
        rows.append([sq_button("📎 " + label[:40], "file", id=rid, p=index)])
    rows.append([sq_button(_("« Queue"), "list", s=status.value)])
    await show(event, text, InlineKeyboardMarkup(inline_keyboard=rows))


def _input_keyboard(request_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[sq_button(_("✖️ Cancel"), "open", id=request_id)]]
    )


PROMPTS = {
    "ask": lambda: _("Type the question for the student: what information is missing?"),
    "reject": lambda: _("Type the reason for rejecting the request (the student will see it)."),
    "revoke": lambda: _("Type the reason for revoking the document."),
}


async def _prompt_text(
    callback: CallbackQuery, state: FSMContext, db: Database, viewer: Viewer, rid: int, act: str
) -> None:
    async with db.read() as session:
        await sc.staff_request(session, viewer.role, rid)
    await callback.answer()
    await state.clear()
    await state.set_state(StaffInput.text)
    await state.update_data(req=rid, act=act)
    await show(callback, PROMPTS[act](), _input_keyboard(rid))


async def _generate(
    callback: CallbackQuery,
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
    bot: Bot,
    i18n: I18n,
    rid: int,
) -> None:
    """Make the certificate from the student's record and issue it."""
    async with db.read() as session:
        draft = await sc.draft_document(
            session,
            role=viewer.role,
            request_id=rid,
            now=clock.now(),
            tz=settings.tz,
            default_locale=settings.default_locale,
        )
    pdf = await certificate_pdf(db, bot, i18n, settings, draft, viewer.user_id)
    async with db.write() as session:
        await sc.issue_document(
            session,
            role=viewer.role,
            actor_id=viewer.user_id,
            draft=replace(draft, pdf=pdf),
            now=clock.now(),
        )
    notice = _("✅ The certificate №{number} has been issued.").format(number=esc(draft.number))
    await callback.answer()
    await show_staff_request(callback, db, viewer, settings, clock, rid, 0, notice)


async def on_action(
    callback: CallbackQuery,
    callback_data: SqCb,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
    bot: Bot,
    i18n: I18n,
) -> None:
    """Every button of the staff's queue screens."""
    a, rid = callback_data.a, callback_data.id
    if a in ("q", "svcs", "list", "open"):
        await state.clear()
    if a == "q":
        await callback.answer()
        await open_queue(callback, db, callback_data.v)
    elif a == "svcs":
        await callback.answer()
        await _services_filter(callback, db)
    elif a == "list":
        await callback.answer()
        await _list(callback, db, _status_of(callback_data.s), callback_data.v, callback_data.p)
    elif a == "open":
        await callback.answer()
        await show_staff_request(callback, db, viewer, settings, clock, rid, callback_data.p)
    elif a == "take":
        async with db.write() as session:
            await sc.take(
                session, role=viewer.role, actor_id=viewer.user_id, request_id=rid, now=clock.now()
            )
        await callback.answer(_("The request is yours now."))
        await show_staff_request(callback, db, viewer, settings, clock, rid)
    elif a in PROMPTS:
        await _prompt_text(callback, state, db, viewer, rid, a)
    elif a == "ready":
        async with db.write() as session:
            await sc.mark_ready(
                session,
                role=viewer.role,
                actor_id=viewer.user_id,
                request_id=rid,
                note=None,
                now=clock.now(),
            )
        await callback.answer(_("The student has been told the document is ready."))
        await show_staff_request(callback, db, viewer, settings, clock, rid)
    elif a == "handed":
        async with db.write() as session:
            await sc.hand_over(
                session, role=viewer.role, actor_id=viewer.user_id, request_id=rid, now=clock.now()
            )
        await callback.answer(_("Marked as issued."))
        await show_staff_request(callback, db, viewer, settings, clock, rid)
    elif a == "gen":
        async with db.read() as session:
            request = await sc.staff_request(session, viewer.role, rid)
        if request.status not in sc.OPEN_FOR_STAFF:
            raise sc.wrong_status()
        await callback.answer()
        text = _(
            "Generate the certificate of study for {name} from the student's record and issue "
            "it? The student will be able to download it at once."
        ).format(name=esc(request.student.user.full_name))
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [sq_button(_("✅ Generate and issue"), "gen2", id=rid)],
                [sq_button(_("« Back"), "open", id=rid)],
            ]
        )
        await show(callback, text, keyboard)
    elif a == "gen2":
        await _generate(callback, db, viewer, settings, clock, bot, i18n, rid)
    elif a == "attach":
        async with db.read() as session:
            request = await sc.staff_request(session, viewer.role, rid)
        if request.status not in sc.OPEN_FOR_STAFF:
            raise sc.wrong_status()
        await callback.answer()
        await state.clear()
        await state.set_state(StaffInput.file)
        await state.update_data(req=rid)
        await show(
            callback,
            _("Send the document as a file (PDF or another format, up to 20 MB)."),
            _input_keyboard(rid),
        )
    elif a == "dl":
        async with db.read() as session:
            request = await sc.staff_request(session, viewer.role, rid)
        if request.document is None:
            await callback.answer(_("No document has been issued yet."), show_alert=True)
            return
        await callback.answer()
        await deliver_document(
            bot,
            db,
            i18n,
            settings,
            callback.from_user.id,
            request.document,
            esc(request.document.number),
        )
    elif a == "file":
        locale = get_i18n().current_locale
        async with db.read() as session:
            request = await sc.staff_request(session, viewer.role, rid)
        files = attachments(request, locale)
        if not 0 <= callback_data.p < len(files):
            await callback.answer(_("This button is no longer available."))
            return
        await callback.answer()
        label, file_id = files[callback_data.p]
        await bot.send_document(callback.from_user.id, file_id, caption=esc(label))
    else:
        await callback.answer(_("This button is no longer available."))


async def on_text_input(
    message: Message,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """The question, the reason for rejecting or the reason for revoking, typed by staff."""
    data = await state.get_data()
    rid, act = int(data.get("req", 0)), data.get("act")
    if act not in ("ask", "reject", "revoke"):
        # The dialogue outlived its data (a restart, an expired storage key): say so.
        await state.clear()
        await message.answer(_("This action is not available."))
        return
    text = message.text or ""
    kwargs = {"role": viewer.role, "actor_id": viewer.user_id, "request_id": rid}
    try:
        async with db.write() as session:
            if act == "ask":
                await sc.ask_for_information(session, question=text, now=clock.now(), **kwargs)
                notice = _("❓ The question has been sent to the student.")
            elif act == "reject":
                await sc.reject(session, reason=text, now=clock.now(), **kwargs)
                notice = _("⛔ The request has been rejected.")
            elif act == "revoke":
                await sc.revoke(session, reason=text, now=clock.now(), **kwargs)
                notice = _("🚫 The document has been revoked.")
            else:
                await state.clear()
                return
    except DomainError as exc:
        if exc.code in ("sc_empty", "sc_too_long"):
            await message.answer(exc.user_message() or "", reply_markup=_input_keyboard(rid))
            return
        await state.clear()
        raise
    await state.clear()
    await show_staff_request(message, db, viewer, settings, clock, rid, 0, notice)


async def on_file_input(
    message: Message,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """The document staff attach to issue a request."""
    data = await state.get_data()
    rid = int(data.get("req", 0))
    document = message.document
    if document is None:
        await message.answer(
            _("Please send the document as a file (not a photo or a text)."),
            reply_markup=_input_keyboard(rid),
        )
        return
    refusal = attachment_refusal_text(message)
    if refusal is not None:
        await message.answer(refusal, reply_markup=_input_keyboard(rid))
        return
    await state.clear()
    now = clock.now()
    async with db.write() as session:
        draft = await sc.draft_document(
            session,
            role=viewer.role,
            request_id=rid,
            now=now,
            tz=settings.tz,
            default_locale=settings.default_locale,
        )
        name = (document.file_name or draft.file_name)[:255]
        draft = replace(
            draft,
            kind=DocumentKind.attached,
            file_id=document.file_id,
            file_name=name,
            mime_type=document.mime_type,
        )
        await sc.issue_document(
            session, role=viewer.role, actor_id=viewer.user_id, draft=draft, now=now
        )
    notice = _("✅ The document №{number} has been issued.").format(number=esc(draft.number))
    await show_staff_request(message, db, viewer, settings, clock, rid, 0, notice)


async def on_text_expected(message: Message) -> None:
    """A file or sticker where the question or the reason was expected."""
    await message.answer(_("Please type it as a text message."))


async def refuse(callback: CallbackQuery) -> None:
    """A queue button pressed by someone who does not process requests (or forged)."""
    await callback.answer(_("Only the service centre staff can do this."), show_alert=True)


async def on_nav(callback: CallbackQuery, state: FSMContext, db: Database) -> None:
    """The "Requests queue" button of the home screen."""
    await state.clear()
    await callback.answer()
    await open_queue(callback, db, 0)


async def home_lines(ctx: HomeContext) -> list[str]:
    if not sc.can_process(ctx.viewer.role):
        return []
    counts = await sc.queue_counts(ctx.session, None)
    waiting = counts[RequestStatus.submitted]
    if not waiting:
        return []
    return [_("📥 New service centre requests: {n}").format(n=waiting)]


def get_router() -> Router:
    router = Router(name="service_centre_staff")
    staff = Router(name="service_centre_staff_only")
    # Staff work the queue only with the service-centre sub-role; admins always may.
    desk = HasSubRole("service_centre")
    staff.callback_query.filter(SignedIn(*sc.PROCESSING_ROLES), desk)
    staff.message.filter(SignedIn(*sc.PROCESSING_ROLES), desk)
    staff.callback_query.register(on_nav, NavCb.filter(F.to == STAFF_NAV))
    staff.callback_query.register(on_action, SqCb.filter())
    staff.message.register(
        on_text_input, StateFilter(StaffInput.text), F.text, ~F.text.startswith("/")
    )
    staff.message.register(on_text_expected, StateFilter(StaffInput.text), ~F.text)
    staff.message.register(on_file_input, StateFilter(StaffInput.file), ~F.text.startswith("/"))
    # Everyone else pressing a queue button (a forged or stale one) gets a clear "no".
    others = Router(name="service_centre_staff_refusal")
    others.callback_query.register(refuse, SqCb.filter())
    others.callback_query.register(refuse, NavCb.filter(F.to == STAFF_NAV))
    router.include_router(staff)
    router.include_router(others)
    return router


MODULE = Module(
    name="service_centre_staff",
    router=get_router,
    menu=(
        MenuItem(
            to=STAFF_NAV,
            label=lambda: _("📥 Requests queue"),
            roles=frozenset(sc.PROCESSING_ROLES),
            order=710,
        ),
    ),
    home_lines=home_lines,
)
