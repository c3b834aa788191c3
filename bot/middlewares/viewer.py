"""Load the signed-in person once per update and choose the language of the answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from bot.config import SUPPORTED_LOCALES
from bot.services.auth import Viewer, load_viewer
from db.session import Database


class ViewerMiddleware(BaseMiddleware):
    """Puts `viewer` (a Viewer or None) into the handler data, from one short read."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        viewer: Viewer | None = None
        if user is not None and not user.is_bot:
            async with self.db.read() as session:
                viewer = await load_viewer(session, user.id)
        data["viewer"] = viewer
        return await handler(event, data)


class LocaleMiddleware(I18nMiddleware):
    """The stored choice of a signed-in user, else the one made during sign-in, else Telegram's
    language if we speak it, else the university's default."""

    def __init__(self, i18n: I18n) -> None:
        super().__init__(i18n)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        viewer: Viewer | None = data.get("viewer")
        if viewer is not None and viewer.locale in SUPPORTED_LOCALES:
            return viewer.locale
        state: FSMContext | None = data.get("state")
        if state is not None:
            chosen = (await state.get_data()).get("locale")
            if chosen in SUPPORTED_LOCALES:
                return chosen
        user: User | None = data.get("event_from_user")
        if user is not None and user.language_code:
            code = user.language_code.split("-")[0].lower()
            if code in SUPPORTED_LOCALES:
                return code
        return self.i18n.default_locale
