"""Refuse forged button payloads whose numbers no real button carries.

CallbackData parses any integer, however large; such a value reaches a query and the database
driver refuses it (SQLite: beyond 64 bits, PostgreSQL: beyond the INTEGER column's 32 bits), which
would surface as an unexpected error. Every id, page and option the bot puts on a button fits in
32 bits, so anything outside is a forgery and gets the stale-button answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.filters.callback_data import CallbackData
from aiogram.types import TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.services.errors import DomainError

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def out_of_range(data: CallbackData) -> bool:
    return any(
        isinstance(value, int)
        and not isinstance(value, bool)
        and not INT32_MIN <= value <= INT32_MAX
        for value in data.__dict__.values()
    )


class CallbackGuardMiddleware(BaseMiddleware):
    """Inner (after the filters parsed `callback_data`): refuse impossible numbers."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        parsed = data.get("callback_data")
        if isinstance(parsed, CallbackData) and out_of_range(parsed):
            raise DomainError("forged_callback", lambda: _("This button is no longer available."))
        return await handler(event, data)
