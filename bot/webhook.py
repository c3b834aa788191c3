"""Webhook mode: an aiohttp server that takes Telegram's updates and answers health checks."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.config import Settings
from bot.health import Health
from bot.preflight import StartupError
from db.session import Database

log = logging.getLogger(__name__)


def webhook_path(settings: Settings) -> str:
    assert settings.webhook_url is not None
    return urlsplit(settings.webhook_url).path or "/"


def build_app(
    dp: Dispatcher, bot: Bot, settings: Settings, db: Database, health: Health | None = None
) -> web.Application:
    """The updates endpoint (the secret token is checked on every request) and /healthz
    (bot/health.py: database, updates, scheduler lease)."""
    app = web.Application(client_max_size=2 * 1024 * 1024)
    checks = health or Health(db, "webhook")

    async def healthz(_request: web.Request) -> web.Response:
        status, body = await checks.report()
        return web.json_response(body, status=status)

    app.router.add_get("/healthz", healthz)
    SimpleRequestHandler(
        dispatcher=dp, bot=bot, secret_token=settings.webhook_secret, handle_in_background=True
    ).register(app, path=webhook_path(settings))
    setup_application(app, dp, bot=bot)
    return app


async def serve(
    dp: Dispatcher, bot: Bot, settings: Settings, db: Database, health: Health | None = None
) -> None:
    """Register the webhook with Telegram and serve until cancelled (SIGINT/SIGTERM)."""
    import asyncio
    import signal

    await bot.set_webhook(
        settings.webhook_url or "",
        secret_token=settings.webhook_secret,
        allowed_updates=dp.resolve_used_update_types(),
        drop_pending_updates=False,
    )
    app = build_app(dp, bot, settings, db, health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise StartupError(
            f"cannot listen on {settings.webhook_host}:{settings.webhook_port} "
            f"({exc.strerror}): choose a free WEBHOOK_PORT or stop what uses it"
        ) from None
    log.info("webhook server on %s:%s", settings.webhook_host, settings.webhook_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
