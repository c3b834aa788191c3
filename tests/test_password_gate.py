"""A person signed in with a one-time password can only set their own (and /logout, /lang).

Every module's entry points are walked with such an account of each role: every command of the
command menu, every home-menu button, every button of every module's first screen (recorded from
a normal session of the same person), a document, a photo and an inline query.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.methods import (
    AnswerCallbackQuery,
    AnswerInlineQuery,
    EditMessageText,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from sqlalchemy import select

from bot.commands import menu
from bot.demo.core import DEMO_ACCOUNTS
from bot.handlers import MODULES
from bot.services.auth import set_password, verify_password
from db.models import Role, User
from tests.conftest import App
from tests.support import BotClient

ONE_TIME = "Otp7kq2mZx9w"
SCREEN = "Set your own password"


async def _give_one_time_password(app: App, login: str) -> int:
    async with app.db.write() as session:
        user = await session.scalar(select(User).where(User.login == login))
        await set_password(session, user.id, ONE_TIME, temporary=True)
        return user.id


def _callbacks_of(client: BotClient) -> list[str]:
    message = client.last_message()
    markup = message.reply_markup
    if not message.from_bot or markup is None:
        return []
    return [b.callback_data for row in markup.inline_keyboard for b in row if b.callback_data]


async def _entry_points(app: App, role: str, user_id: int) -> list[str]:
    """Every home-menu button and every button of the screens they open, pressed for real."""
    login, password = DEMO_ACCOUNTS[role]
    client = await app.signed_in(login, password, user_id=user_id)
    home = _callbacks_of(client)
    found = list(home)
    for data in home:
        await client.send("/menu")
        await client.click_data(data)
        found.extend(d for d in _callbacks_of(client) if d not in found)
    await client.send("/logout")
    return found


def _shown(requests: list[TelegramMethod[Any]]) -> list[str]:
    return [r.text for r in requests if isinstance(r, SendMessage | EditMessageText)]


@pytest.mark.parametrize("role", ["student", "teacher", "staff", "admin"])
async def test_one_time_password_opens_nothing_but_the_password_screen(
    demo_app: App, role: str
) -> None:
    user_id = 7300 + len(role)
    callbacks = await _entry_points(demo_app, role, user_id)
    assert len(callbacks) > 5
    if role == "student":
        # The transcript download is among them.
        assert "tr:pdf:0" in callbacks
    login, _password = DEMO_ACCOUNTS[role]
    account = await _give_one_time_password(demo_app, login)
    client = await demo_app.signed_in(login, ONE_TIME, user_id=user_id)
    assert SCREEN in client.last_message().text

    with demo_app.i18n.context(), demo_app.i18n.use_locale("en"):
        commands = [c.command for c in menu(MODULES, Role(role))]
    assert {"tests", "menu", "settings"} <= set(commands) or role != "student"
    for command in (c for c in commands if c not in ("logout", "lang")):
        requests = await client.send(f"/{command}")
        shown = _shown(requests)
        assert shown and all(SCREEN in text for text in shown), (command, shown)
        assert not [r for r in requests if isinstance(r, SendDocument | SendPhoto)], command

    for data in callbacks:
        requests = await client.click_data(data)
        answers = [r for r in requests if isinstance(r, AnswerCallbackQuery)]
        assert len(answers) == 1, (data, answers)
        assert SCREEN in answers[0].text, data
        assert all(SCREEN in text for text in _shown(requests)), data
        assert not [r for r in requests if isinstance(r, SendDocument | SendPhoto)], data

    requests = await client.send_document("grades.csv", b"login,grade\n", "text/csv", "/import")
    assert [SCREEN in text for text in _shown(requests)] == [True]
    requests = await client.send_photo(b"\xff\xd8\xff", caption="hello")
    assert [SCREEN in text for text in _shown(requests)] == [True]
    answer = await client.inline("algebra")
    assert isinstance(answer, AnswerInlineQuery) and answer.results == []

    async with demo_app.db.read() as session:
        user = await session.get(User, account)
        assert user.must_change_password
        assert await verify_password(user.password_hash, ONE_TIME)


async def test_typed_password_and_confirmation_are_taken_and_deleted(demo_app: App) -> None:
    login, _password = DEMO_ACCOUNTS["student"]
    account = await _give_one_time_password(demo_app, login)
    client = await demo_app.signed_in(login, ONE_TIME, user_id=7320)
    assert SCREEN in client.last_message().text

    await client.send("short")
    assert "too short" in client.last_message().text
    # The one-time password itself is not a password of one's own.
    await client.send(ONE_TIME)
    assert "differ from the one-time password" in client.last_message().text
    await client.send("Own-Pass-2027")
    assert "once more" in client.last_message().text
    await client.send("Other-Pass-2027")
    assert "do not match" in client.last_message().text
    # After a mismatch the next text is a new password again.
    await client.send("Own-Pass-2027")
    # A command in the middle leads back to the screen and starts over.
    await client.send("/tests")
    assert SCREEN in client.last_message().text
    await client.send("Own-Pass-2027")
    await client.send("Own-Pass-2027")
    assert "Қасымов Әлихан" in client.last_message().text
    assert any("saved" in m.text for m in client.messages() if m.from_bot)
    for secret in ("short", "Own-Pass-2027", "Other-Pass-2027", ONE_TIME):
        assert all(m.deleted for m in client.session.chats[7320].values() if m.text == secret), (
            secret
        )

    async with demo_app.db.read() as session:
        user = await session.get(User, account)
        assert not user.must_change_password
        assert await verify_password(user.password_hash, "Own-Pass-2027")
    # Everything works now.
    await client.send("/tests")
    assert SCREEN not in client.last_message().text


async def test_logout_and_language_still_work(demo_app: App) -> None:
    login, _password = DEMO_ACCOUNTS["teacher"]
    await _give_one_time_password(demo_app, login)
    client = await demo_app.signed_in(login, ONE_TIME, user_id=7330)
    await client.send("/lang")
    assert client.buttons() == ["Қазақша", "Русский", "English"]
    await client.click("Русский")
    assert "пароль" in client.last_message().text.lower()
    assert "Set your own" not in client.last_message().text
    await client.send("/logout")
    assert "signed out" in client.last_message().text.lower() or "вышли" in (
        client.last_message().text.lower()
    )
    async with demo_app.db.read() as session:
        user = await session.scalar(select(User).where(User.login == login))
        assert user.telegram_id is None


async def test_group_messages_of_a_one_time_account_are_ignored(demo_app: App) -> None:
    login, _password = DEMO_ACCOUNTS["student"]
    await _give_one_time_password(demo_app, login)
    await demo_app.signed_in(login, ONE_TIME, user_id=7340)
    group = demo_app.client(user_id=7340, chat_id=-100777, chat_type="group")
    requests = await group.send("Own-Pass-2027")
    assert not [r for r in requests if isinstance(r, SendMessage)]


async def test_notices_wait_until_the_person_sets_their_own_password(demo_app: App) -> None:
    """Whoever holds a one-time password has proved nothing yet: even an urgent notice (a
    test closed) waits, and goes out the moment the person's own password is set."""
    from bot.services.notify import NoticeKind, notify
    from db.models.delivery import Delivery, DeliveryStatus
    from tests.test_notice_urgency import virtual_worker

    demo_app.clock.set(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))  # 14:00 in Almaty
    login, _password = DEMO_ACCOUNTS["student"]
    account = await _give_one_time_password(demo_app, login)
    client = await demo_app.signed_in(login, ONE_TIME, user_id=7350)
    async with demo_app.db.write() as session:
        await notify(
            session,
            user_id=account,
            kind=NoticeKind.tests,
            template="testing.attempt_closed",
            params={"name": "Control work", "score": 40, "attempt_id": 1},
            now=demo_app.clock.now(),
        )
    before = len(demo_app.session.requests_of(SendMessage))
    await virtual_worker(demo_app).drain()
    assert len(demo_app.session.requests_of(SendMessage)) == before
    async with demo_app.db.read() as session:
        row = await session.scalar(select(Delivery).where(Delivery.user_id == account))
    assert row.status == DeliveryStatus.pending and row.held_quiet

    await client.send("Own-Pass-2027")
    await client.send("Own-Pass-2027")
    before = len(demo_app.session.requests_of(SendMessage))
    await virtual_worker(demo_app).drain()
    async with demo_app.db.read() as session:
        row = await session.scalar(select(Delivery).where(Delivery.user_id == account))
    assert row.status == DeliveryStatus.sent
    pushed = demo_app.session.requests_of(SendMessage)[before:]
    assert [m.chat_id for m in pushed] == [7350]
