"""Settings: sign-in parameters (§4.5) and language.

Changing sign-in parameters follows the manual: the new login and/or the new password with its
confirmation, then the current password. Every message holding a password is deleted at once,
and the new password never rests anywhere in clear: only its hash is kept between the steps.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.i18n import LANGUAGE_NAMES
from bot.keyboards.common import NavCb, SettingsCb, back_button, language_keyboard
from bot.modules import MenuItem, Module
from bot.services import auth
from bot.services.auth import Viewer
from bot.ui import esc, safe_delete, show
from db.session import Database

MAX_OLD_PASSWORD_TRIES = 3


class ChangeCredentials(StatesGroup):
    new_login = State()
    new_password = State()
    confirm_password = State()
    old_password = State()


def password_problem_text(code: str) -> str:
    return {
        auth.PasswordProblem.too_short: _(
            "The password is too short: use at least {n} characters."
        ).format(n=auth.MIN_PASSWORD_LENGTH),
        auth.PasswordProblem.too_long: _(
            "The password is too long: use at most {n} characters."
        ).format(n=auth.MAX_PASSWORD_LENGTH),
        auth.PasswordProblem.same_as_login: _("The password must differ from the login."),
        auth.PasswordProblem.same_as_one_time: _(
            "The new password must differ from the one-time password."
        ),
        auth.PasswordProblem.too_simple: _(
            "The password is too simple: mix letters, digits or other characters."
        ),
    }.get(code, _("This password cannot be used."))


def _settings_screen(viewer: Viewer) -> tuple[str, InlineKeyboardMarkup]:
    text = _("<b>Settings</b>\n\nLogin: <code>{login}</code>\nLanguage: {language}").format(
        login=esc(viewer.login),
        language=LANGUAGE_NAMES.get(viewer.locale or "", "—"),
    )
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("🔑 Change login or password"),
                    callback_data=SettingsCb(action="credentials").pack(),
                )
            ],
            [
                InlineKeyboardButton(
                    text=_("🌐 Language"), callback_data=SettingsCb(action="language").pack()
                )
            ],
            [
                InlineKeyboardButton(
                    text=_("🔔 Notifications"), callback_data=NavCb(to="notifications").pack()
                )
            ],
            [back_button()],
        ]
    )
    return text, keyboard


def _step_keyboard(keep_action: str | None, keep_text: str | None) -> InlineKeyboardMarkup:
    buttons = []
    if keep_action and keep_text:
        buttons.append(
            [
                InlineKeyboardButton(
                    text=keep_text, callback_data=SettingsCb(action=keep_action).pack()
                )
            ]
        )
    buttons.append(
        [
            InlineKeyboardButton(
                text=_("✖️ Cancel"), callback_data=SettingsCb(action="cancel").pack()
            )
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=buttons)


async def open_settings(event: Message | CallbackQuery, state: FSMContext, viewer: Viewer) -> None:
    await state.clear()
    text, keyboard = _settings_screen(viewer)
    await show(event, text, keyboard)


async def on_nav_settings(callback: CallbackQuery, state: FSMContext, viewer: Viewer) -> None:
    """The Settings button of the home screen."""
    await callback.answer()
    await open_settings(callback, state, viewer)


async def cmd_settings(message: Message, state: FSMContext, viewer: Viewer) -> None:
    """/settings."""
    await open_settings(message, state, viewer)


async def _ask_new_password(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.set_state(ChangeCredentials.new_password)
    text = _(
        "Enter a <b>new password</b> (at least {n} characters). The message is deleted right away."
    ).format(n=auth.MIN_PASSWORD_LENGTH)
    await show(event, text, _step_keyboard("keep_password", _("Keep the current password")))


async def on_settings_action(
    callback: CallbackQuery,
    callback_data: SettingsCb,
    state: FSMContext,
    viewer: Viewer,
) -> None:
    """Buttons of the settings screens."""
    action = callback_data.action
    await callback.answer()
    if action == "credentials":
        await state.clear()
        await state.set_state(ChangeCredentials.new_login)
        await show(
            callback,
            _("Enter a <b>new login</b>, or keep the current one (<code>{login}</code>).").format(
                login=esc(viewer.login)
            ),
            _step_keyboard("keep_login", _("Keep the current login")),
        )
    elif action == "keep_login" and await state.get_state() == ChangeCredentials.new_login:
        await state.update_data(new_login=None)
        await _ask_new_password(callback, state)
    elif action == "keep_password" and await state.get_state() == ChangeCredentials.new_password:
        data = await state.get_data()
        if not data.get("new_login"):
            await state.clear()
            text, keyboard = _settings_screen(viewer)
            await show(callback, _("Nothing to change.") + "\n\n" + text, keyboard)
            return
        await state.update_data(new_password_hash=None)
        await _ask_old_password(callback, state)
    elif action == "language":
        await state.clear()
        await show(callback, _("Choose your language:"), language_keyboard())
    elif action == "cancel":
        await state.clear()
        text, keyboard = _settings_screen(viewer)
        await show(callback, text, keyboard)
    else:
        # A keep button from a step that is already over.
        text, keyboard = _settings_screen(viewer)
        await show(callback, text, keyboard)


async def _ask_old_password(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.set_state(ChangeCredentials.old_password)
    await show(
        event,
        _("To confirm, enter your <b>current password</b>. The message is deleted right away."),
        _step_keyboard(None, None),
    )


async def on_new_login(message: Message, state: FSMContext, viewer: Viewer, db: Database) -> None:
    """The new login typed in the change dialogue."""
    login = (message.text or "").strip()
    if not auth.login_is_valid(login):
        await message.answer(
            _(
                "A login is 3 to 64 Latin letters, digits, dots, hyphens or underscores, "
                "starting with a letter or digit. Try another one:"
            ),
            reply_markup=_step_keyboard("keep_login", _("Keep the current login")),
        )
        return
    async with db.read() as session:
        taken = await auth.login_taken(session, login, viewer.user_id)
    if taken:
        await message.answer(
            _("The login <code>{login}</code> is already taken. Try another one:").format(
                login=esc(login)
            ),
            reply_markup=_step_keyboard("keep_login", _("Keep the current login")),
        )
        return
    new_login = auth.normalize_login(login)
    await state.update_data(new_login=None if new_login == viewer.login else new_login)
    await _ask_new_password(message, state)


async def on_new_password(message: Message, state: FSMContext, viewer: Viewer) -> None:
    """The new password: deleted at once, checked, kept only as a hash."""
    await safe_delete(message)
    password = message.text or ""
    data = await state.get_data()
    problem = auth.password_problem(password, data.get("new_login") or viewer.login)
    if problem is not None:
        await message.answer(password_problem_text(problem) + "\n" + _("Enter another password:"))
        return
    await state.update_data(new_password_hash=await auth.hash_password(password))
    await state.set_state(ChangeCredentials.confirm_password)
    await message.answer(
        _("Enter the new password <b>once more</b> to confirm it."),
        reply_markup=_step_keyboard(None, None),
    )


async def on_confirm_password(message: Message, state: FSMContext) -> None:
    """The confirmation of the new password."""
    await safe_delete(message)
    data = await state.get_data()
    stored = data.get("new_password_hash") or ""
    if not await auth.verify_password(stored, message.text or ""):
        await state.update_data(new_password_hash=None)
        await state.set_state(ChangeCredentials.new_password)
        await message.answer(
            _("The passwords do not match. Enter the new password again:"),
            reply_markup=_step_keyboard(None, None),
        )
        return
    await _ask_old_password(message, state)


async def on_old_password(
    message: Message,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
) -> None:
    """The current password: the last step; applies the change."""
    await safe_delete(message)
    data = await state.get_data()
    try:
        async with db.write() as session:
            await auth.change_credentials(
                session,
                viewer.user_id,
                message.text or "",
                data.get("new_login"),
                data.get("new_password_hash"),
            )
    except auth.CredentialsError as exc:
        if exc.code == "wrong_password":
            tries = int(data.get("old_tries", 0)) + 1
            if tries >= MAX_OLD_PASSWORD_TRIES:
                await state.clear()
                await message.answer(
                    _("The current password was wrong {n} times. Nothing was changed.").format(
                        n=tries
                    )
                )
                return
            await state.update_data(old_tries=tries)
            await message.answer(
                _("The current password is wrong. Try again:"),
                reply_markup=_step_keyboard(None, None),
            )
            return
        await state.clear()
        if exc.code == "login_taken":
            reason = _("that login has just been taken by someone else.")
        else:
            reason = _("the new data is not valid.")
        await message.answer(_("Nothing was changed: {reason}").format(reason=reason))
        return
    await state.clear()
    async with db.read() as session:
        fresh = await auth.load_viewer(session, viewer.telegram_id)
    if fresh is None:  # pragma: no cover - the account exists, it was just changed
        return
    await message.answer(_("✅ Your sign-in settings have been saved."))
    text, keyboard = _settings_screen(fresh)
    await message.answer(text, reply_markup=keyboard)


async def on_not_text(message: Message) -> None:
    """Something other than text in the middle of the dialogue."""
    await message.answer(_("Please type it as a text message."))


def get_router() -> Router:
    router = Router(name="settings")
    router.message.register(cmd_settings, Command("settings"))
    router.callback_query.register(on_nav_settings, NavCb.filter(F.to == "settings"))
    router.callback_query.register(on_settings_action, SettingsCb.filter())
    router.message.register(on_new_login, StateFilter(ChangeCredentials.new_login), F.text)
    router.message.register(on_new_password, StateFilter(ChangeCredentials.new_password), F.text)
    router.message.register(
        on_confirm_password, StateFilter(ChangeCredentials.confirm_password), F.text
    )
    router.message.register(on_old_password, StateFilter(ChangeCredentials.old_password), F.text)
    router.message.register(on_not_text, StateFilter(ChangeCredentials))
    return router


MODULE = Module(
    name="settings",
    router=get_router,
    menu=(MenuItem(to="settings", label=lambda: _("⚙️ Settings"), order=900),),
    commands=(("settings", lambda: _("Settings: language, login and password")),),
)
