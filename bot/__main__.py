"""`python -m bot`: settings -> database (migrated, checked) -> bot -> long polling."""

# ruff: noqa: E402
from __future__ import annotations

import gc

# Start-up creates about a million long-lived objects (aiogram's models above all); collecting
# while they pile up only walks them again and again. `tune_gc` turns the collector back on.
gc.disable()

import asyncio
import logging
import sys

from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError

from bot.clock import Clock
from bot.commands import register_commands
from bot.config import ConfigError, Settings, load_settings
from bot.factory import create_bot, create_dispatcher, create_storage
from bot.handlers import MODULES
from bot.i18n import build_i18n
from bot.runtime import tune_gc
from db.migrate import upgrade
from db.session import Database
from scheduler.context import JobContext
from scheduler.runner import SchedulerService

log = logging.getLogger("bot")


def setup_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # aiohttp access lines and SQL echo would carry personal data; keep them out.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
    # A line per job run every few seconds would drown the update log.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


async def run(settings: Settings) -> int:
    db = Database.from_url(settings.database_url)
    try:
        await upgrade(db)
        await db.ping()
        i18n = build_i18n(settings.default_locale)
        bot = create_bot(settings)
        storage, isolation = create_storage(settings)
        dp = create_dispatcher(settings, db, i18n, storage=storage, events_isolation=isolation)
        try:
            me = await bot.get_me()
        except TelegramUnauthorizedError:
            await bot.session.close()
            log.error("Telegram refused BOT_TOKEN: check it with @BotFather (/token)")
            return 2
        except TelegramNetworkError as exc:
            await bot.session.close()
            log.error("cannot reach the Bot API server: %s", exc.message)
            return 3
        log.info("signed in to the Bot API as @%s (id %s)", me.username, me.id)
        await register_commands(bot, i18n, MODULES)
        if settings.run_scheduler:
            service = SchedulerService(JobContext(db, bot, i18n, settings, Clock()))
            dp.startup.register(service.start)
            dp.shutdown.register(service.stop)
        tune_gc()  # start-up is over: see bot/runtime.py
        if settings.webhook_url:
            from bot.webhook import serve  # aiohttp's server: only a webhook needs it

            try:
                await serve(dp, bot, settings, db)
            finally:
                await bot.session.close()
                await dp.storage.close()
            return 0
        await bot.delete_webhook(drop_pending_updates=False)
        await dp.start_polling(
            bot,
            allowed_updates=dp.resolve_used_update_types(),
            handle_signals=True,
            close_bot_session=True,
        )
        await dp.storage.close()
        return 0
    finally:
        await db.dispose()


def main() -> None:
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    setup_logging()
    try:
        code = asyncio.run(run(settings))
    except KeyboardInterrupt:
        code = 0
    raise SystemExit(code)


if __name__ == "__main__":
    main()
