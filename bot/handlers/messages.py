"""Messages (§8): the mailbox home, inboxes and outboxes, reading, tasks, read receipts and the
progress of a broadcast. Writing lives in `messages_compose`.
"""

from __future__ import annotations

import math
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.delivery.render import Rendered, renderer
from bot.handlers import messages_compose
from bot.handlers.messages_compose import DRAFT_KEY, start_compose
from bot.i18n import fmt_date, fmt_datetime, fmt_number
from bot.keyboards.common import NavCb, home_button, pager_buttons
from bot.keyboards.exports import delivery_report_button
from bot.keyboards.messages import (
    BOARD_ICON,
    CODE_BOARD,
    CODE_KIND,
    CODE_STATE,
    KIND_CODE,
    KIND_ICON,
    STATE_CODE,
    MailCb,
    board_filter_buttons,
    board_status_name,
    button,
    kind_folder,
    kind_name,
    short,
    state_name,
    status_name,
)
from bot.modules import HomeContext, MenuItem, Module
from bot.services import messaging as svc
from bot.services.auth import Viewer
from bot.services.errors import DomainError
from bot.services.messaging import BoardStatus, Draft, MailItem, MessageView, Target
from bot.ui import esc, show, split_text
from db.models.messaging import MessageKind, TaskState, TaskStatus
from db.session import Database

PAGE = 8
RECEIPTS_PAGE = 20
LATEST = 5


class TaskReply(StatesGroup):
    text = State()


def _kb(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[r for r in rows if r])


def _when(value: Any, settings: Settings) -> str:
    return fmt_datetime(value, get_i18n().current_locale, settings.tz, "short")


# ---- the mailbox home (§8.2) -----------------------------------------------------------------


async def _home_screen(
    db: Database, viewer: Viewer, settings: Settings, clock: Clock
) -> tuple[str, InlineKeyboardMarkup]:
    now = clock.now()
    async with db.read() as session:
        counts = await svc.unread_counts(session, viewer.user_id, now)
        latest = await svc.latest_inbox(session, viewer.user_id, now, LATEST)
    lines = [_("✉️ <b>Messages</b>"), ""]
    unread = _unread_parts(counts)
    lines.append(
        _("Unread: {list}").format(list=", ".join(unread)) if unread else _("No unread messages.")
    )
    if latest:
        lines += ["", _("<b>Latest received</b>")]
        for item in latest:
            lines.append(_item_line(item, settings, inbox=True))
    folders = [
        button(
            f"{KIND_ICON[k]} {kind_folder(k)}"
            + (f" ({counts[k.value]})" if counts[k.value] else ""),
            MailCb(a="box", k=KIND_CODE[k], f="i"),
        )
        for k in MessageKind
    ]
    opens = [
        [button(("🔵 " if i.unread else "") + short(i.subject), MailCb(a="open", id=i.message_id))]
        for i in latest
    ]
    return "\n".join(lines), _kb(
        folders[:2],
        folders[2:],
        *opens,
        [button(_("✍️ Write"), MailCb(a="write"))],
        [home_button()],
    )


def _unread_parts(counts: dict[str, int]) -> list[str]:
    parts = []
    if counts.get(MessageKind.letter.value):
        parts.append(_("letters {n}").format(n=counts[MessageKind.letter.value]))
    if counts.get(MessageKind.task.value):
        parts.append(_("tasks {n}").format(n=counts[MessageKind.task.value]))
    if counts.get(MessageKind.announcement.value):
        parts.append(_("announcements {n}").format(n=counts[MessageKind.announcement.value]))
    return parts


def _item_line(
    item: MailItem, settings: Settings, *, inbox: bool, number: int | None = None
) -> str:
    subject = esc(item.subject)
    if inbox and item.unread:
        subject = f"<b>{subject}</b>"
    prefix = f"{number}. " if number is not None else f"{KIND_ICON[item.kind]} "
    when = _when(item.created_at, settings)
    if inbox:
        extra = esc(item.other)
        if item.kind == MessageKind.task:
            extra += " · " + state_name(item.task_state)
        return f"{prefix}{subject} — {extra} · {when}"
    locale = get_i18n().current_locale
    extra = _("read {read} of {total}").format(
        read=fmt_number(item.read, locale, 0), total=fmt_number(item.recipients, locale, 0)
    )
    if item.kind == MessageKind.task:
        extra += " · " + status_name(item.task_status)
    return f"{prefix}{subject} · {when} · {extra}"


