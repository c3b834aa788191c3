"""Writing a message (§8.3): kind, subject, text, attachments, expiry, recipients, preview, send.

The draft lives in the FSM storage (JSON). Every step can be cancelled; every press is checked
again on the server (the kind against the role, each recipient against the sender's rights), and
the final send checks everything once more, so a stale or forged button cannot widen a draft.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.downloads import attachment_refusal_text
from bot.i18n import fmt_date, fmt_number
from bot.keyboards.common import markup, pager_buttons, short
from bot.keyboards.messages import (
    KIND_CODE,
    KIND_ICON,
    ComposeCb,
    MailCb,
    button,
    kind_name,
    target_kind_name,
    target_line,
)
from bot.services import messaging as svc
from bot.services.auth import Viewer
from bot.services.errors import DomainError
from bot.services.messaging import Draft, Target
from bot.ui import esc, show
from db.models import Role
from db.models.messaging import MessageKind
from db.session import Database

LIST_PAGE = 8
DRAFT_KEY = "mail_draft"


class Compose(StatesGroup):
    subject = State()
    body = State()
    attachments = State()
    expiry = State()
    recipients = State()
    preview = State()


def _cancel_row() -> list[InlineKeyboardButton]:
    return [button(_("✖️ Cancel"), ComposeCb(a="cancel"))]


def _title(draft: Draft) -> str:
    return f"{KIND_ICON[draft.kind]} <b>{esc(kind_name(draft.kind))}</b>"


async def _load_draft(state: FSMContext) -> Draft | None:
    data = (await state.get_data()).get(DRAFT_KEY)
    if not isinstance(data, dict):
        return None
    try:
        return Draft.from_dict(data)
    except (KeyError, TypeError, ValueError):
        return None


async def _save_draft(state: FSMContext, draft: Draft) -> None:
    await state.update_data({DRAFT_KEY: draft.to_dict()})


async def _stale(callback: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await callback.answer(_("This draft is no longer open. Start a new message."), show_alert=True)
    await show(
        callback,
        _("The draft is closed."),
        markup([button(_("✉️ Messages"), MailCb(a="home"))]),
    )


async def _stale_typed(message: Message, state: FSMContext) -> None:
    """Typed into a dialogue whose draft is gone (expired storage, a restart): say so."""
    await state.clear()
    await show(
        message,
        _("This draft is no longer open. Start a new message."),
        markup([button(_("✉️ Messages"), MailCb(a="home"))]),
    )


# ---- the steps -------------------------------------------------------------------------------


async def start_compose(event: Message | CallbackQuery, state: FSMContext, viewer: Viewer) -> None:
    """The first screen of a new message: the kind, unless only letters are allowed."""
    await state.clear()
    kinds = svc.allowed_kinds(viewer.role)
    if len(kinds) == 1:
        await _begin(event, state, Draft(kind=kinds[0]))
        return
    buttons = [
        [button(f"{KIND_ICON[k]} {kind_name(k)}", ComposeCb(a="kind", v=KIND_CODE[k]))]
        for k in kinds
    ]
    await show(
        event,
        _("✍️ <b>New message</b>\n\nWhat do you want to send?"),
        markup(*buttons, _cancel_row()),
    )


async def _begin(event: Message | CallbackQuery, state: FSMContext, draft: Draft) -> None:
    await _save_draft(state, draft)
    await _ask_subject(event, state, draft)


async def _ask_subject(event: Message | CallbackQuery, state: FSMContext, draft: Draft) -> None:
    await state.set_state(Compose.subject)
    text = (
        _title(draft)
        + "\n\n"
        + _("<b>Subject</b> (mandatory, at most {n} characters). Type the subject:").format(
            n=svc.SUBJECT_MAX
        )
    )
    await show(event, text, markup(_cancel_row()))


async def ask_body(event: Message | CallbackQuery, state: FSMContext, draft: Draft) -> None:
    await state.set_state(Compose.body)
    text = (
        _title(draft)
        + "\n"
        + _("Subject: {subject}").format(subject=esc(draft.subject))
        + "\n\n"
        + _("<b>Text</b>: type the text of the message (at most {n} characters).").format(
            n=svc.BODY_MAX
        )
    )
    await show(
        event,
        text,
        markup([button(_("Without text ➡️"), ComposeCb(a="notext"))], _cancel_row()),
    )


def _attachments_screen(draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        _title(draft),
        "",
        _(
            "<b>Attachments</b>: send documents or photos one by one (at most {n}), "
            "or press «Next»."
        ).format(n=svc.ATTACHMENTS_MAX),
    ]
    if draft.attachments:
        lines.append("")
        lines.append(
            _("Attached: {count} of {n}").format(
                count=len(draft.attachments), n=svc.ATTACHMENTS_MAX
            )
        )
        for media, _file_id, name in draft.attachments:
            lines.append(f"📎 {esc(name) if name else (_('photo') if media == 'photo' else '—')}")
    return "\n".join(lines), markup([button(_("Next ➡️"), ComposeCb(a="next"))], _cancel_row())


async def _ask_attachments(
    event: Message | CallbackQuery, state: FSMContext, draft: Draft
) -> None:
    await state.set_state(Compose.attachments)
    text, keyboard = _attachments_screen(draft)
    await show(event, text, keyboard)


async def _ask_expiry(
    event: Message | CallbackQuery,
    state: FSMContext,
    draft: Draft,
    now: datetime,
    settings: Settings,
    note: str | None = None,
) -> None:
    await state.set_state(Compose.expiry)
    locale = get_i18n().current_locale
    today = svc.local_today(now, settings.tz)
    last = svc.latest_expiry(now, settings.tz)
    text = (
        _title(draft)
        + "\n\n"
        + _(
            "<b>Expiry date</b> (mandatory): after this day the message leaves every mailbox. "
            "At most {n} days ahead, until {date}.\n\n"
            "Choose one below or type a date as DD.MM.YYYY:"
        ).format(n=svc.EXPIRY_MAX_DAYS, date=fmt_date(last, locale))
    )
    if note:
        text = note + "\n\n" + text
    buttons = [
        button(
            _("In {days} days · {date}").format(
                days=days, date=fmt_date(today + timedelta(days=days), locale, "short")
            ),
            ComposeCb(a="exp", n=days),
        )
        for days in (7, 14, svc.EXPIRY_MAX_DAYS)
    ]
    await show(event, text, markup([buttons[0], buttons[1]], [buttons[2]], _cancel_row()))


async def _recipients_screen(
    db: Database, viewer: Viewer, draft: Draft, note: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    locale = get_i18n().current_locale
    lines = [_title(draft)]
    if note:
        lines += ["", note]
    lines += ["", _("<b>Recipients</b>")]
    if draft.targets:
        async with db.read() as session:
            for target, ref in draft.targets:
                label = await svc.target_label(session, Target(target), ref, locale)
                lines.append("• " + target_line(Target(target), esc(label)))
    else:
        lines.append(_("Nobody chosen yet."))
    targets = svc.allowed_targets(viewer.role, draft.kind)
    if Target.person in targets:
        lines += ["", _("To find a person, type a name or a login.")]
    lines += ["", _("Choose whom to add:")]
    kinds = [
        button(target_kind_name(t, viewer.role), ComposeCb(a="tk", v=t.value)) for t in targets
    ]
    rows = [kinds[i : i + 2] for i in range(0, len(kinds), 2)]
    tail: list[list[InlineKeyboardButton]] = []
    if draft.targets:
        tail.append(
            [
                button(_("👁 Preview"), ComposeCb(a="preview")),
                button(_("🗑 Clear the list"), ComposeCb(a="clear")),
            ]
        )
    return "\n".join(lines), markup(*rows, *tail, _cancel_row())


async def _ask_recipients(
    event: Message | CallbackQuery,
    state: FSMContext,
    db: Database,
    viewer: Viewer,
    draft: Draft,
    note: str | None = None,
) -> None:
    await state.set_state(Compose.recipients)
    text, keyboard = await _recipients_screen(db, viewer, draft, note)
    await show(event, text, keyboard)


def _after_expiry(draft: Draft) -> bool:
    """A reply already knows its recipient: straight to the preview."""
    return bool(draft.targets)


async def _show_preview(
    event: Message | CallbackQuery,
    state: FSMContext,
    db: Database,
    viewer: Viewer,
    draft: Draft,
    now: datetime,
) -> None:
    locale = get_i18n().current_locale
    try:
        async with db.read() as session:
            people = await svc.resolve_recipients(session, viewer, draft.kind, draft.targets, now)
            labels = [
                target_line(
                    Target(t), esc(await svc.target_label(session, Target(t), ref, locale))
                )
                for t, ref in draft.targets
            ]
    except DomainError as exc:
        draft.targets = []
        await _save_draft(state, draft)
        await _ask_recipients(event, state, db, viewer, draft, note=exc.user_message())
        return
    await state.set_state(Compose.preview)
    expires = fmt_date(draft.expires_on, locale) if draft.expires_on else "—"
    head = [
        _title(draft) + " · " + _("preview"),
        "",
        _("Subject: {subject}").format(subject=f"<b>{esc(draft.subject)}</b>"),
        _("Expires: {date}").format(date=expires),
        _("To: {list}").format(list="; ".join(labels)),
        _("Recipients: {count}").format(count=fmt_number(len(people), locale, 0)),
    ]
    if draft.attachments:
        head.append(_("Attachments: {count}").format(count=len(draft.attachments)))
    head_text = "\n".join(head)
    body = _fit(draft.body, 3800 - len(head_text)) if draft.body else _("(no text)")
    text = head_text + "\n\n" + body
    buttons: list[list[InlineKeyboardButton]] = []
    if not people:
        text += "\n\n" + _("Nobody matches the chosen recipients.")
    else:
        buttons.append([button(_("📤 Send"), ComposeCb(a="send"))])
    buttons.append([button(_("✏️ Change the recipients"), ComposeCb(a="back"))])
    await show(event, text, markup(*buttons, _cancel_row()))


def _fit(body: str, room: int) -> str:
    """The escaped body, cut (on the raw text, so no entity is split) to fit in `room`."""
    shown = esc(body)
    if len(shown) <= room:
        return shown
    cut = len(body)
    while cut > 0 and len(esc(body[:cut])) > room - 1:
        cut -= max(1, len(esc(body[:cut])) - room + 1)
    return esc(body[:cut]) + "…"


async def _show_list(
    callback: CallbackQuery,
    db: Database,
    viewer: Viewer,
    draft: Draft,
    target: Target,
    page: int,
    now: datetime,
) -> None:
    locale = get_i18n().current_locale
    async with db.read() as session:
        options, total = await svc.target_options(
            session, viewer, target, locale, now, page, LIST_PAGE
        )
    pages = max(1, math.ceil(total / LIST_PAGE))
    if page >= pages and total:
        page = pages - 1
        async with db.read() as session:
            options, total = await svc.target_options(
                session, viewer, target, locale, now, page, LIST_PAGE
            )
    lines = [_title(draft), "", f"<b>{esc(target_kind_name(target, viewer.role))}</b>"]
    if not options:
        lines.append(_("Nothing to choose from."))
    else:
        lines.append(_("Choose one:"))
    if target == Target.person:
        lines.append(_("Or type a name or a login to search."))
    rows = [
        [button(short(o.label, 60), ComposeCb(a="pick", v=target.value, n=o.ref))] for o in options
    ]
    pager = pager_buttons(lambda p: ComposeCb(a="pg", v=target.value, n=p).pack(), page, pages)
    await show(
        callback,
        "\n".join(lines),
        markup(*rows, pager, [button(_("« Back"), ComposeCb(a="back"))], _cancel_row()),
    )


# ---- handlers: buttons -----------------------------------------------------------------------


async def on_cancel(callback: CallbackQuery, state: FSMContext) -> None:
    """«Cancel» at any step: the draft is dropped."""
    await state.clear()
    await callback.answer(_("Cancelled."))
    await show(
        callback,
        _("The message was not sent."),
        markup([button(_("✉️ Messages"), MailCb(a="home"))]),
    )


async def on_kind(
    callback: CallbackQuery, callback_data: ComposeCb, state: FSMContext, viewer: Viewer
) -> None:
    """The kind of the new message (letter, task, announcement): the dialogue starts."""
    kinds = {KIND_CODE[k]: k for k in svc.allowed_kinds(viewer.role)}
    kind = kinds.get(callback_data.v)
    if kind is None:
        await callback.answer(_("This kind of message is not available to you."), show_alert=True)
        return
    await callback.answer()
    await _begin(callback, state, Draft(kind=kind))


async def _step_draft(callback: CallbackQuery, state: FSMContext, viewer: Viewer) -> Draft | None:
    """The draft a step's button works on; None (the press answered) when the dialogue is gone
    or the sender may no longer write this kind."""
    draft = await _load_draft(state)
    if draft is None or await state.get_state() is None:
        await _stale(callback, state)
        return None
    if draft.kind not in svc.allowed_kinds(viewer.role):
        await state.clear()
        await callback.answer(_("This kind of message is not available to you."), show_alert=True)
        return None
    return draft


async def on_no_text(callback: CallbackQuery, state: FSMContext, viewer: Viewer) -> None:
    """«Without text» where the body is asked for."""
    if (draft := await _step_draft(callback, state, viewer)) is None:
        return
    await callback.answer()
    draft.body = ""
    await _save_draft(state, draft)
    await _ask_attachments(callback, state, draft)


async def on_attachments_done(
    callback: CallbackQuery, state: FSMContext, viewer: Viewer, settings: Settings, clock: Clock
) -> None:
    """«Next» after the attachments."""
    if (draft := await _step_draft(callback, state, viewer)) is None:
        return
    await callback.answer()
    await _ask_expiry(callback, state, draft, clock.now(), settings)


async def on_expiry_choice(
    callback: CallbackQuery,
    callback_data: ComposeCb,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """One of the offered expiry dates."""
    if (draft := await _step_draft(callback, state, viewer)) is None:
        return
    now = clock.now()
    try:
        chosen = svc.check_expiry(
            svc.local_today(now, settings.tz) + timedelta(days=callback_data.n), now, settings.tz
        )
    except DomainError as exc:
        await callback.answer(exc.user_message(), show_alert=True)
        return
    await callback.answer()
    draft.expires_on = chosen
    await _save_draft(state, draft)
    if _after_expiry(draft):
        await _show_preview(callback, state, db, viewer, draft, now)
    else:
        await _ask_recipients(callback, state, db, viewer, draft)


async def on_recipients_back(
    callback: CallbackQuery, state: FSMContext, viewer: Viewer, db: Database
) -> None:
    """«« Back» from a list or the preview: the chosen recipients."""
    if (draft := await _step_draft(callback, state, viewer)) is None:
        return
    await callback.answer()
    await _ask_recipients(callback, state, db, viewer, draft)


async def on_recipients_clear(
    callback: CallbackQuery, state: FSMContext, viewer: Viewer, db: Database
) -> None:
    """«Clear» the chosen recipients."""
    if (draft := await _step_draft(callback, state, viewer)) is None:
        return
    await callback.answer()
    draft.targets = []
    await _save_draft(state, draft)
    await _ask_recipients(callback, state, db, viewer, draft)


async def on_preview(
    callback: CallbackQuery, state: FSMContext, viewer: Viewer, db: Database, clock: Clock
) -> None:
    """«Preview» once someone is chosen."""
    if (draft := await _step_draft(callback, state, viewer)) is None:
        return
    if not draft.targets:
        await callback.answer(_("Choose at least one recipient."), show_alert=True)
        return
    await callback.answer()
    await _show_preview(callback, state, db, viewer, draft, clock.now())


async def on_target(
    callback: CallbackQuery,
    callback_data: ComposeCb,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    clock: Clock,
) -> None:
    """A kind of recipient (tk), a page of its list (pg) or one of the list (pick)."""
    if (draft := await _step_draft(callback, state, viewer)) is None:
        return
    await _target_action(callback, callback_data, state, viewer, db, draft, clock.now())


async def on_send(
    callback: CallbackQuery,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """«Send» on the preview."""
    if (draft := await _step_draft(callback, state, viewer)) is None:
        return
    await _send(callback, state, viewer, db, settings, draft, clock.now())


async def on_other_step(callback: CallbackQuery, state: FSMContext, viewer: Viewer) -> None:
    """A button of a step the dialogue is not at (or of a dialogue that is over)."""
    if await _step_draft(callback, state, viewer) is None:
        return
    await callback.answer(_("This button belongs to another step."), show_alert=True)


async def _target_action(
    callback: CallbackQuery,
    data: ComposeCb,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    draft: Draft,
    now: datetime,
) -> None:
    action = data.a
    try:
        target = Target(data.v)
    except ValueError:
        await callback.answer(_("This button is no longer available."), show_alert=True)
        return
    if target not in svc.allowed_targets(viewer.role, draft.kind):
        await callback.answer(
            _("You cannot send this kind of message to these recipients."), show_alert=True
        )
        return
    await state.set_state(Compose.recipients)
    if action == "pg" or (action == "tk" and target not in svc.WHOLE_TARGETS):
        if action == "tk" and target == Target.person and viewer.role != Role.student:
            await callback.answer()
            await show(
                callback,
                _title(draft)
                + "\n\n"
                + _("Type a name or a login (any part of it) to find a person:"),
                markup([button(_("« Back"), ComposeCb(a="back"))], _cancel_row()),
            )
            return
        await callback.answer()
        await _show_list(callback, db, viewer, draft, target, max(0, data.n), now)
        return
    ref = 0 if target in svc.WHOLE_TARGETS else data.n
    if action not in ("tk", "pick"):
        await callback.answer(_("This button is no longer available."), show_alert=True)
        return
    try:
        async with db.read() as session:
            await svc.check_target(session, viewer, draft.kind, target, ref, now)
    except DomainError as exc:
        await callback.answer(exc.user_message(), show_alert=True)
        return
    pair = (target.value, ref)
    note = None
    if pair in draft.targets:
        note = _("Already in the list.")
    elif len(draft.targets) >= svc.TARGETS_MAX:
        note = _("At most {n} recipients can be chosen.").format(n=svc.TARGETS_MAX)
    else:
        draft.targets.append(pair)
        await _save_draft(state, draft)
        note = _("✅ Added.")
    await callback.answer()
    await _ask_recipients(callback, state, db, viewer, draft, note)


async def _send(
    callback: CallbackQuery,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    draft: Draft,
    now: datetime,
) -> None:
    try:
        async with db.write() as session:
            sent = await svc.send_message(session, viewer, draft, now, settings.tz)
    except DomainError as exc:
        await callback.answer(exc.user_message(), show_alert=True)
        return
    await state.clear()
    locale = get_i18n().current_locale
    await callback.answer(_("Sent."))
    text = _("✅ Sent: «{subject}». Recipients: {count}.").format(
        subject=esc(draft.subject), count=fmt_number(sent.recipients, locale, 0)
    )
    if sent.already:
        text = _("This message has already been sent.") + "\n" + text
    rows = [[button(_("Open"), MailCb(a="open", id=sent.message_id))]]
    if draft.kind == MessageKind.announcement:
        rows.append([button(_("📊 Delivery progress"), MailCb(a="prog", id=sent.message_id))])
    rows.append([button(_("✉️ Messages"), MailCb(a="home"))])
    await show(callback, text, markup(*rows))


# ---- handlers: typed input -------------------------------------------------------------------


async def on_subject(message: Message, state: FSMContext) -> None:
    """The subject typed at its step."""
    draft = await _load_draft(state)
    if draft is None:
        await _stale_typed(message, state)
        return
    try:
        draft.subject = svc.check_subject(message.text)
    except DomainError as exc:
        await message.answer(exc.user_message() or "", reply_markup=markup(_cancel_row()))
        return
    await _save_draft(state, draft)
    await ask_body(message, state, draft)


async def on_body(message: Message, state: FSMContext) -> None:
    """The text typed at its step."""
    draft = await _load_draft(state)
    if draft is None:
        await _stale_typed(message, state)
        return
    try:
        draft.body = svc.check_body(message.text)
    except DomainError as exc:
        await message.answer(
            exc.user_message() or "",
            reply_markup=markup(
                [button(_("Without text ➡️"), ComposeCb(a="notext"))], _cancel_row()
            ),
        )
        return
    await _save_draft(state, draft)
    await _ask_attachments(message, state, draft)


async def on_attachment(message: Message, state: FSMContext) -> None:
    """A document or a photo sent at the attachments step."""
    draft = await _load_draft(state)
    if draft is None:
        await _stale_typed(message, state)
        return
    if len(draft.attachments) >= svc.ATTACHMENTS_MAX:
        await message.answer(
            _("At most {n} attachments per message. Press «Next».").format(n=svc.ATTACHMENTS_MAX),
            reply_markup=markup([button(_("Next ➡️"), ComposeCb(a="next"))], _cancel_row()),
        )
        return
    refusal = attachment_refusal_text(message)
    if refusal is not None:
        await message.answer(
            refusal, reply_markup=markup([button(_("Next ➡️"), ComposeCb(a="next"))], _cancel_row())
        )
        return
    if message.document is not None:
        name = (message.document.file_name or "")[:255] or None
        draft.attachments.append(("document", message.document.file_id, name))
    elif message.photo:
        draft.attachments.append(("photo", message.photo[-1].file_id, None))
    await _save_draft(state, draft)
    text, keyboard = _attachments_screen(draft)
    await message.answer(text, reply_markup=keyboard)


async def on_attachment_text(message: Message, state: FSMContext) -> None:
    """Text at the attachments step: a hint."""
    await message.answer(
        _("Send a document or a photo, or press «Next»."),
        reply_markup=markup([button(_("Next ➡️"), ComposeCb(a="next"))], _cancel_row()),
    )


async def on_attachment_other(message: Message) -> None:
    """Anything else at the attachments step (a video, a sticker, a voice message...)."""
    await message.answer(
        _("Only documents and photos can be attached."),
        reply_markup=markup([button(_("Next ➡️"), ComposeCb(a="next"))], _cancel_row()),
    )


async def on_expiry(
    message: Message,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """An expiry date typed at its step."""
    draft = await _load_draft(state)
    if draft is None:
        await _stale_typed(message, state)
        return
    now = clock.now()
    try:
        draft.expires_on = svc.parse_expiry(message.text or "", now, settings.tz)
    except DomainError as exc:
        await _ask_expiry(message, state, draft, now, settings, note=exc.user_message())
        return
    await _save_draft(state, draft)
    if _after_expiry(draft):
        await _show_preview(message, state, db, viewer, draft, now)
    else:
        await _ask_recipients(message, state, db, viewer, draft)


async def on_search(
    message: Message, state: FSMContext, viewer: Viewer, db: Database, clock: Clock
) -> None:
    """Text at the recipients step: a search for people by name or login."""
    draft = await _load_draft(state)
    if draft is None:
        await _stale_typed(message, state)
        return
    if Target.person not in svc.allowed_targets(viewer.role, draft.kind):
        await message.answer(
            _("Choose the recipients with the buttons."),
            reply_markup=(await _recipients_screen(db, viewer, draft))[1],
        )
        return
    query = (message.text or "").strip()[:100]
    async with db.read() as session:
        found = await svc.search_people(session, viewer, query, clock.now())
    back = [button(_("« Back"), ComposeCb(a="back"))]
    if not found:
        await message.answer(
            _("Nobody found for «{query}». Try another spelling or a login.").format(
                query=esc(query)
            ),
            reply_markup=markup(back, _cancel_row()),
        )
        return
    rows = [
        [button(short(label, 60), ComposeCb(a="pick", v=Target.person.value, n=uid))]
        for uid, label in found
    ]
    await message.answer(
        _("Found for «{query}» — choose a person:").format(query=esc(query)),
        reply_markup=markup(*rows, back, _cancel_row()),
    )


async def on_wrong_input(message: Message) -> None:
    """Something other than text where text is expected."""
    await message.answer(
        _("Please type it as a text message, or cancel."), reply_markup=markup(_cancel_row())
    )


async def on_preview_input(message: Message) -> None:
    """Anything typed while the preview waits for «Send»."""
    await message.answer(_("Press «Send» under the preview, or cancel."))


def get_router() -> Router:
    router = Router(name="messages_compose")
    router.callback_query.register(on_cancel, ComposeCb.filter(F.a == "cancel"))
    router.callback_query.register(on_kind, ComposeCb.filter(F.a == "kind"))
    router.callback_query.register(
        on_no_text, StateFilter(Compose.body), ComposeCb.filter(F.a == "notext")
    )
    router.callback_query.register(
        on_attachments_done, StateFilter(Compose.attachments), ComposeCb.filter(F.a == "next")
    )
    router.callback_query.register(
        on_expiry_choice, StateFilter(Compose.expiry), ComposeCb.filter(F.a == "exp")
    )
    choosing = StateFilter(Compose.recipients, Compose.preview)
    router.callback_query.register(on_recipients_back, choosing, ComposeCb.filter(F.a == "back"))
    router.callback_query.register(on_recipients_clear, choosing, ComposeCb.filter(F.a == "clear"))
    router.callback_query.register(on_preview, choosing, ComposeCb.filter(F.a == "preview"))
    router.callback_query.register(
        on_target, choosing, ComposeCb.filter(F.a.in_({"tk", "pick", "pg"}))
    )
    router.callback_query.register(
        on_send, StateFilter(Compose.preview), ComposeCb.filter(F.a == "send")
    )
    # Last: any other button of the dialogue.
    router.callback_query.register(on_other_step, ComposeCb.filter())
    not_command = ~F.text.startswith("/")
    router.message.register(on_subject, StateFilter(Compose.subject), F.text, not_command)
    router.message.register(on_body, StateFilter(Compose.body), F.text, not_command)
    router.message.register(on_attachment, StateFilter(Compose.attachments), F.document | F.photo)
    router.message.register(
        on_attachment_text, StateFilter(Compose.attachments), F.text, not_command
    )
    router.message.register(on_expiry, StateFilter(Compose.expiry), F.text, not_command)
    router.message.register(on_search, StateFilter(Compose.recipients), F.text, not_command)
    router.message.register(
        on_preview_input, StateFilter(Compose.preview), ~F.text.startswith("/")
    )
    router.message.register(on_attachment_other, StateFilter(Compose.attachments), ~F.text)
    router.message.register(
        on_wrong_input,
        StateFilter(Compose.subject, Compose.body, Compose.expiry, Compose.recipients),
        ~F.text,
    )
    return router
