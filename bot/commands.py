"""Telegram's command menu: the same for everyone in each language, plus the staff commands in
the chats of staff members and administrators."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import SUPPORTED_LOCALES
from bot.modules import Module
from db.models import Role

log = logging.getLogger(__name__)

STAFF = frozenset({Role.staff, Role.admin})


def base_commands() -> list[tuple[str, str]]:
    """Commands everyone sees, translated in the current locale."""
    return [
        ("start", _("Sign in or open the home screen")),
        ("lang", _("Change the language")),
        ("logout", _("Sign out of this Telegram account")),
    ]


def staff_commands(role: Role) -> list[tuple[str, str]]:
    commands = [("audit", _("Audit log of staff actions"))]
    if role is Role.admin:
        commands = [
            ("admin", _("Administration: import, accounts, audit log")),
            ("import", _("Import a data file (CSV or .xlsx)")),
            ("accounts", _("Accounts: roles, passwords, blocking")),
            *commands,
        ]
    return commands


def menu(modules: tuple[Module, ...], role: Role | None = None) -> list[BotCommand]:
    """The menu in the current locale: everyone's commands, and the staff ones for `role`."""
    pairs = base_commands()
    for module in modules:
        pairs.extend((name, describe()) for name, describe in module.commands)
    if role in STAFF:
        assert role is not None
        pairs.extend(staff_commands(role))
    return [BotCommand(command=name, description=text[:256]) for name, text in pairs]


async def register_commands(bot: Bot, i18n: I18n, modules: tuple[Module, ...]) -> None:
    """Everyone's menu in each language (and the default one for any other)."""
    for code in (*SUPPORTED_LOCALES, None):
        with i18n.context(), i18n.use_locale(code or i18n.default_locale):
            commands = menu(modules)
        await bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=code)


async def sync_commands(
    bot: Bot,
    i18n: I18n,
    modules: tuple[Module, ...],
    chat_id: int,
    role: Role | None,
    locale: str | None,
) -> None:
    """Give a staff member's chat the staff command menu, or take it away from anyone else.

    Telegram may refuse (the person blocked the bot): the menu is a convenience, never fatal.
    """
    scope = BotCommandScopeChat(chat_id=chat_id)
    try:
        if role not in STAFF:
            await bot.delete_my_commands(scope=scope)
            return
        with i18n.use_locale(locale or i18n.default_locale):
            commands = menu(modules, role)
        await bot.set_my_commands(commands, scope=scope)
    except TelegramAPIError as exc:
        log.info("could not update the command menu of chat %s: %s", chat_id, exc)


async def clear_commands(bot: Bot, chat_id: int) -> None:
    """Back to everyone's command menu (after a sign-out)."""
    try:
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=chat_id))
    except TelegramAPIError as exc:
        log.info("could not reset the command menu of chat %s: %s", chat_id, exc)
