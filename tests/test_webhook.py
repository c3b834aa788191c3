"""Webhook mode: the secret token is checked on every request; /healthz for the balancer."""

from __future__ import annotations

from dataclasses import replace

from aiogram.methods import SendMessage
from aiohttp.test_utils import TestClient, TestServer

from bot.webhook import build_app
from tests.conftest import App

SECRET = "s3cret-token-for-webhook-tests"


def _update(update_id: int, user_id: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_790_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Aru"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Aru", "language_code": "en"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


async def test_webhook_checks_the_secret_and_answers(app: App) -> None:
    settings = replace(
        app.settings, webhook_url="https://ais.example.kz/tg/hook", webhook_secret=SECRET
    )
    web_app = build_app(app.dp, app.bot, settings, app.db)
    async with TestClient(TestServer(web_app)) as client:
        forged = await client.post("/tg/hook", json=_update(1, 6001, "/start"))
        assert forged.status == 401
        wrong = await client.post(
            "/tg/hook",
            json=_update(2, 6001, "/start"),
            headers={"X-Telegram-Bot-Api-Secret-Token": "wrong-secret-value-xx"},
        )
        assert wrong.status == 401
        assert app.session.requests_of(SendMessage) == []

        ok = await client.post(
            "/tg/hook",
            json=_update(3, 6001, "/start"),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        assert ok.status == 200
        # Handled in the background: wait for the answer to reach the fake Telegram.
        await app.session.wait_until(lambda: bool(app.session.requests_of(SendMessage)), 30)
        sent = app.session.requests_of(SendMessage)
        assert len(sent) == 1 and sent[0].chat_id == 6001

        health = await client.get("/healthz")
        assert health.status == 200
        body = await health.json()
        assert body["database"] == "up" and body["updates"] == "up"
        # No process holds the scheduler lease in this test: reported, yet still 200.
        assert body["status"] == "degraded" and body["scheduler"] == "no lease"


async def test_health_reports_a_dead_database(app: App) -> None:
    from db.session import Database

    settings = replace(
        app.settings, webhook_url="https://ais.example.kz/tg/hook", webhook_secret=SECRET
    )
    dead = Database.from_url("postgresql+asyncpg://nobody@127.0.0.1:1/nothing")
    web_app = build_app(app.dp, app.bot, settings, dead)
    try:
        async with TestClient(TestServer(web_app)) as client:
            health = await client.get("/healthz")
            assert health.status == 503
    finally:
        await dead.dispose()
