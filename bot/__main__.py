"""`python -m bot`: settings -> checks -> database (migrated) -> bot -> long polling or webhook.

Start-up failures end in one line on stderr (`error: ...`) and a non-zero exit code: 2 for a
setting to fix, 3 for a service that is not there (database, Redis, the Bot API). The settings
are read before anything heavy is imported, and the database is created only after the token
and every service have been checked.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings, load_settings
from bot.preflight import StartupError

if TYPE_CHECKING:
    from db.session import Database

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


async def sign_in(settings: Settings) -> None:
    """Ask Telegram who we are before touching the database: a wrong token creates nothing."""
    from aiogram.exceptions import (
        TelegramAPIError,
        TelegramNetworkError,
        TelegramUnauthorizedError,
    )

    from bot.factory import create_bot

    bot = create_bot(settings)
    try:
        me = await bot.get_me()
    except TelegramUnauthorizedError:
        raise ConfigError(
            "Telegram refused BOT_TOKEN: check it with @BotFather (/token)"
        ) from None
    except TelegramNetworkError as exc:
        raise StartupError(
            f"cannot reach the Bot API server ({exc.message}): check the network"
            + (" and BOT_API_URL" if settings.bot_api_url else "")
        ) from None
    except TelegramAPIError as exc:
        raise StartupError(
            f"the Bot API server refused getMe ({exc.message})"
            + (": check BOT_API_URL" if settings.bot_api_url else "")
        ) from None
    finally:
        await bot.session.close()
    log.info("signed in to the Bot API as @%s (id %s)", me.username, me.id)


async def run(settings: Settings) -> int:
    from bot.preflight import check_environment

    await check_environment(settings.database_url, settings.redis_url)
    await sign_in(settings)

    from bot.clock import Clock
    from bot.commands import register_commands
    from bot.factory import create_bot, create_dispatcher, create_storage
    from bot.handlers import MODULES
    from bot.i18n import build_i18n
    from bot.services.journal import use_academic_settings
    from db.session import Database
    from scheduler.context import JobContext
    from scheduler.runner import SchedulerService

    use_academic_settings(settings.academic)
    db = Database.from_url(settings.database_url)
    try:
        await migrate(db)
        await db.ping()
        i18n = build_i18n(settings.default_locale)
        bot = create_bot(settings)
        storage, isolation = create_storage(settings)
        dp = create_dispatcher(settings, db, i18n, storage=storage, events_isolation=isolation)
        await register_commands(bot, i18n, MODULES)
        service = None
        if settings.run_scheduler:
            service = SchedulerService(JobContext(db, bot, i18n, settings, Clock()))
            dp.startup.register(service.start)
            dp.shutdown.register(service.stop)
        from bot.runtime import tune_gc

        tune_gc()  # start-up is over: see bot/runtime.py
        metrics = None
        if settings.metrics_port is not None:
            from bot.metrics import install

            metrics = await install(dp, bot, db, settings, service)
        try:
            if settings.webhook_url:
                from bot.webhook import serve

                try:
                    await serve(dp, bot, settings, db, metrics.health if metrics else None)
                finally:
                    await bot.session.close()
                return 0
            await bot.delete_webhook(drop_pending_updates=False)
            await dp.start_polling(
                bot,
                allowed_updates=dp.resolve_used_update_types(),
                handle_signals=True,
                close_bot_session=True,
            )
            return 0
        finally:
            await dp.storage.close()
            if metrics is not None:
                await metrics.stop()
    finally:
        await db.dispose()


async def migrate(db: Database) -> None:
    """Apply migrations; a database newer than this code is a one-line error."""
    from db.migrate import is_current, upgrade

    if await is_current(db):
        return  # the usual restart: Alembic is not even imported
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import DBAPIError

    try:
        await upgrade(db)
    except CommandError as exc:
        raise StartupError(
            f"cannot migrate the database ({exc}): it was made by a newer version of the bot; "
            "run that version, or restore a backup made by this one"
        ) from None
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise StartupError(
            f"cannot migrate the database ({reason}): the user in DATABASE_URL must be allowed "
            "to create tables (or the SQLite file to be written)"
        ) from None


def main() -> None:
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    setup_logging()
    # Start-up creates about a million long-lived objects (aiogram's models above all);
    # collecting while they pile up only walks them again and again. bot/runtime.py's tune_gc
    # turns the collector back on once the bot serves.
    gc.disable()
    try:
        code = asyncio.run(run(settings))
    except KeyboardInterrupt:
        code = 0
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = 2
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = 3
    raise SystemExit(code)


if __name__ == "__main__":
    main()
