"""Wiring: settings -> bot, database, translations -> dispatcher. Used by the process and tests."""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.utils.i18n import I18n

from bot.clock import Clock
from bot.config import Settings
from bot.middlewares.callback_guard import CallbackGuardMiddleware
from bot.middlewares.logging import HandlerNameMiddleware, UpdateLogMiddleware
from bot.middlewares.sanitize import StripNulMiddleware
from bot.middlewares.throttle import ThrottleMiddleware
from bot.middlewares.viewer import LocaleMiddleware, ViewerMiddleware
from bot.modules import Module
from bot.runtime import run_sync_filters_inline
from db.session import Database

log = logging.getLogger(__name__)


def create_bot(settings: Settings, session: BaseSession | None = None) -> Bot:
    if session is None:
        session = AiohttpSession()
        if settings.bot_api_url:
            session.api = TelegramAPIServer.from_base(settings.bot_api_url)
    return Bot(
        token=settings.bot_token,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def create_storage(settings: Settings) -> tuple[BaseStorage, BaseEventIsolation]:
    """FSM storage and per-user event isolation: Redis when REDIS_URL is set (several
    replicas share dialogues and never handle one user's updates at the same time), else
    in-process (one process, one user's updates still one at a time)."""
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

        storage = RedisStorage.from_url(settings.redis_url)
        return storage, RedisEventIsolation(redis=storage.redis)
    return MemoryStorage(), SimpleEventIsolation()


def create_dispatcher(
    settings: Settings,
    db: Database,
    i18n: I18n,
    storage: BaseStorage | None = None,
    modules: tuple[Module, ...] | None = None,
    clock: Clock | None = None,
    events_isolation: BaseEventIsolation | None = None,
) -> Dispatcher:
    # The handlers are imported here, not at the top: the scheduler process builds its Bot with
    # create_bot and must not load them (tests/test_architecture.py).
    from bot.handlers import MODULES, build_root_router

    if modules is None:
        modules = MODULES
    dp = Dispatcher(
        storage=storage or MemoryStorage(),
        events_isolation=events_isolation or SimpleEventIsolation(),
        settings=settings,
        db=db,
        modules=modules,
        clock=clock or Clock(),
    )
    dp.update.outer_middleware(UpdateLogMiddleware())
    dp.message.outer_middleware(StripNulMiddleware())
    dp.update.outer_middleware(ViewerMiddleware(db))
    names = HandlerNameMiddleware()
    for observer in (dp.message, dp.callback_query, dp.inline_query):
        observer.middleware(names)
    dp.callback_query.middleware(CallbackGuardMiddleware())
    LocaleMiddleware(i18n).setup(dp)
    if settings.throttle_rate > 0:
        # After the locale middleware, so the notice is in the person's language.
        throttle = ThrottleMiddleware(settings.throttle_rate, settings.throttle_burst)
        dp.message.outer_middleware(throttle)
        dp.callback_query.outer_middleware(throttle)
    dp.include_router(build_root_router(modules))
    run_sync_filters_inline(dp)
    return dp
