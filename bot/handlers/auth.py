"""Sign-in (§4): language, login, password; sign-out; "forgot your password?"."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.commands import clear_commands, sync_commands
from bot.config import SUPPORTED_LOCALES, Settings
from bot.filters import NotSignedIn
from bot.handlers.home import open_home
from bot.i18n import fmt_datetime
from bot.keyboards.common import AuthCb, LangCb, language_keyboard, markup
from bot.modules import Module
from bot.services import auth
from bot.services.auth import LockPolicy, Viewer
from bot.ui import esc, safe_delete, show
from db.session import Database

log = logging.getLogger(__name__)

MAX_LOGIN_INPUT = 64
MAX_PASSWORD_INPUT = 256
CHOOSE_LANGUAGE = "Тілді таңдаңыз · Выберите язык · Choose your language"


class SignIn(StatesGroup):
    login = State()
    password = State()


def lock_policy(settings: Settings) -> LockPolicy:
    return LockPolicy(
        max_failures=settings.login_max_failures,
        window=timedelta(minutes=settings.login_window_minutes),
        lock=timedelta(minutes=settings.login_lock_minutes),
    )


def _login_prompt_markup() -> object:
    return markup(
        [
            InlineKeyboardButton(
                text=_("Forgot your password?"), callback_data=AuthCb(action="forgot").pack()
            )
        ],
        [
            InlineKeyboardButton(
                text=_("🌐 Change language"), callback_data=AuthCb(action="language").pack()
            )
        ],
    )


def login_prompt_text() -> str:
    return _(
        "<b>Sign in to the AIS</b>\n\n"
        "Enter your <b>login</b>. The login and password are issued by the Registrar's office."
    )


async def start_sign_in(event: Message | CallbackQuery, state: FSMContext) -> None:
    """Greet someone who is not signed in with the language choice."""
    locale = (await state.get_data()).get("locale")
    await state.clear()
    if locale:
        await state.update_data(locale=locale)
    await show(event, CHOOSE_LANGUAGE, language_keyboard())


async def cmd_start(
    message: Message,
    state: FSMContext,
    viewer: Viewer | None,
    db: Database,
    settings: Settings,
    modules: tuple[Module, ...],
    clock: Clock,
) -> None:
    """/start: home for a signed-in person, the language choice for everyone else."""
    if viewer is not None:
        await state.clear()
        async with db.write() as session:
            await auth.mark_reachable(session, viewer.user_id)
        await open_home(message, viewer, db, settings, modules, clock)
        return
    await start_sign_in(message, state)


async def on_language(
    callback: CallbackQuery,
    callback_data: LangCb,
    state: FSMContext,
    viewer: Viewer | None,
    db: Database,
    settings: Settings,
    i18n: I18n,
    modules: tuple[Module, ...],
    clock: Clock,
) -> None:
    """A language button: remembered for the sign-in, or stored on the account."""
    code = callback_data.code
    if code not in SUPPORTED_LOCALES:
        await callback.answer(_("This button is no longer available."))
        return
    with i18n.use_locale(code):
        if viewer is not None:
            async with db.write() as session:
                await auth.set_locale(session, viewer.user_id, code)
            await callback.answer(_("Language changed."))
            await open_home(callback, replace(viewer, locale=code), db, settings, modules, clock)
            return
        await state.update_data(locale=code)
        await state.set_state(SignIn.login)
        await callback.answer()
        await show(callback, login_prompt_text(), _login_prompt_markup())


async def cmd_lang(message: Message) -> None:
    """/lang: choose the language again, signed in or not."""
    await message.answer(CHOOSE_LANGUAGE, reply_markup=language_keyboard())


async def on_forgot_password(callback: CallbackQuery, settings: Settings) -> None:
    """«Forgot your password?»: who issues and resets them."""
    await callback.answer()
    text = _(
        "<b>Forgot your password?</b>\n\n"
        "Logins and passwords are issued and reset by the Registrar's office:\n{contact}"
    ).format(contact=esc(settings.registrar_contact))
    back = InlineKeyboardButton(text=_("« Back"), callback_data=AuthCb(action="login").pack())
    await show(callback, text, markup([back]))


async def on_back_to_login(callback: CallbackQuery, state: FSMContext) -> None:
    """«« Back» to the login prompt."""
    await callback.answer()
    await state.set_state(SignIn.login)
    await show(callback, login_prompt_text(), _login_prompt_markup())


async def on_change_language(callback: CallbackQuery) -> None:
    """«Language» on the sign-in screens (and any other sign-in button): the languages."""
    await callback.answer()
    await show(callback, CHOOSE_LANGUAGE, language_keyboard())


async def on_login(message: Message, state: FSMContext) -> None:
    """The login typed during sign-in."""
    login = (message.text or "").strip()
    if not login or len(login) > MAX_LOGIN_INPUT or any(ch.isspace() for ch in login):
        await message.answer(_("A login is one word without spaces. Enter your login:"))
        return
    await state.update_data(login=login)
    await state.set_state(SignIn.password)
    await message.answer(
        _("Now enter your <b>password</b>. The message with it is deleted right away.")
    )


async def on_password(
    message: Message,
    state: FSMContext,
    db: Database,
    settings: Settings,
    bot: Bot,
    i18n: I18n,
    modules: tuple[Module, ...],
    clock: Clock,
) -> None:
    """The password typed during sign-in: deleted from the chat at once, right or wrong."""
    await safe_delete(message)
    password = message.text or ""
    data = await state.get_data()
    login = data.get("login", "")
    if not login:
        await state.set_state(SignIn.login)
        await message.answer(login_prompt_text(), reply_markup=_login_prompt_markup())
        return
    assert message.from_user is not None
    tg_id = message.from_user.id
    locale = data.get("locale")
    # Short units around the verify: no lock or connection is held while argon2 works.
    result = await auth.sign_in(
        db,
        login,
        password[:MAX_PASSWORD_INPUT],
        tg_id,
        lock_policy(settings),
        locale=locale if locale in SUPPORTED_LOCALES else None,
    )

    if isinstance(result, auth.WrongCredentials):
        await state.set_state(SignIn.login)
        await message.answer(
            _(
                "Wrong login or password. Attempts left before a {minutes}-minute lock: {n}.\n\n"
                "Enter your login again:"
            ).format(minutes=settings.login_lock_minutes, n=result.attempts_left),
            reply_markup=_login_prompt_markup(),
        )
        return
    if isinstance(result, auth.Locked):
        await state.set_state(SignIn.login)
        locale = i18n.current_locale
        await message.answer(
            _(
                "Too many failed attempts. Sign-in is locked until {time}.\n"
                "If you have forgotten your password, contact the Registrar's office."
            ).format(time=fmt_datetime(result.until, locale, settings.tz, "short")),
            reply_markup=_login_prompt_markup(),
        )
        return
    if isinstance(result, auth.AccountBlocked):
        await state.clear()
        await message.answer(
            _("This account is blocked. Please contact the Registrar's office:\n{contact}").format(
                contact=esc(settings.registrar_contact)
            )
        )
        return

    await state.clear()
    async with db.read() as session:
        viewer = await auth.load_viewer(session, tg_id)
    if viewer is None:  # pragma: no cover - bound a moment ago in the same process
        await message.answer(_("Something went wrong. Please try again: /start"))
        return
    if result.previous_telegram_id is not None:
        await _tell_old_chat(bot, i18n, result.previous_telegram_id, viewer.locale)
    await open_home(message, viewer, db, settings, modules, clock, greet=True)
    await sync_commands(bot, i18n, modules, tg_id, viewer.role, viewer.locale)


async def _tell_old_chat(bot: Bot, i18n: I18n, chat_id: int, locale: str | None) -> None:
    with i18n.use_locale(locale or i18n.default_locale):
        text = _(
            "Your AIS account has been signed in from another Telegram account, so this chat is "
            "signed out. If it was not you, contact the Registrar's office at once."
        )
    try:
        await bot.send_message(chat_id, text)
    except TelegramAPIError as exc:
        log.info("could not tell the previous chat about the new binding: %s", exc)


async def on_secret_not_text(message: Message) -> None:
    """A sticker or photo where a login or password was expected."""
    await message.answer(_("Please type it as a text message."))


async def cmd_logout(message: Message, state: FSMContext, db: Database, bot: Bot) -> None:
    """/logout: unbind this Telegram account from the AIS account."""
    await state.clear()
    assert message.from_user is not None
    async with db.write() as session:
        was_bound = await auth.sign_out(session, message.from_user.id)
    if was_bound:
        await clear_commands(bot, message.from_user.id)
        await message.answer(_("You have signed out. Send /start to sign in again."))
    else:
        await message.answer(_("You are not signed in. Send /start to sign in."))


def get_router() -> Router:
    router = Router(name="auth")
    router.message.register(cmd_start, CommandStart(magic=F.args.is_(None)))
    router.message.register(cmd_lang, Command("lang"))
    router.message.register(cmd_logout, Command("logout"))
    router.callback_query.register(on_language, LangCb.filter())
    router.callback_query.register(
        on_forgot_password, AuthCb.filter(F.action == "forgot"), NotSignedIn()
    )
    router.callback_query.register(
        on_back_to_login, AuthCb.filter(F.action == "login"), NotSignedIn()
    )
    # Last: «Language», and any other sign-in button, shows the languages.
    router.callback_query.register(on_change_language, AuthCb.filter(), NotSignedIn())
    router.message.register(on_login, StateFilter(SignIn.login), F.text, NotSignedIn())
    # A command typed instead of the password is obeyed, not taken for the password.
    not_command = ~F.text.regexp(r"^/(start|menu|lang|logout|settings|help)(@\w+)?(\s|$)")
    router.message.register(
        on_password, StateFilter(SignIn.password), F.text, not_command, NotSignedIn()
    )
    router.message.register(
        on_secret_not_text, StateFilter(SignIn.login, SignIn.password), NotSignedIn()
    )
    return router
