"""Home (§4.1): who you are, what needs attention, and the menu of modules."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from bot.clock import Clock
from bot.config import Settings
from bot.keyboards.common import NavCb, rows
from bot.modules import HomeContext, Module
from bot.services.auth import MIN_PASSWORD_LENGTH, Viewer
from bot.ui import esc, show
from db.models import Group, Role, Student
from db.session import Database

log = logging.getLogger(__name__)


def role_name(role: Role) -> str:
    return {
        Role.student: _("student"),
        Role.teacher: _("teacher"),
        Role.staff: _("staff"),
        Role.admin: _("administrator"),
    }[role]


async def _student_line(session: object, viewer: Viewer) -> str | None:
    if viewer.student_id is None:
        return None
    student = await session.scalar(  # type: ignore[attr-defined]
        select(Student)
        .where(Student.id == viewer.student_id)
        .options(joinedload(Student.group).joinedload(Group.programme))
    )
    if student is None:
        return None
    locale = get_i18n().current_locale
    return _("Group {group} · year {course} · {programme}").format(
        group=esc(student.group.code),
        course=student.group.course,
        programme=esc(student.group.programme.name(locale)),
    )


def home_keyboard(viewer: Viewer, modules: tuple[Module, ...]) -> InlineKeyboardMarkup:
    items = sorted(
        (item for module in modules for item in module.menu if viewer.role in item.roles),
        key=lambda item: item.order,
    )
    buttons = [
        InlineKeyboardButton(text=item.label(), callback_data=NavCb(to=item.to).pack())
        for item in items
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows(buttons, per_row=2))


async def render_home(
    db: Database, viewer: Viewer, settings: Settings, modules: tuple[Module, ...], clock: Clock
) -> tuple[str, InlineKeyboardMarkup]:
    locale = get_i18n().current_locale
    lines = [f"🏠 <b>{esc(viewer.full_name or viewer.login)}</b>"]
    async with db.read() as session:
        student_line = await _student_line(session, viewer)
        if student_line:
            lines.append(student_line)
        else:
            lines.append(_("Role: {role}").format(role=role_name(viewer.role)))
        ctx = HomeContext(
            session=session, viewer=viewer, settings=settings, now=clock.now(), locale=locale
        )
        glance: list[str] = []
        for module in modules:
            if module.home_lines is None:
                continue
            try:
                glance.extend(await module.home_lines(ctx))
            except Exception:
                # One module's summary failing must not take the whole home screen down.
                log.exception("home summary of module %s failed", module.name)
    if glance:
        lines.append("")
        lines.extend(glance)
    lines.append("")
    lines.append(_("Choose a section:"))
    return "\n".join(lines), home_keyboard(viewer, modules)


def forced_password_screen() -> tuple[str, InlineKeyboardMarkup | None]:
    """What a person with a one-time password sees instead of everything else."""
    text = _(
        "<b>Set your own password</b>\n\n"
        "You signed in with a one-time password from the Registrar's office. Until you choose "
        "your own password, nothing else is available.\n\n"
        "Type a <b>new password</b> (at least {n} characters). The message is deleted right away."
    ).format(n=MIN_PASSWORD_LENGTH)
    return text, None


async def open_home(
    event: Message | CallbackQuery,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    modules: tuple[Module, ...],
    clock: Clock,
    *,
    greet: bool = False,
) -> None:
    if viewer.must_change_password:
        text, keyboard = forced_password_screen()
    else:
        text, keyboard = await render_home(db, viewer, settings, modules, clock)
        if greet:
            text = _("You are signed in.") + "\n\n" + text
    await show(event, text, keyboard)


async def cmd_menu(
    message: Message,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    modules: tuple[Module, ...],
    clock: Clock,
) -> None:
    """/menu: leave whatever dialogue is open and go home."""
    await state.clear()
    await open_home(message, viewer, db, settings, modules, clock)


async def on_home(
    callback: CallbackQuery,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    modules: tuple[Module, ...],
    clock: Clock,
) -> None:
    """The home / back-to-home button."""
    await state.clear()
    await callback.answer()
    await open_home(callback, viewer, db, settings, modules, clock)


def get_router() -> Router:
    router = Router(name="home")
    router.message.register(cmd_menu, Command("menu"))
    router.callback_query.register(on_home, NavCb.filter(F.to == "home"))
    return router
