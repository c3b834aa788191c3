"""Administration for admins: importing data files, accounts (roles, sub-roles, passwords,
blocking) and the audit log of staff actions. Staff see the audit log too.

Staff and admins get their own command menu in Telegram (a per-chat command scope), set when
they sign in or their role changes and removed when they sign out or lose the role.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.commands import STAFF, sync_commands
from bot.config import Settings
from bot.downloads import DownloadRefused, download_bounded
from bot.ended_sessions import tell_ended_session
from bot.filters import SignedIn
from bot.i18n import fmt_datetime
from bot.importer import KINDS, FileProblem, ImportReport, kind_named, passwords_csv, run_import
from bot.importer.messages import file_problem_text, reason_text
from bot.importer.reader import MAX_FILE_BYTES, read_table_bounded
from bot.keyboards.common import NavCb, PageCb, back_button, markup, pager_row
from bot.modules import MenuItem, Module
from bot.services import audit, roles
from bot.services.auth import Viewer
from bot.services.errors import DomainError
from bot.services.roles import EndedSession
from bot.ui import esc, show, split_text
from db.models import Role, User
from db.models.admin import SubRole
from db.session import Database

log = logging.getLogger(__name__)

MAX_PROBLEMS_SHOWN = 15
MAX_LOGIN_INPUT = 64
ADMIN_ONLY = frozenset({Role.admin})


class AdmCb(CallbackData, prefix="adm"):
    """Import and account actions; `u` is an account id, `v` a choice (a kind, a role...)."""

    a: str
    u: int = 0
    v: str = ""


class ImportFlow(StatesGroup):
    file = State()
    kind = State()
    review = State()


class AccountFlow(StatesGroup):
    login = State()


def kind_labels() -> dict[str, str]:
    return {
        "faculties": _("Faculties"),
        "programmes": _("Programmes"),
        "study_forms": _("Forms of study"),
        "periods": _("Academic periods"),
        "groups": _("Groups"),
        "disciplines": _("Disciplines"),
        "teachers": _("Teachers"),
        "staff": _("Staff"),
        "students": _("Students"),
        "assignments": _("Teaching assignments"),
        "timetable": _("Timetable"),
        "grades": _("Grades"),
        "attendance": _("Attendance"),
        "calendars": _("Academic calendars"),
        "library": _("Library catalogue"),
        "services": _("Service catalogue"),
        "question_banks": _("Question banks"),
    }


def role_label(role: Role) -> str:
    return {
        Role.student: _("student"),
        Role.teacher: _("teacher"),
        Role.staff: _("staff"),
        Role.admin: _("admin"),
    }[role]


def sub_role_label(sub_role: SubRole) -> str:
    return {
        SubRole.registrar: _("Registrar's office"),
        SubRole.service_centre: _("Service centre"),
        SubRole.deans_office: _("Dean's office"),
        SubRole.appeal_commission: _("Appeal commission"),
    }[sub_role]


def action_label(action: str) -> str:
    labels = {
        "user.create": _("account created"),
        "user.role": _("role changed"),
        "user.sub_role": _("sub-role changed"),
        "user.sub_roles": _("sub-roles set"),
        "user.block": _("account blocked"),
        "user.unblock": _("account unblocked"),
        "user.reset_password": _("password reset"),
    }
    if action in labels:
        return labels[action]
    if action.startswith("import."):
        kind = action.removeprefix("import.")
        return _("import: {kind}").format(kind=kind_labels().get(kind, kind))
    return action


# ---- the command menu of staff ---------------------------------------------------------------


async def _sync_user(
    bot: Bot, i18n: I18n, modules: tuple[Module, ...], db: Database, user_id: int
) -> None:
    async with db.read() as session:
        user = await session.get(User, user_id)
        if user is None or user.telegram_id is None:
            return
        chat_id, role, locale = user.telegram_id, user.role, user.locale
        if user.is_blocked:
            role = None
    await sync_commands(bot, i18n, modules, chat_id, role, locale)


# ---- the administration screen ---------------------------------------------------------------


def _admin_screen() -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "<b>Administration</b>\n\n"
        "Import the university's data from CSV or .xlsx files, manage accounts and read the "
        "audit log of staff actions."
    )
    keyboard = markup(
        [InlineKeyboardButton(text=_("📥 Import data"), callback_data=AdmCb(a="imp").pack())],
        [InlineKeyboardButton(text=_("👥 Accounts"), callback_data=AdmCb(a="acc").pack())],
        [InlineKeyboardButton(text=_("📜 Audit log"), callback_data=PageCb(scope="audit").pack())],
        [back_button()],
    )
    return text, keyboard


async def on_open(callback: CallbackQuery, state: FSMContext) -> None:
    """The administration button of the home screen."""
    await state.clear()
    await callback.answer()
    text, keyboard = _admin_screen()
    await show(callback, text, keyboard)


async def cmd_admin(message: Message, state: FSMContext) -> None:
    """/admin: the administration screen."""
    await state.clear()
    text, keyboard = _admin_screen()
    await show(message, text, keyboard)


async def not_admin(event: Message | CallbackQuery) -> None:
    """An administration command or button from someone who is not an admin."""
    text = _("This is for administrators only.")
    if isinstance(event, CallbackQuery):
        await event.answer(text, show_alert=True)
    else:
        await event.answer(text)


# ---- import ----------------------------------------------------------------------------------


def _import_prompt() -> tuple[str, InlineKeyboardMarkup]:
    names = ", ".join(f"<code>{name}</code>" for name in KINDS)
    text = _(
        "<b>Import data</b>\n\n"
        "Send a CSV or .xlsx file. Write its kind in the caption ({kinds}) or choose it after "
        "sending. You will see what would change before anything is saved.\n\n"
        "The columns of each kind are described in docs/import/README.md."
    ).format(kinds=names)
    return text, markup([back_button("admin")])


async def start_import(event: Message | CallbackQuery, state: FSMContext) -> None:
    """/import or the import button: wait for a file."""
    await state.clear()
    await state.set_state(ImportFlow.file)
    if isinstance(event, CallbackQuery):
        await event.answer()
    text, keyboard = _import_prompt()
    await show(event, text, keyboard)


async def on_file(
    message: Message, state: FSMContext, bot: Bot, db: Database, viewer: Viewer, clock: Clock
) -> None:
    """A document while waiting for an import file (or with a caption naming a kind)."""
    document = message.document
    assert document is not None
    try:
        data = await download_bounded(bot, document.file_id, document.file_size, MAX_FILE_BYTES)
        await read_table_bounded(data, document.file_name or "")
    except DownloadRefused as exc:
        await message.answer(_download_refusal(exc.reason))
        return
    except FileProblem as exc:
        await message.answer(file_problem_text(exc.reason, exc.params))
        return
    kind = kind_named(message.caption or "") if message.caption else None
    await state.set_data(
        {
            "file_id": document.file_id,
            "file_name": (document.file_name or "import.csv")[:120],
            "skip": False,
            "token": secrets.token_hex(4),
        }
    )
    if kind is None:
        await state.set_state(ImportFlow.kind)
        labels = kind_labels()
        buttons = [
            InlineKeyboardButton(text=labels[name], callback_data=AdmCb(a="k", v=name).pack())
            for name in KINDS
        ]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        rows.append([InlineKeyboardButton(text=_("✖ Cancel"), callback_data=AdmCb(a="x").pack())])
        await message.answer(
            _("What is in <b>{name}</b>?").format(name=esc(document.file_name or "")),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
        )
        return
    await state.update_data(kind=kind.name)
    await _dry_run(message, state, bot, db, viewer, clock)


async def on_kind(
    callback: CallbackQuery,
    callback_data: AdmCb,
    state: FSMContext,
    bot: Bot,
    db: Database,
    viewer: Viewer,
    clock: Clock,
) -> None:
    """The kind of the file sent, chosen from the list."""
    if callback_data.v not in KINDS or not (await state.get_data()).get("file_id"):
        await callback.answer(_("This button is no longer available."), show_alert=True)
        return
    await callback.answer()
    await state.update_data(kind=callback_data.v)
    await _dry_run(callback, state, bot, db, viewer, clock)


def _download_refusal(reason: str) -> str:
    if reason == "too_big":
        return file_problem_text("too_big", {"limit_mb": MAX_FILE_BYTES // (1024 * 1024)})
    return file_problem_text("unavailable", {})


async def _execute(
    data: dict[str, Any], bot: Bot, db: Database, user_id: int, clock: Clock, *, dry_run: bool
) -> ImportReport | str:
    """Run the import of the file kept in the dialogue (fetched again from Telegram, so no
    file content waits in the dialogue's storage)."""
    if not all(
        isinstance(data.get(key), str) for key in ("file_id", "kind", "file_name", "token")
    ):
        # The dialogue outlived its data (a restart, an expired storage key).
        return _("This import is no longer open. Please send the file again.")
    try:
        content = await download_bounded(bot, data["file_id"], None, MAX_FILE_BYTES)
    except DownloadRefused as exc:
        return _download_refusal(exc.reason)
    try:
        return await run_import(
            db,
            data["kind"],
            content,
            filename=data["file_name"],
            dry_run=dry_run,
            skip_bad_rows=bool(data.get("skip")),
            actor_user_id=user_id,
            now=clock.now(),
        )
    except FileProblem as exc:
        return file_problem_text(exc.reason, exc.params)


async def _show_pages(
    event: Message | CallbackQuery, bot: Bot, pages: list[str], keyboard: InlineKeyboardMarkup
) -> None:
    assert event.from_user is not None
    for page in pages[:-1]:
        await bot.send_message(event.from_user.id, page)
    await show(event, pages[-1], keyboard)


async def _dry_run(
    event: Message | CallbackQuery,
    state: FSMContext,
    bot: Bot,
    db: Database,
    viewer: Viewer,
    clock: Clock,
) -> None:
    data = await state.get_data()
    report = await _execute(data, bot, db, viewer.user_id, clock, dry_run=True)
    if isinstance(report, str):
        await state.clear()
        await show(event, report, markup([back_button("admin")]))
        return
    await state.set_state(ImportFlow.review)
    token = data["token"]
    rows: list[list[InlineKeyboardButton]] = []
    if (report.created or report.updated) and (not report.problems or data.get("skip")):
        rows.append(
            [InlineKeyboardButton(text=_("✅ Apply"), callback_data=AdmCb(a="ok", v=token).pack())]
        )
    if report.problems and any(p.line > 1 for p in report.problems):
        label = _("☑️ Skip bad rows") if data.get("skip") else _("⬜ Skip bad rows")
        rows.append(
            [InlineKeyboardButton(text=label, callback_data=AdmCb(a="sk", v=token).pack())]
        )
    rows.append([InlineKeyboardButton(text=_("✖ Cancel"), callback_data=AdmCb(a="x").pack())])
    pages = split_text([_report_text(report, data["file_name"])])
    await _show_pages(event, bot, pages, InlineKeyboardMarkup(inline_keyboard=rows))
    await _send_full_problems(event, bot, report, data["file_name"])


def _problem_line(problem: Any) -> str:
    text = _("• line {line}, column «{column}»: {reason}").format(
        line=problem.line, column=problem.column, reason=reason_text(problem)
    )
    return text + (" «" + problem.value + "»" if problem.value else "")


async def _send_full_problems(
    event: Message | CallbackQuery, bot: Bot, report: ImportReport, file_name: str
) -> None:
    """Every problem of a report longer than the screen shows, as one plain-text file."""
    if len(report.problems) <= MAX_PROBLEMS_SHOWN:
        return
    assert event.from_user is not None
    head = _("File: {name}").format(name=file_name)
    body = "\n".join([head, "", *(_problem_line(p) for p in report.problems)]) + "\n"
    await bot.send_document(
        event.from_user.id,
        BufferedInputFile(body.encode("utf-8"), filename="import-problems.txt"),
    )


def _report_text(report: ImportReport, file_name: str) -> str:
    kind = kind_labels().get(report.kind, report.kind)
    if report.dry_run:
        head = _("<b>Import: {kind}</b> — check before saving").format(kind=esc(kind))
    elif report.applied:
        head = _("<b>Import: {kind}</b> — saved").format(kind=esc(kind))
    else:
        head = _("<b>Import: {kind}</b> — refused, nothing was saved").format(kind=esc(kind))
    lines = [
        head,
        _("File: {name}").format(name=esc(file_name)),
        "",
        _(
            "Rows: {rows} · new: {created} · changed: {updated} · unchanged: {unchanged} · "
            "refused: {refused}"
        ).format(
            rows=report.rows,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            refused=report.refused,
        ),
    ]
    if report.ignored_columns:
        lines.append(
            _("Columns not read: {columns}").format(columns=esc(", ".join(report.ignored_columns)))
        )
    if report.changes:
        lines += ["", _("<b>Changes</b> (the first {n}):").format(n=len(report.changes))]
        for change in report.changes:
            if change.action == "created":
                lines.append(
                    _("• line {line}: new — {label}").format(
                        line=change.line, label=esc(change.label)
                    )
                )
            else:
                lines.append(
                    _("• line {line}: changed — {label} ({fields})").format(
                        line=change.line,
                        label=esc(change.label),
                        fields=esc(", ".join(change.fields)),
                    )
                )
    if report.problems:
        lines += ["", _("<b>Problems</b>:")]
        lines += [esc(_problem_line(p)) for p in report.problems[:MAX_PROBLEMS_SHOWN]]
        if len(report.problems) > MAX_PROBLEMS_SHOWN:
            lines.append(
                _("…and {n} more: the whole report is in the file below.").format(
                    n=len(report.problems) - MAX_PROBLEMS_SHOWN
                )
            )
        if report.dry_run:
            lines += [
                "",
                _(
                    "One bad row refuses the whole file: fix the file and send it again, or "
                    "skip the bad rows."
                ),
            ]
    if report.dry_run and not report.created and not report.updated and not report.problems:
        lines += ["", _("Nothing to change: the data is already up to date.")]
    return "\n".join(lines)


async def _open_import(
    callback: CallbackQuery, callback_data: AdmCb, state: FSMContext
) -> dict[str, Any] | None:
    """The dialogue's data if this button belongs to the import still open, else a refusal
    (a second press of Apply, or a button of an import already finished or cancelled)."""
    data = await state.get_data()
    if data.get("token") != callback_data.v or not data.get("kind"):
        await callback.answer(_("This import is already finished or cancelled."), show_alert=True)
        return None
    return data


async def on_skip(
    callback: CallbackQuery,
    callback_data: AdmCb,
    state: FSMContext,
    bot: Bot,
    db: Database,
    viewer: Viewer,
    clock: Clock,
) -> None:
    """Toggle "skip bad rows" and show the dry run again."""
    data = await _open_import(callback, callback_data, state)
    if data is None:
        return
    await callback.answer()
    await state.update_data(skip=not data.get("skip"))
    await _dry_run(callback, state, bot, db, viewer, clock)


async def on_apply(
    callback: CallbackQuery,
    callback_data: AdmCb,
    state: FSMContext,
    bot: Bot,
    db: Database,
    viewer: Viewer,
    clock: Clock,
) -> None:
    """Apply the import that was checked; a second press finds the state gone."""
    data = await _open_import(callback, callback_data, state)
    if data is None:
        return
    await state.clear()
    await callback.answer()
    report = await _execute(data, bot, db, viewer.user_id, clock, dry_run=False)
    if isinstance(report, str):
        await show(callback, report, markup([back_button("admin")]))
        return
    pages = split_text([_report_text(report, data["file_name"])])
    await _show_pages(
        callback,
        bot,
        pages,
        markup(
            [
                InlineKeyboardButton(
                    text=_("📥 Import another file"), callback_data=AdmCb(a="imp").pack()
                )
            ],
            [back_button("admin")],
        ),
    )
    await _send_full_problems(callback, bot, report, data["file_name"])
    if report.passwords:
        await bot.send_document(
            callback.from_user.id,
            BufferedInputFile(passwords_csv(report.passwords), filename="one-time-passwords.csv"),
            caption=_(
                "One-time passwords of the {n} new accounts, for the registrar to hand out. "
                "Each person must choose their own password at the first sign-in. Keep this "
                "file safe and delete it once the passwords are handed out."
            ).format(n=len(report.passwords)),
            protect_content=True,
        )


async def on_cancel(callback: CallbackQuery, state: FSMContext) -> None:
    """Cancel an import (nothing was saved)."""
    await state.clear()
    await callback.answer(_("Cancelled: nothing was saved."))
    text, keyboard = _admin_screen()
    await show(callback, text, keyboard)


async def on_not_a_file(message: Message) -> None:
    """Anything but a document while an import file is expected."""
    await message.answer(
        _("Please send the data as a file (CSV or .xlsx), or press « Back."),
        reply_markup=markup([back_button("admin")]),
    )


# ---- accounts --------------------------------------------------------------------------------


async def start_accounts(event: Message | CallbackQuery, state: FSMContext) -> None:
    """/accounts or the accounts button: ask for a login."""
    await state.clear()
    await state.set_state(AccountFlow.login)
    if isinstance(event, CallbackQuery):
        await event.answer()
    await show(
        event,
        _("<b>Accounts</b>\n\nSend the login of the account."),
        markup([back_button("admin")]),
    )


async def on_login(message: Message, state: FSMContext, db: Database) -> None:
    """The login of the account to manage."""
    login = (message.text or "").strip()
    if not login or len(login) > MAX_LOGIN_INPUT or any(ch.isspace() for ch in login):
        await message.answer(_("A login is one word without spaces. Send the login:"))
        return
    async with db.read() as session:
        user = await roles.find_user(session, login)
        if user is None:
            await message.answer(
                _("There is no account with the login {login}. Send another login:").format(
                    login=esc(login)
                ),
                reply_markup=markup([back_button("admin")]),
            )
            return
        text, keyboard = await _account_card(session, user)
    await state.clear()
    await message.answer(text, reply_markup=keyboard)


async def _account_card(session: Any, user: User) -> tuple[str, InlineKeyboardMarkup]:
    held = await roles.sub_roles(session, user.id)
    lines = [
        _("<b>{name}</b>").format(name=esc(user.full_name or user.login)),
        _("Login: <code>{login}</code>").format(login=esc(user.login)),
        _("Role: {role}").format(role=role_label(user.role)),
    ]
    if user.role in STAFF:
        shown = ", ".join(sub_role_label(s) for s in SubRole if s in held) or "—"
        lines.append(_("Sub-roles: {list}").format(list=esc(shown)))
    lines.append(_("Status: blocked") if user.is_blocked else _("Status: active"))
    lines.append(_("Telegram: signed in") if user.telegram_id else _("Telegram: not signed in"))
    if user.must_change_password:
        lines.append(_("Must choose a new password at the next sign-in."))
    role_buttons = [
        InlineKeyboardButton(
            text=("• " if user.role is role else "") + role_label(role),
            callback_data=AdmCb(a="role", u=user.id, v=role.value).pack(),
        )
        for role in Role
    ]
    rows = [role_buttons[:2], role_buttons[2:]]
    if user.role in STAFF:
        for sub_role in SubRole:
            mark = "✅ " if sub_role in held else "⬜ "
            rows.append(
                [
                    InlineKeyboardButton(
                        text=mark + sub_role_label(sub_role),
                        callback_data=AdmCb(a="sub", u=user.id, v=sub_role.value).pack(),
                    )
                ]
            )
    rows.append(
        [
            InlineKeyboardButton(
                text=_("🔑 Reset password"), callback_data=AdmCb(a="rp", u=user.id).pack()
            )
        ]
    )
    rows.append(
        [
            InlineKeyboardButton(
                text=_("✅ Unblock") if user.is_blocked else _("🚫 Block"),
                callback_data=AdmCb(a="unb" if user.is_blocked else "blk", u=user.id).pack(),
            )
        ]
    )
    rows.append(
        [
            InlineKeyboardButton(
                text=_("👥 Another account"), callback_data=AdmCb(a="acc").pack()
            ),
            back_button("admin"),
        ]
    )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def _refresh_card(callback: CallbackQuery, db: Database, user_id: int) -> None:
    async with db.read() as session:
        user = await session.get(User, user_id)
        if user is None:
            await callback.answer(_("There is no such account."), show_alert=True)
            return
        text, keyboard = await _account_card(session, user)
    await show(callback, text, keyboard)


async def on_account_action(
    callback: CallbackQuery,
    callback_data: AdmCb,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    bot: Bot,
    i18n: I18n,
    modules: tuple[Module, ...],
) -> None:
    """Role, sub-role, block and unblock buttons of an account card."""
    action, user_id, value = callback_data.a, callback_data.u, callback_data.v
    now = clock.now()
    notice = _("Saved.")
    ended: EndedSession | None = None
    try:
        async with db.write() as session:
            if action == "role":
                try:
                    role = Role(value)
                except ValueError:
                    raise DomainError(
                        "stale", lambda: _("This button is no longer available.")
                    ) from None
                change = await roles.set_role(
                    session, actor_user_id=viewer.user_id, user_id=user_id, role=role, now=now
                )
                if change is None:
                    notice = _("The account already has this role.")
                elif change.ended is not None:
                    ended = change.ended
                    notice = _("Role changed; the person is signed out of Telegram.")
            elif action == "sub":
                try:
                    sub_role = SubRole(value)
                except ValueError:
                    raise DomainError(
                        "stale", lambda: _("This button is no longer available.")
                    ) from None
                await roles.toggle_sub_role(
                    session,
                    actor_user_id=viewer.user_id,
                    user_id=user_id,
                    sub_role=sub_role,
                    now=now,
                )
            else:
                blocked = action == "blk"
                change = await roles.set_blocked(
                    session,
                    actor_user_id=viewer.user_id,
                    user_id=user_id,
                    blocked=blocked,
                    now=now,
                )
                if change is None:
                    notice = _("Nothing to change.")
                elif change.ended is not None:
                    ended = change.ended
                    notice = _("Blocked and signed out of Telegram.")
    except DomainError as exc:
        await callback.answer(exc.user_message() or _("This cannot be done."), show_alert=True)
        return
    await callback.answer(notice)
    if ended is not None:
        await tell_ended_session(bot, i18n, ended)
    else:
        await _sync_user(bot, i18n, modules, db, user_id)
    await _refresh_card(callback, db, user_id)


async def on_reset_ask(callback: CallbackQuery, callback_data: AdmCb, db: Database) -> None:
    """Ask before issuing a one-time password (the current one stops working)."""
    async with db.read() as session:
        user = await session.get(User, callback_data.u)
    if user is None:
        await callback.answer(_("There is no such account."), show_alert=True)
        return
    await callback.answer()
    await show(
        callback,
        _(
            "Reset the password of <code>{login}</code>? The current password stops working; "
            "you get a one-time password to hand over, and the person chooses a new one at the "
            "next sign-in."
        ).format(login=esc(user.login)),
        markup(
            [
                InlineKeyboardButton(
                    text=_("🔑 Yes, reset"), callback_data=AdmCb(a="rpy", u=user.id).pack()
                ),
                InlineKeyboardButton(
                    text=_("« Back"), callback_data=AdmCb(a="card", u=user.id).pack()
                ),
            ]
        ),
    )


async def on_reset(
    callback: CallbackQuery,
    callback_data: AdmCb,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    bot: Bot,
    i18n: I18n,
) -> None:
    """Issue the one-time password, show it once, and sign the account out of Telegram."""
    one_time = await roles.new_one_time_password()
    try:
        async with db.write() as session:
            reset = await roles.reset_password(
                session,
                actor_user_id=viewer.user_id,
                user_id=callback_data.u,
                now=clock.now(),
                one_time=one_time,
            )
    except DomainError as exc:
        await callback.answer(exc.user_message() or _("This cannot be done."), show_alert=True)
        return
    login, password = reset.login, reset.password
    await callback.answer()
    if reset.ended is not None:
        await tell_ended_session(bot, i18n, reset.ended)
    await _refresh_card(callback, db, callback_data.u)
    # A message of its own that cannot be forwarded, so the card can be shown again safely.
    await bot.send_message(
        callback.from_user.id,
        _(
            "One-time password of <code>{login}</code>: <code>{password}</code>\n\n"
            "It is shown only this once. The person must choose a new password at the next "
            "sign-in."
        ).format(login=esc(login), password=esc(password)),
        protect_content=True,
    )


async def on_card(callback: CallbackQuery, callback_data: AdmCb, db: Database) -> None:
    """Back to an account card."""
    await callback.answer()
    await _refresh_card(callback, db, callback_data.u)


# ---- audit log -------------------------------------------------------------------------------


async def show_audit(
    event: Message | CallbackQuery, db: Database, settings: Settings, viewer: Viewer, page: int
) -> None:
    async with db.read() as session:
        lines, pages = await audit.page(session, page)
    page = min(max(page, 0), pages - 1)
    locale = viewer.locale or "ru"
    body = [_("<b>Audit log</b>")]
    if not lines:
        body.append(_("No staff actions yet."))
    for line in lines:
        details = ", ".join(f"{k}: {v}" for k, v in line.details.items())
        entry = _("{when} · {actor}: {action} — {target}").format(
            when=fmt_datetime(line.created_at, locale, settings.tz, "short"),
            actor=esc(line.actor_login if line.actor_login != "—" else _("command line")),
            action=esc(action_label(line.action)),
            target=esc(line.target),
        )
        if details:
            entry += f"\n<i>{esc(details[:300])}</i>"
        body.append(entry)
    back = back_button("admin") if viewer.role is Role.admin else back_button()
    keyboard = markup(pager_row("audit", 0, page, pages), [back])
    await show(event, "\n\n".join(body), keyboard)


async def on_audit_page(
    callback: CallbackQuery,
    callback_data: PageCb,
    db: Database,
    settings: Settings,
    viewer: Viewer,
) -> None:
    """A page of the audit log."""
    await callback.answer()
    await show_audit(callback, db, settings, viewer, callback_data.page)


async def cmd_audit(message: Message, db: Database, settings: Settings, viewer: Viewer) -> None:
    """/audit: the newest staff actions."""
    await show_audit(message, db, settings, viewer, 0)


async def on_nav_audit(
    callback: CallbackQuery, db: Database, settings: Settings, viewer: Viewer
) -> None:
    """The audit-log button of a staff member's home screen."""
    await callback.answer()
    await show_audit(callback, db, settings, viewer, 0)


def get_router() -> Router:
    router = Router(name="admin")

    staff = Router(name="admin_staff")
    staff.message.filter(SignedIn(Role.staff, Role.admin))
    staff.callback_query.filter(SignedIn(Role.staff, Role.admin))
    staff.message.register(cmd_audit, Command("audit"))
    staff.callback_query.register(on_audit_page, PageCb.filter(F.scope == "audit"))
    staff.callback_query.register(on_nav_audit, NavCb.filter(F.to == "audit"))

    admins = Router(name="admin_only")
    admins.message.filter(SignedIn(Role.admin))
    admins.callback_query.filter(SignedIn(Role.admin))
    admins.message.register(cmd_admin, Command("admin"))
    admins.message.register(start_import, Command("import"))
    admins.message.register(start_accounts, Command("accounts"))
    admins.callback_query.register(on_open, NavCb.filter(F.to == "admin"))
    admins.callback_query.register(start_import, AdmCb.filter(F.a == "imp"))
    admins.callback_query.register(start_accounts, AdmCb.filter(F.a == "acc"))
    admins.callback_query.register(on_kind, AdmCb.filter(F.a == "k"), StateFilter(ImportFlow.kind))
    admins.callback_query.register(on_skip, AdmCb.filter(F.a == "sk"))
    admins.callback_query.register(on_apply, AdmCb.filter(F.a == "ok"))
    admins.callback_query.register(on_cancel, AdmCb.filter(F.a == "x"))
    admins.callback_query.register(
        on_account_action, AdmCb.filter(F.a.in_({"role", "sub", "blk", "unb"}))
    )
    admins.callback_query.register(on_reset_ask, AdmCb.filter(F.a == "rp"))
    admins.callback_query.register(on_reset, AdmCb.filter(F.a == "rpy"))
    admins.callback_query.register(on_card, AdmCb.filter(F.a == "card"))
    admins.message.register(on_file, StateFilter(ImportFlow.file), F.document)
    admins.message.register(
        on_file, F.document, F.caption.func(lambda c: bool(c) and kind_named(c) is not None)
    )
    admins.message.register(on_not_a_file, StateFilter(ImportFlow.file))
    admins.message.register(on_login, StateFilter(AccountFlow.login), F.text)

    # Everyone else who tries an administration command or a forged button.
    others = Router(name="admin_refused")
    others.message.register(not_admin, Command("admin", "import", "accounts", "audit"))
    others.callback_query.register(not_admin, AdmCb.filter())
    others.callback_query.register(not_admin, NavCb.filter(F.to.in_({"admin", "audit"})))
    others.callback_query.register(not_admin, PageCb.filter(F.scope == "audit"))

    router.include_router(staff)
    router.include_router(admins)
    router.include_router(others)
    return router


MODULE = Module(
    name="admin",
    router=get_router,
    menu=(
        MenuItem(to="admin", label=lambda: _("🛠 Administration"), roles=ADMIN_ONLY, order=900),
        MenuItem(
            to="audit", label=lambda: _("📜 Audit log"), roles=frozenset({Role.staff}), order=900
        ),
    ),
)

__all__ = ["MODULE", "get_router"]
