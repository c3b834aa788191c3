"""A person flooding the bot is slowed down with one notice; others are not affected."""

from __future__ import annotations

from dataclasses import replace

from aiogram.methods import SendMessage

from bot.factory import create_dispatcher
from bot.middlewares.throttle import ThrottleMiddleware
from tests.conftest import App
from tests.support import BotClient
from tests.support.storage import JsonMemoryStorage


def test_bucket_refills() -> None:
    now = [0.0]
    throttle = ThrottleMiddleware(rate=2, burst=3, monotonic=lambda: now[0])
    assert [throttle._allow(1)[0] for _ in range(4)] == [True, True, True, False]
    assert throttle._allow(1) == (False, False)  # the notice went with the first refusal
    assert throttle._allow(2)[0]  # someone else
    now[0] += 0.5
    assert throttle._allow(1) == (True, False)


async def test_flooding_user_gets_one_notice(app: App) -> None:
    settings = replace(app.settings, throttle_rate=0.01, throttle_burst=5)
    dp = create_dispatcher(settings, app.db, app.i18n, storage=JsonMemoryStorage())
    flooder = BotClient(dp, app.bot, app.session, user_id=9101, language_code="en")
    calm = BotClient(dp, app.bot, app.session, user_id=9102, language_code="en")
    for _ in range(12):
        await flooder.send("/start")
    texts = [r.text for r in app.session.requests_of(SendMessage) if r.chat_id == 9101]
    assert len(texts) == 6
    assert texts[-1].startswith("You are sending messages too fast")
    await calm.send("/start")
    assert calm.buttons() == ["Қазақша", "Русский", "English"]
    await flooder.click_data("nav:home")
    assert flooder.last_answer() is not None  # a press is always answered