async def open_mailbox(
    event: Message | CallbackQuery,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    await state.clear()
    text, keyboard = await _home_screen(db, viewer, settings, clock)
    await show(event, text, keyboard)


async def cmd_messages(
    message: Message,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """/messages: the mailbox home."""
    await open_mailbox(message, state, viewer, db, settings, clock)


async def on_nav(
    callback: CallbackQuery,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """The Messages button of the home screen."""
    await callback.answer()
    await open_mailbox(callback, state, viewer, db, settings, clock)


# ---- folders ---------------------------------------------------------------------------------


async def _folder(
    callback: CallbackQuery,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
    kind: MessageKind,
    folder: str,
    page: int,
) -> None:
    now = clock.now()
    page = max(0, page)
    async with db.read() as session:
        load = svc.inbox if folder == "i" else svc.outbox
        items, total = await load(session, viewer.user_id, kind, now, page, PAGE)
        pages = max(1, math.ceil(total / PAGE))
        if page >= pages and total:
            page = pages - 1
            items, total = await load(session, viewer.user_id, kind, now, page, PAGE)
    title = _("Inbox") if folder == "i" else _("Outbox")
    lines = [f"{KIND_ICON[kind]} <b>{esc(kind_folder(kind))} · {esc(title)}</b>", ""]
    if not items:
        lines.append(_("Nothing here."))
    for n, item in enumerate(items, start=page * PAGE + 1):
        lines.append(_item_line(item, settings, inbox=folder == "i", number=n))
    code = KIND_CODE[kind]
    rows = [
        [
            button(
                f"{n}. " + ("🔵 " if item.unread else "") + short(item.subject),
                MailCb(a="open", id=item.message_id),
            )
        ]
        for n, item in enumerate(items, start=page * PAGE + 1)
    ]
    pager = pager_buttons(lambda p: MailCb(a="box", k=code, f=folder, p=p).pack(), page, pages)
    other = (
        button(_("📤 Outbox"), MailCb(a="box", k=code, f="o"))
        if folder == "i"
        else button(_("📥 Inbox"), MailCb(a="box", k=code, f="i"))
    )
    switch = [other] if folder == "o" or kind in svc.allowed_kinds(viewer.role) else []
    await show(
        callback,
        "\n".join(lines),
        _kb(*rows, pager, switch, [button(_("« Messages"), MailCb(a="home"))]),
    )


# ---- reading (§8.4) --------------------------------------------------------------------------


def _message_pages(view: MessageView, settings: Settings) -> list[str]:
    message = view.message
    locale = get_i18n().current_locale
    lines = [f"{KIND_ICON[message.kind]} <b>{esc(kind_name(message.kind))}</b>"]
    if view.mine is not None:
        lines.append(
            _("Status: {status}").format(
                status=_("read") if view.mine.read_at is not None else _("new")
            )
        )
    if message.kind == MessageKind.task:
        lines.append(_("Task status: {status}").format(status=status_name(message.task_status)))
        if view.mine is not None:
            lines.append(_("My execution: {state}").format(state=state_name(view.mine.task_state)))
    lines.append(_("From: {name}").format(name=esc(view.sender_name)))
    lines.append(_("Sent: {date}").format(date=_when(message.created_at, settings)))
    lines.append(
        _("Expires: {date}").format(
            date=fmt_date(svc.last_day(message.expires_at, settings.tz), locale)
        )
    )
    if view.is_sender:
        lines.append(
            _("Read: {read} of {total}").format(
                read=fmt_number(view.read, locale, 0),
                total=fmt_number(message.recipients_count, locale, 0),
            )
        )
        if message.kind == MessageKind.task:
            lines.append(
                " · ".join(
                    f"{state_name(s)}: {fmt_number(view.task_counts.get(s.value, 0), locale, 0)}"
                    for s in TaskState
                )
            )
    lines.append(_("Subject: {subject}").format(subject=f"<b>{esc(message.subject)}</b>"))
    if view.mine is not None and view.mine.reply:
        lines.append(_("My reply: {reply}").format(reply=esc(view.mine.reply)))
    if view.attachments:
        names = [
            esc(a.file_name) if a.file_name else (_("photo") if a.media == "photo" else "—")
            for a in view.attachments
        ]
        lines.append(_("Attachments: {list}").format(list=", ".join(names)))
    blocks = ["\n".join(lines), ""]
    if message.body:
        blocks += [esc(p) for p in message.body.split("\n")]
    return split_text(blocks, 3600)


def _message_keyboard(view: MessageView, page: int, pages: int) -> InlineKeyboardMarkup:
    message = view.message
    rows: list[list[InlineKeyboardButton]] = []
    rows.append(pager_buttons(lambda p: MailCb(a="open", id=message.id, p=p).pack(), page, pages))
    if view.attachments:
        rows.append(
            [
                button(
                    _("📎 Attachments ({n})").format(n=len(view.attachments)),
                    MailCb(a="att", id=message.id),
                )
            ]
        )
    if view.mine is not None and message.kind == MessageKind.task:
        if message.task_status != TaskStatus.closed:
            rows.append(
                [
                    button(
                        ("• " if view.mine.task_state == s else "") + label,
                        MailCb(a="st", id=message.id, f=STATE_CODE[s]),
                    )
                    for s, label in (
                        (TaskState.in_progress, _("▶️ In progress")),
                        (TaskState.done, _("✅ Done")),
                    )
                ]
            )
            rows.append([button(_("💬 Reply to the task"), MailCb(a="rep", id=message.id))])
    if view.mine is not None and message.kind in (MessageKind.letter, MessageKind.task):
        rows.append([button(_("↩️ Write back"), MailCb(a="answer", id=message.id))])
    if view.is_sender:
        if message.kind == MessageKind.task:
            rows.append([button(_("📊 Who is where"), MailCb(a="tb", id=message.id))])
            closed = message.task_status == TaskStatus.closed
            rows.append(
                [
                    button(
                        _("🔓 Reopen the task") if closed else _("🔒 Close the task"),
                        MailCb(a="ts", id=message.id, f="o" if closed else "c"),
                    )
                ]
            )
        else:
            rows.append([button(_("👁 Who read it"), MailCb(a="rr", id=message.id))])
        if message.kind == MessageKind.announcement:
            rows.append([button(_("📊 Delivery progress"), MailCb(a="prog", id=message.id))])
    folder = "o" if view.is_sender and view.mine is None else "i"
    rows.append(
        [
            button(_("« Back"), MailCb(a="box", k=KIND_CODE[message.kind], f=folder)),
            button(_("✉️ Messages"), MailCb(a="home")),
        ]
    )
    return _kb(*rows)


async def _open(
    callback: CallbackQuery,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
    message_id: int,
    page: int = 0,
    note: str | None = None,
) -> None:
    async with db.write() as session:
        view = await svc.open_message(
            session, viewer.user_id, message_id, clock.now(), mark_read=True
        )
    pages = _message_pages(view, settings)
    page = min(max(0, page), len(pages) - 1)
    text = pages[page]
    if note:
        text = note + "\n\n" + text
    await show(callback, text, _message_keyboard(view, page, len(pages)))


async def _send_attachments(
    callback: CallbackQuery, bot: Bot, viewer: Viewer, db: Database, clock: Clock, message_id: int
) -> None:
    async with db.read() as session:
        view = await svc.open_message(
            session, viewer.user_id, message_id, clock.now(), mark_read=False
        )
    if not view.attachments:
        await callback.answer(_("This message has no attachments."), show_alert=True)
        return
    await callback.answer(_("Sending the attachments…"))
    caption = "📎 " + esc(short(view.message.subject, 200))
    failed = 0
    for attachment in view.attachments:
        try:
            if attachment.media == "photo":
                await bot.send_photo(viewer.telegram_id, attachment.file_id, caption=caption)
            else:
                await bot.send_document(viewer.telegram_id, attachment.file_id, caption=caption)
        except TelegramBadRequest:
            failed += 1
    if failed:
        await bot.send_message(
            viewer.telegram_id,
            _("Attachments not sent: {n}. Telegram no longer keeps these files.").format(n=failed),
        )


# ---- the sender's lists: read receipts and the task board ------------------------------------


async def _receipts(
    callback: CallbackQuery,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
    message_id: int,
    page: int,
) -> None:
    now = clock.now()
    page = max(0, page)
    async with db.read() as session:
        message, rows, total = await svc.recipient_rows(
            session, viewer.user_id, message_id, now, page, RECEIPTS_PAGE
        )
    pages = max(1, math.ceil(total / RECEIPTS_PAGE))
    is_task = message.kind == MessageKind.task
    if is_task:  # a "who read it" button of a task (older screens): the task board instead
        await _task_board(callback, viewer, db, settings, clock, message_id, "", page)
        return
    title = _("📊 Who is where") if is_task else _("👁 Who read it")
    lines = [f"<b>{title}</b>", f"<b>{esc(message.subject)}</b>", ""]
    for row in rows:
        read = (
            _("read {date}").format(date=_when(row.read_at, settings))
            if row.read_at
            else _("not read")
        )
        line = f"{'✓' if row.read_at else '·'} {esc(row.name)} — {read}"
        if is_task:
            line += " · " + state_name(row.task_state)
            if row.reply:
                line += "\n    💬 " + esc(short(row.reply, 300))
        lines.append(line)
    text = split_text(lines, 3800)[0]
    pager = pager_buttons(lambda p: MailCb(a="rr", id=message_id, p=p).pack(), page, pages)
    await show(
        callback,
        text,
        _kb(pager, [button(_("« Back"), MailCb(a="open", id=message_id))]),
    )


async def _task_board(
    callback: CallbackQuery,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
    message_id: int,
    code: str,
    page: int,
) -> None:
    """Who is where in a task: totals per status at the top, a filter button per status, then
    the recipients (those without Telegram shown as such, not as "received")."""
    if code and code not in CODE_BOARD:
        raise svc.not_available()
    status = CODE_BOARD.get(code)
    page = max(0, page)
    async with db.read() as session:
        board = await svc.task_board(
            session, viewer.user_id, message_id, clock.now(), status, page, RECEIPTS_PAGE
        )
    locale = get_i18n().current_locale
    totals = " · ".join(
        f"{BOARD_ICON[s]} {board_status_name(s)}: {fmt_number(board.counts[s], locale, 0)}"
        for s in svc.BOARD_ORDER
    )
    lines = [
        "<b>{}</b>".format(_("📊 Who is where")),
        f"<b>{esc(board.message.subject)}</b>",
        _("Recipients: {count}").format(count=fmt_number(board.total, locale, 0)),
        totals,
        "",
    ]
    if status is not None:
        lines += [_("Shown: {status}").format(status=board_status_name(status)), ""]
    for row in board.rows:
        if row.status == BoardStatus.no_telegram:
            seen = _("no Telegram: tell them in person")
        elif row.read_at:
            seen = _("read {date}").format(date=_when(row.read_at, settings))
        else:
            seen = _("not read")
        line = f"{BOARD_ICON[row.status]} {esc(row.name)} — {seen}"
        if row.status in (BoardStatus.in_progress, BoardStatus.done):
            line += " · " + board_status_name(row.status)
        if row.reply:
            line += "\n    💬 " + esc(short(row.reply, 300))
        lines.append(line)
    if not board.rows:
        lines.append(_("Nobody here."))
    pages = max(1, math.ceil(board.shown / RECEIPTS_PAGE))
    pager = pager_buttons(lambda p: MailCb(a="tb", id=message_id, f=code, p=p).pack(), page, pages)
    await show(
        callback,
        split_text(lines, 3800)[0],
        _kb(
            *board_filter_buttons(message_id, board.counts, status),
            pager,
            [button(_("« Back"), MailCb(a="open", id=message_id))],
        ),
    )


async def _progress(
    callback: CallbackQuery, viewer: Viewer, db: Database, clock: Clock, message_id: int
) -> None:
    locale = get_i18n().current_locale
    async with db.read() as session:
        message, progress = await svc.broadcast_progress(
            session, viewer.user_id, message_id, clock.now()
        )

    def n(value: int) -> str:
        return fmt_number(value, locale, 0)

    lines = [
        _("📊 <b>Delivery progress</b>"),
        f"<b>{esc(message.subject)}</b>",
        "",
        _("Recipients: {count}").format(count=n(progress.recipients)),
        _("Delivered: {count}").format(count=n(progress.delivered)),
        _("Waiting: {count}").format(count=n(progress.pending)),
        _("Failed: {count}").format(count=n(progress.failed)),
        _("Not sent (notifications off, no Telegram, expired): {count}").format(
            count=n(progress.skipped + progress.muted)
        ),
        "",
    ]
    if progress.finished:
        lines.append(_("✅ Finished."))
    else:
        done = progress.queued - progress.pending
        percent = 100 * done // progress.queued if progress.queued else 100
        lines.append(_("⏳ In progress: {percent}%").format(percent=percent))
    await show(
        callback,
        "\n".join(lines),
        _kb(
            [button(_("🔄 Refresh"), MailCb(a="prog", id=message_id))],
            [delivery_report_button(message_id)],
            [button(_("« Back"), MailCb(a="open", id=message_id))],
        ),
    )


# ---- the button handler ----------------------------------------------------------------------


async def on_mail(
    callback: CallbackQuery,
    callback_data: MailCb,
    state: FSMContext,
    bot: Bot,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """Every button of the mailbox screens."""
    action = callback_data.a
    try:
        if action == "home":
            await callback.answer()
            await open_mailbox(callback, state, viewer, db, settings, clock)
        elif action == "box":
            kind = CODE_KIND.get(callback_data.k)
            if kind is None or callback_data.f not in ("i", "o"):
                raise svc.not_available()
            await state.clear()
            await callback.answer()
            await _folder(
                callback, viewer, db, settings, clock, kind, callback_data.f, callback_data.p
            )
        elif action == "open":
            await state.clear()
            await _open(callback, viewer, db, settings, clock, callback_data.id, callback_data.p)
            await callback.answer()
        elif action == "att":
            await _send_attachments(callback, bot, viewer, db, clock, callback_data.id)
        elif action == "st":
            new_state = CODE_STATE.get(callback_data.f)
            if new_state is None or new_state == TaskState.received:
                raise svc.not_available()
            async with db.write() as session:
                await svc.set_task_state(
                    session, viewer.user_id, callback_data.id, new_state, clock.now()
                )
            await callback.answer(_("Saved."))
            await _open(callback, viewer, db, settings, clock, callback_data.id)
        elif action == "rep":
            await _ask_task_reply(callback, state, viewer, db, clock, callback_data.id)
        elif action == "ts":
            status = {"o": TaskStatus.open, "c": TaskStatus.closed}.get(callback_data.f)
            if status is None:
                raise svc.not_available()
            async with db.write() as session:
                await svc.set_task_status(
                    session, viewer.user_id, callback_data.id, status, clock.now()
                )
            await callback.answer(
                _("The task is closed.") if status == TaskStatus.closed else _("The task is open.")
            )
            await _open(callback, viewer, db, settings, clock, callback_data.id)
        elif action == "rr":
            await _receipts(
                callback, viewer, db, settings, clock, callback_data.id, callback_data.p
            )
            await callback.answer()
        elif action == "tb":
            await _task_board(
                callback,
                viewer,
                db,
                settings,
                clock,
                callback_data.id,
                callback_data.f,
                callback_data.p,
            )
            await callback.answer()
        elif action == "prog":
            await _progress(callback, viewer, db, clock, callback_data.id)
            await callback.answer()
        elif action == "write":
            await callback.answer()
            await start_compose(callback, state, viewer)
        elif action == "answer":
            await _write_back(callback, state, viewer, db, clock, callback_data.id)
        else:
            raise svc.not_available()
    except DomainError as exc:
        try:
            await callback.answer(exc.user_message(), show_alert=True)
        except TelegramBadRequest:
            # Already answered (the change was saved, the fresh screen was not): say it plainly.
            await bot.send_message(viewer.telegram_id, exc.user_message() or "")


async def _write_back(
    callback: CallbackQuery,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    clock: Clock,
    message_id: int,
) -> None:
    """A letter back to the sender of a received letter or task, subject «Re: …»."""
    async with db.read() as session:
        view = await svc.open_message(
            session, viewer.user_id, message_id, clock.now(), mark_read=False
        )
    if view.mine is None or view.message.kind == MessageKind.announcement:
        raise svc.not_available()
    subject = view.message.subject
    if not subject.lower().startswith("re:"):
        subject = "Re: " + subject
    draft = Draft(
        kind=MessageKind.letter,
        subject=subject[: svc.SUBJECT_MAX],
        targets=[(Target.person.value, view.message.sender_id)],
        reply_to=view.message.id,
    )
    await callback.answer()
    await state.clear()
    await state.update_data({DRAFT_KEY: draft.to_dict()})
    await messages_compose.ask_body(callback, state, draft)


# ---- the reply to a task ---------------------------------------------------------------------


async def _ask_task_reply(
    callback: CallbackQuery,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    clock: Clock,
    message_id: int,
) -> None:
    async with db.read() as session:
        view = await svc.open_message(
            session, viewer.user_id, message_id, clock.now(), mark_read=False
        )
    if view.mine is None or view.message.kind != MessageKind.task:
        raise svc.not_available()
    if view.message.task_status == TaskStatus.closed:
        await callback.answer(
            _("The sender has closed this task: its status can no longer be changed."),
            show_alert=True,
        )
        return
    await callback.answer()
    await state.clear()
    await state.set_state(TaskReply.text)
    await state.update_data(mail_task=message_id)
    await show(
        callback,
        _("💬 Type your reply to the task «{subject}» (at most {n} characters):").format(
            subject=esc(view.message.subject), n=svc.REPLY_MAX
        ),
        _kb([button(_("✖️ Cancel"), MailCb(a="open", id=message_id))]),
    )


async def on_task_reply(
    message: Message,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """The reply to a task, typed after «Reply to the task»."""
    data = await state.get_data()
    message_id = data.get("mail_task")
    if not isinstance(message_id, int):
        # The dialogue outlived its data (a restart, an expired storage key): say so.
        await state.clear()
        await message.answer(
            _("This action is not available."),
            reply_markup=_kb([button(_("✉️ Messages"), MailCb(a="home"))]),
        )
        return
    try:
        async with db.write() as session:
            await svc.set_task_reply(
                session, viewer.user_id, message_id, message.text or "", clock.now()
            )
    except DomainError as exc:
        if exc.code == "reply_long":
            await message.answer(exc.user_message() or "")
            return
        await state.clear()
        await message.answer(exc.user_message() or "")
        return
    await state.clear()
    await message.answer(
        _("✅ Your reply is saved; the sender sees it on the task board."),
        reply_markup=_kb([button(_("Open the task"), MailCb(a="open", id=message_id))]),
    )


async def on_task_reply_other(message: Message) -> None:
    """Not text where the reply to a task is expected."""
    await message.answer(_("Type the reply as a text message."))


# ---- pushes ----------------------------------------------------------------------------------


@renderer(svc.TEMPLATE_NEW)
def render_new_message(params: dict[str, Any], locale: str) -> Rendered:
    try:
        kind = MessageKind(params.get("kind", "letter"))
    except ValueError:
        kind = MessageKind.letter
    title = {
        MessageKind.letter: _("📨 New letter"),
        MessageKind.task: _("📋 New task"),
        MessageKind.announcement: _("📢 New announcement"),
    }[kind]
    lines = [
        f"<b>{title}</b>",
        _("From: {name}").format(name=esc(params.get("sender", ""))),
        _("Subject: {subject}").format(subject=esc(params.get("subject", ""))),
    ]
    if params.get("attachments"):
        lines.append(_("Attachments: {count}").format(count=int(params["attachments"])))
    return Rendered(
        text="\n".join(lines),
        buttons=[[button(_("Open"), MailCb(a="open", id=int(params["message_id"])))]],
    )


@renderer(svc.TEMPLATE_DONE)
def render_broadcast_done(params: dict[str, Any], locale: str) -> Rendered:
    def n(key: str) -> str:
        return fmt_number(int(params.get(key, 0)), locale, 0)

    text = "\n".join(
        [
            _("📊 <b>The announcement has been delivered</b>"),
            _("Subject: {subject}").format(subject=esc(params.get("subject", ""))),
            _("Recipients: {count}").format(count=n("recipients")),
            _("Delivered: {count}").format(count=n("delivered")),
            _("Failed: {count}").format(count=n("failed")),
            _("Not sent (notifications off, no Telegram, expired): {count}").format(
                count=n("not_sent")
            ),
        ]
    )
    return Rendered(
        text=text,
        buttons=[[button(_("Open"), MailCb(a="open", id=int(params["message_id"])))]],
    )


# ---- module ----------------------------------------------------------------------------------


async def home_lines(ctx: HomeContext) -> list[str]:
    counts = await svc.unread_counts(ctx.session, ctx.viewer.user_id, ctx.now)
    parts = _unread_parts(counts)
    if not parts:
        return []
    return ["✉️ " + _("Unread: {list}").format(list=", ".join(parts))]


def get_router() -> Router:
    router = Router(name="messages")
    router.message.register(cmd_messages, Command("messages"))
    router.callback_query.register(on_nav, NavCb.filter(F.to == "messages"))
    router.callback_query.register(on_mail, MailCb.filter())
    router.message.register(
        on_task_reply, StateFilter(TaskReply.text), F.text, ~F.text.startswith("/")
    )
    router.message.register(on_task_reply_other, StateFilter(TaskReply.text), ~F.text)
    router.include_router(messages_compose.get_router())
    return router


MODULE = Module(
    name="messages",
    router=get_router,
    menu=(MenuItem(to="messages", label=lambda: _("✉️ Messages"), order=60),),
    home_lines=home_lines,
    commands=(("messages", lambda: _("Messages: letters, tasks and announcements")),),
)

__all__ = ["MODULE", "get_router"]
