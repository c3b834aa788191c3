"""Every update leaves one log line with ids and the handler, and never the text typed."""

from __future__ import annotations

import logging

import pytest

from bot.demo.core import DEMO_ACCOUNTS
from tests.conftest import App


async def test_one_line_per_update_without_secrets(
    demo_app: App, caplog: pytest.LogCaptureFixture
) -> None:
    login, password = DEMO_ACCOUNTS["student"]
    with caplog.at_level(logging.INFO):
        await demo_app.signed_in(login, password, user_id=7301)
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.updates"]
    assert len(lines) == 4
    assert all("user=7301" in line for line in lines)
    assert "handler=bot.handlers.auth.on_password" in lines[-1]
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert password not in everything
    assert login not in everything
