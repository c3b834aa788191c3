"""Limits docs/security.md promises that no other test asserts: the webhook body cap, the
refusals of an unsafe webhook configuration, and the equal cost of an unknown login."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from aiogram.methods import SendMessage
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher

from bot.config import ConfigError, load_settings
from bot.webhook import build_app
from tests.conftest import App

SECRET = "s3cret-token-for-webhook-tests"
TOKEN = "123456:ABCdefGhIJKlmnOPQrstUVwxyz-0123456789"


async def test_webhook_refuses_a_body_over_two_megabytes(app: App) -> None:
    settings = replace(
        app.settings, webhook_url="https://ais.example.kz/tg/hook", webhook_secret=SECRET
    )
    web_app = build_app(app.dp, app.bot, settings, app.db)
    body = b'{"update_id": 1, "padding": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    async with TestClient(TestServer(web_app)) as client:
        response = await client.post(
            "/tg/hook",
            data=io.BytesIO(body),
            headers={
                "X-Telegram-Bot-Api-Secret-Token": SECRET,
                "Content-Type": "application/json",
            },
        )
        assert response.status == 413
    assert app.session.requests_of(SendMessage) == []


@pytest.mark.parametrize(
    ("url", "secret", "refused"),
    [
        ("http://ais.example.kz/hook", "a" * 16, "WEBHOOK_URL must be an https:// address"),
        ("https://ais.example.kz/hook", "a" * 15, "WEBHOOK_SECRET must be 16-256 characters"),
        ("https://ais.example.kz/hook", "", "WEBHOOK_SECRET must be 16-256 characters"),
        ("https://ais.example.kz/hook", "with spaces inside!!", "WEBHOOK_SECRET must be"),
    ],
)
def test_unsafe_webhook_configuration_is_refused(url: str, secret: str, refused: str) -> None:
    env = {"BOT_TOKEN": TOKEN, "WEBHOOK_URL": url, "WEBHOOK_SECRET": secret}
    with pytest.raises(ConfigError, match=refused):
        load_settings(env)


def test_a_safe_webhook_configuration_is_taken() -> None:
    env = {"BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://ais.example.kz/hook"}
    settings = load_settings({**env, "WEBHOOK_SECRET": SECRET})
    assert settings.webhook_url == env["WEBHOOK_URL"] and settings.webhook_secret == SECRET
    # Only the local machine may go without TLS (a reverse proxy in front).
    local = load_settings(
        {**env, "WEBHOOK_URL": "http://127.0.0.1:8080/hook", "WEBHOOK_SECRET": SECRET}
    )
    assert local.webhook_url == "http://127.0.0.1:8080/hook"


async def test_unknown_login_costs_an_argon2_verify_like_a_wrong_password(
    demo_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown login must not answer faster than a known one with a wrong password, or
    logins could be told apart by the time the answer takes: argon2 runs for both."""
    calls: list[str] = []
    real_verify = PasswordHasher.verify

    def counting_verify(self: PasswordHasher, stored: str | bytes, password: str | bytes) -> bool:
        calls.append(str(password))
        return real_verify(self, stored, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)

    async def attempt(user_id: int, login: str) -> str:
        client = demo_app.client(user_id=user_id)
        await client.send("/start")
        await client.click("English")
        await client.send(login)
        calls.clear()
        await client.send("wrong-password-123")
        return client.last_message().text or ""

    unknown = await attempt(7301, "no.such.user")
    unknown_calls = list(calls)
    known = await attempt(7302, "demo.student")
    assert unknown_calls == ["wrong-password-123"], "an unknown login skipped the argon2 verify"
    assert calls == ["wrong-password-123"]
    assert unknown == known


def test_every_test_docs_security_names_exists() -> None:
    """docs/security.md names a test for each mitigation; each of them must exist."""
    import ast
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    text = (root / "docs" / "security.md").read_text("utf-8")
    named: set[tuple[str, str]] = set()
    current = ""
    for match in re.finditer(r"`(tests/[\w/]+\.py)?::(\w+)`", text):
        current = match.group(1) or current
        named.add((current, match.group(2)))
    assert len(named) > 40
    missing = []
    for path, name in sorted(named):
        tree = ast.parse((root / path).read_text("utf-8"))
        functions = {
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        if name not in functions:
            missing.append(f"{path}::{name}")
    assert missing == [], f"docs/security.md names tests that do not exist: {missing}"
