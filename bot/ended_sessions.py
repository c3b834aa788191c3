"""Telling a Telegram chat that an administrator's change signed it out, and why.

A reset password, a block or a new role ends the account's binding to Telegram. The notice goes
straight to that chat from whoever made the change (the bot's /admin screen, or the command line
when it knows the bot's token): the outbox delivers to the account's binding of the moment of
sending, and that binding is exactly what has just ended.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.commands import clear_commands
from bot.services.roles import EndedSession

log = logging.getLogger(__name__)


def ended_session_text(reason: str) -> str:
    """The notice in the current locale."""
    if reason == "password_reset":
        return _(
            "Your AIS password has been reset by the administration, so this chat is signed "
            "out. Sign in again with the one-time password from the Registrar's office: /start"
        )
    if reason == "blocked":
        return _(
            "Your AIS account has been blocked by the administration, so this chat is signed "
            "out. Please contact the Registrar's office."
        )
    return _(
        "Your role in the AIS has been changed by the administration, so this chat is signed "
        "out. Send /start to sign in again."
    )


async def tell_ended_session(bot: Bot, i18n: I18n, ended: EndedSession) -> bool:
    """Send the notice in the person's language and take the staff menu away; True if sent.

    Telegram may refuse (the person blocked the bot): the account is signed out all the same.
    """
    with i18n.context(), i18n.use_locale(ended.locale or i18n.default_locale):
        text = ended_session_text(ended.reason)
    sent = True
    try:
        await bot.send_message(ended.chat_id, text)
    except TelegramAPIError as exc:
        log.info("could not tell chat %s it was signed out: %s", ended.chat_id, exc)
        sent = False
    await clear_commands(bot, ended.chat_id)
    return sent
