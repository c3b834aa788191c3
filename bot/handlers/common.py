"""What is left over: group chats, people who are not signed in, stale buttons, errors."""

from __future__ import annotations

import logging
import secrets

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import CommandStart, ExceptionTypeFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    ErrorEvent,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.filters import NotSignedIn
from bot.handlers.auth import start_sign_in
from bot.handlers.home import open_home
from bot.middlewares.callback_guard import press_answered
from bot.modules import Module
from bot.services.auth import Viewer
from bot.services.errors import DomainError
from db.session import Database

log = logging.getLogger(__name__)


async def in_group(message: Message, bot: Bot) -> None:
    """A command or a mention in a group: the AIS is personal, so point to the private chat."""
    me = await bot.me()
    keyboard = None
    if me.username:
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("Open the private chat"), url=f"https://t.me/{me.username}"
                    )
                ]
            ]
        )
    await message.reply(
        _(
            "I work in a private chat only: your grades and messages are personal. "
            "Write to me privately."
        ),
        reply_markup=keyboard,
    )


def _mentions_me(message: Message, username: str | None) -> bool:
    text = message.text or message.caption or ""
    return bool(username) and f"@{username}".lower() in text.lower()


def get_group_router() -> Router:
    router = Router(name="groups")
    router.message.filter(F.chat.type != ChatType.PRIVATE)

    async def on_group_message(message: Message, bot: Bot) -> None:
        """Any message in a group or channel chat."""
        me = await bot.me()
        if (message.text or "").startswith("/") or _mentions_me(message, me.username):
            await in_group(message, bot)

    router.message.register(on_group_message)
    return router


async def not_signed_in_message(message: Message, state: FSMContext) -> None:
    """Anything typed by someone not signed in, outside the sign-in dialogue."""
    await start_sign_in(message, state)


async def not_signed_in_callback(callback: CallbackQuery, state: FSMContext) -> None:
    """A button pressed by someone not signed in (signed out since, or a forged press)."""
    await callback.answer(_("Please sign in first."))
    await start_sign_in(callback, state)


async def stale_callback(
    callback: CallbackQuery,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    modules: tuple[Module, ...],
    clock: Clock,
) -> None:
    """A button nobody handles: from an old screen, from before a restart, or forged."""
    await state.clear()
    await callback.answer(_("This button is no longer available."))
    await open_home(callback, viewer, db, settings, modules, clock)


async def unknown_message(
    message: Message,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    modules: tuple[Module, ...],
    clock: Clock,
) -> None:
    """Text or a file that no screen expects right now."""
    await message.answer(_("I did not understand that. Here is the menu:"))
    await open_home(message, viewer, db, settings, modules, clock)


async def start_with_unknown_payload(
    message: Message,
    state: FSMContext,
    viewer: Viewer | None,
    db: Database,
    settings: Settings,
    modules: tuple[Module, ...],
    clock: Clock,
) -> None:
    """A /start link with a parameter no module recognised: behave like a plain /start."""
    if viewer is None:
        await start_sign_in(message, state)
        return
    await state.clear()
    await open_home(message, viewer, db, settings, modules, clock)


def get_fallback_router() -> Router:
    router = Router(name="fallback")
    router.message.register(start_with_unknown_payload, CommandStart())
    router.message.register(not_signed_in_message, NotSignedIn())
    router.callback_query.register(not_signed_in_callback, NotSignedIn())
    router.callback_query.register(stale_callback)
    router.message.register(unknown_message)
    return router


# ---- errors ----------------------------------------------------------------------------------


async def _tell(event: ErrorEvent, text: str) -> None:
    """The refusal as the press's one answer, or as a message when the press was answered."""
    update = event.update
    try:
        callback = update.callback_query
        if callback is not None and not press_answered(callback.id):
            await callback.answer(text, show_alert=True)
        elif callback is not None:
            if callback.message is not None and callback.bot is not None:
                await callback.bot.send_message(callback.message.chat.id, text)
        elif update.message is not None:
            await update.message.answer(text)
    except TelegramAPIError:
        log.warning("could not report an error to the user", exc_info=True)


async def on_domain_error(event: ErrorEvent) -> None:
    """A rule of the domain said no: a clear, translated answer."""
    exc = event.exception
    assert isinstance(exc, DomainError)
    await _tell(event, exc.user_message() or _("This action is not available."))


async def on_unexpected_error(event: ErrorEvent) -> None:
    """Anything else: logged with a short reference the user can quote to the IT office."""
    ref = secrets.token_hex(3).upper()
    update = event.update
    user = None
    if update.message is not None and update.message.from_user is not None:
        user = update.message.from_user.id
    elif update.callback_query is not None:
        user = update.callback_query.from_user.id
    log.error(
        "unhandled error ref=%s update=%s user=%s type=%s",
        ref,
        update.update_id,
        user,
        update.event_type,
        exc_info=event.exception,
    )
    await _tell(event, _("Something went wrong (ref {ref}). Please try again.").format(ref=ref))


def get_error_router() -> Router:
    router = Router(name="errors")
    router.errors.register(on_domain_error, ExceptionTypeFilter(DomainError))
    router.errors.register(on_unexpected_error)
    return router
