"""`python -m scheduler`: the jobs and the delivery worker as a process of their own.

Use it when the bot runs as several replicas (each with RUN_SCHEDULER=0); the lease makes sure
only one scheduler works against a database at a time.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from bot.__main__ import migrate, setup_logging
from bot.clock import Clock
from bot.config import ConfigError, load_settings
from bot.factory import create_bot
from bot.handlers import MODULES  # noqa: F401  (registers every renderer)
from bot.i18n import build_i18n
from bot.preflight import StartupError, check_environment
from db.session import Database
from scheduler.context import JobContext
from scheduler.runner import SchedulerService

log = logging.getLogger("scheduler")


async def run() -> int:
    settings = load_settings()
    # One line, and nothing created, when the database is not there (bot/preflight.py).
    await check_environment(settings.database_url, None)
    db = Database.from_url(settings.database_url)
    bot = create_bot(settings)
    try:
        await migrate(db)
        await db.ping()
        ctx = JobContext(db, bot, build_i18n(settings.default_locale), settings, Clock())
        service = SchedulerService(ctx)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        metrics = None
        if settings.metrics_port is not None:
            from bot.metrics import install_for_scheduler

            metrics = await install_for_scheduler(db, settings, service)
        await service.start()
        await stop.wait()
        await service.stop()
        if metrics is not None:
            await metrics.stop()
        return 0
    finally:
        await bot.session.close()
        await db.dispose()


def main() -> None:
    try:
        load_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    setup_logging()
    try:
        code = asyncio.run(run())
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = 3
    raise SystemExit(code)


if __name__ == "__main__":
    main()
