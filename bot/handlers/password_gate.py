"""The one-time-password gate: until the person sets their own password, nothing else works.

An account with a one-time password (issued by the Registrar's office or by an administrator's
reset) is signed in only to choose its own password. This router comes first in the tree and sees
every update of such a person: /logout and /lang pass through; a typed text is taken as the new
password (deleted at once), then as its confirmation (deleted too); every other message, command,
button, file or inline query leads back to the password screen. Whatever a module adds later is
behind the gate without knowing about it.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineQuery,
    InlineQueryResultsButton,
    Message,
    TelegramObject,
)
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.handlers.home import forced_password_screen, open_home
from bot.handlers.settings import password_problem_text
from bot.keyboards.common import LangCb
from bot.modules import Module
from bot.services import auth, notify
from bot.services.auth import Viewer
from bot.ui import safe_delete, show
from db.session import Database

# What works with a one-time password: leaving, and reading the screen in another language.
PASSING_COMMANDS = r"^/(logout|lang)(@\w+)?(\s|$)"
COMMAND = r"^/\w+(@\w+)?(\s|$)"


class ForcedPassword(StatesGroup):
    confirm = State()


class MustChangePassword(Filter):
    """Passes for a signed-in person who still has a one-time password."""

    async def __call__(self, event: TelegramObject, viewer: Viewer | None = None) -> bool:
        return viewer is not None and viewer.must_change_password


async def show_password_screen(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.set_state(None)
    await state.update_data(forced_hash=None)
    text, keyboard = forced_password_screen()
    await show(event, text, keyboard)


async def on_new_password(
    message: Message, state: FSMContext, viewer: Viewer, db: Database
) -> None:
    """A text typed on the password screen: the new password, deleted at once."""
    await safe_delete(message)
    password = message.text or ""
    problem = auth.password_problem(password, viewer.login)
    if problem is None:
        async with db.read() as session:
            one_time = await auth.one_time_password_hash(session, viewer.user_id)
        # Verified with no unit open: argon2 runs in the hashing pool.
        if one_time is not None and await auth.verify_password(one_time, password):
            problem = auth.PasswordProblem.same_as_one_time
    if problem is not None:
        await message.answer(password_problem_text(problem) + "\n" + _("Enter another password:"))
        return
    await state.update_data(forced_hash=await auth.hash_password(password))
    await state.set_state(ForcedPassword.confirm)
    await message.answer(_("Enter the new password <b>once more</b> to confirm it."))


async def on_confirmation(
    message: Message,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    modules: tuple[Module, ...],
    clock: Clock,
) -> None:
    """The confirmation, deleted at once; a match replaces the one-time password."""
    await safe_delete(message)
    stored = (await state.get_data()).get("forced_hash") or ""
    if not stored or not await auth.verify_password(stored, message.text or ""):
        await state.set_state(None)
        await state.update_data(forced_hash=None)
        await message.answer(_("The passwords do not match. Enter the new password again:"))
        return
    async with db.write() as session:
        changed = await auth.set_own_password(session, viewer.user_id, stored)
        if changed:
            # Notices held while the password was one-time go out now (or after quiet hours).
            await notify.reevaluate_held(session, viewer.user_id, clock.now(), settings.tz)
    await state.clear()
    async with db.read() as session:
        fresh = await auth.load_viewer(session, viewer.telegram_id)
    if fresh is None:
        # Signed out meanwhile (a reset or a block): the fallback greets them next time.
        await message.answer(_("You are not signed in. Send /start to sign in."))
        return
    if changed:
        await message.answer(_("✅ Your sign-in settings have been saved."))
    await open_home(message, fresh, db, settings, modules, clock)


async def on_other_message(message: Message, state: FSMContext) -> None:
    """A command, a file or anything else: back to the password screen."""
    await show_password_screen(message, state)


async def on_group_message(message: Message) -> None:
    """Anything in a group chat from a person with a one-time password: ignored."""


async def on_callback(callback: CallbackQuery, state: FSMContext) -> None:
    """Any button but a language one: answered once, then the password screen."""
    await callback.answer(_("Set your own password first."))
    await show_password_screen(callback, state)


async def on_inline_query(inline_query: InlineQuery) -> None:
    """Inline mode: nothing to search until the password is set."""
    await inline_query.answer(
        [],
        cache_time=0,
        is_personal=True,
        button=InlineQueryResultsButton(
            text=_("Set your own password first."), start_parameter="password"
        ),
    )


def get_router() -> Router:
    router = Router(name="password_gate")
    gate = MustChangePassword()
    for observer in (router.message, router.callback_query, router.inline_query):
        observer.filter(gate)
    private = F.chat.type == ChatType.PRIVATE
    typed = F.text & ~F.text.regexp(COMMAND)
    router.message.register(on_group_message, ~private)
    router.message.register(on_confirmation, private, StateFilter(ForcedPassword.confirm), typed)
    router.message.register(on_new_password, private, typed)
    router.message.register(on_other_message, private, ~F.text.regexp(PASSING_COMMANDS))
    router.callback_query.register(on_callback, ~LangCb.filter())
    router.inline_query.register(on_inline_query)
    return router
