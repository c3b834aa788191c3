"""The routers of every module and the order in which they see updates."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.utils.i18n import gettext as _

from bot.filters import SignedIn
from bot.handlers import admin as admin_handlers
from bot.handlers import appeals as appeals_handlers
from bot.handlers import appeals_staff as appeals_staff_handlers
from bot.handlers import attendance as attendance_handlers
from bot.handlers import auth, common, home, password_gate, settings, testing_staff
from bot.handlers import calendar as calendar_handlers
from bot.handlers import classrooms as classrooms_handlers
from bot.handlers import exports as exports_handlers
from bot.handlers import grade_sheet as grade_sheet_handlers
from bot.handlers import journal as journal_handlers
from bot.handlers import library as library_handlers
from bot.handlers import messages as messages_handlers
from bot.handlers import notifications as notifications_handlers
from bot.handlers import service_centre as service_centre_handlers
from bot.handlers import service_centre_staff as service_centre_staff_handlers
from bot.handlers import teacher_journal as teacher_journal_handlers
from bot.handlers import testing as testing_handlers
from bot.handlers import timetable as timetable_handlers
from bot.handlers import transcript as transcript_handlers
from bot.modules import Module

HOME = Module(
    name="home",
    router=home.get_router,
    commands=(("menu", lambda: _("Home: the menu of all sections")),),
)

# Feature modules: each adds its router, home-menu buttons and home summary.
MODULES: tuple[Module, ...] = (
    HOME,
    settings.MODULE,
    notifications_handlers.MODULE,
    journal_handlers.MODULE,
    teacher_journal_handlers.MODULE,
    grade_sheet_handlers.MODULE,
    timetable_handlers.MODULE,
    calendar_handlers.MODULE,
    transcript_handlers.MODULE,
    classrooms_handlers.MODULE,
    library_handlers.MODULE,
    attendance_handlers.MODULE,
    messages_handlers.MODULE,
    testing_handlers.MODULE,
    testing_staff.MODULE,
    appeals_handlers.MODULE,
    appeals_staff_handlers.MODULE,
    service_centre_handlers.MODULE,
    service_centre_staff_handlers.MODULE,
    admin_handlers.MODULE,
    exports_handlers.MODULE,
)


def build_root_router(modules: tuple[Module, ...] = MODULES) -> Router:
    """Groups first, then the private chat: sign-in, the modules (signed-in only), fallbacks."""
    root = Router(name="root")
    root.include_router(common.get_error_router())
    # Before everything else: a person with a one-time password can only set their own.
    root.include_router(password_gate.get_router())
    for module in modules:
        if module.root_router is not None:
            root.include_router(module.root_router())
    root.include_router(common.get_group_router())

    private = Router(name="private")
    private.message.filter(F.chat.type == ChatType.PRIVATE)
    # A press on a message sent through inline mode carries no message at all: still ours.
    private.callback_query.filter(
        ~F.message.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP, ChatType.CHANNEL})
    )
    for module in modules:
        if module.public_router is not None:
            private.include_router(module.public_router())
    private.include_router(auth.get_router())

    signed_in = Router(name="signed_in")
    signed_in.message.filter(SignedIn())
    signed_in.callback_query.filter(SignedIn())
    for module in modules:
        signed_in.include_router(module.router())
    private.include_router(signed_in)

    private.include_router(common.get_fallback_router())
    root.include_router(private)
    return root
