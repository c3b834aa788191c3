"""Sign-in, sign-out, lockout, language and the change of sign-in settings, end to end."""

from __future__ import annotations

from aiogram.methods import DeleteMessage, SendMessage, SetMyCommands
from sqlalchemy import select, text

from bot.commands import register_commands
from bot.demo.core import DEMO_ACCOUNTS
from bot.handlers import MODULES
from db.models import SignInAttempt, User
from tests.conftest import App

STUDENT_LOGIN, STUDENT_PASSWORD = DEMO_ACCOUNTS["student"]


async def test_start_offers_three_languages(demo_app: App) -> None:
    client = demo_app.client(language_code="kk")
    await client.send("/start")
    assert client.buttons() == ["Қазақша", "Русский", "English"]


async def test_sign_in_binds_account_and_opens_home(demo_app: App) -> None:
    client = demo_app.client(user_id=7001)
    await client.send("/start")
    await client.click("English")
    assert "login" in client.last_message().text.lower()
    await client.send(STUDENT_LOGIN)
    requests = await client.send(STUDENT_PASSWORD)

    # The password message is deleted right away.
    password_message = [
        m for m in client.session.chats[7001].values() if m.text == STUDENT_PASSWORD
    ]
    assert password_message and password_message[0].deleted
    assert any(isinstance(r, DeleteMessage) for r in requests)

    home = client.last_message()
    assert "Қасымов Әлихан" in home.text
    assert "IS-" in home.text  # the group
    assert "⚙️ Settings" in client.buttons()

    async with demo_app.db.read() as session:
        user = await session.scalar(select(User).where(User.login == STUDENT_LOGIN))
        assert user.telegram_id == 7001
        assert user.locale == "en"
        # Only the argon2id hash is stored.
        assert user.password_hash.startswith("$argon2id$")
        dump = "\n".join(
            str(row) for row in (await session.execute(text("SELECT * FROM users"))).all()
        )
        assert STUDENT_PASSWORD not in dump

    # A later /start goes straight home.
    await client.send("/start")
    assert "Қасымов Әлихан" in client.last_message().text


async def test_wrong_password_asks_again_and_is_deleted(demo_app: App) -> None:
    client = demo_app.client(user_id=7002)
    await client.send("/start")
    await client.click("English")
    await client.send(STUDENT_LOGIN)
    await client.send("wrong-password")
    assert "Wrong login or password" in client.last_message().text
    assert "4" in client.last_message().text
    assert all(
        m.deleted for m in client.session.chats[7002].values() if m.text == "wrong-password"
    )
    # Another try works.
    await client.send(STUDENT_LOGIN)
    await client.send(STUDENT_PASSWORD)
    assert "Қасымов Әлихан" in client.last_message().text


async def test_five_failures_lock_sign_in(demo_app: App) -> None:
    client = demo_app.client(user_id=7003)
    await client.send("/start")
    await client.click("English")
    for _ in range(5):
        await client.send(STUDENT_LOGIN)
        await client.send("nope-nope-nope")
    assert "locked until" in client.last_message().text
    # Even the right password is refused while locked.
    await client.send(STUDENT_LOGIN)
    await client.send(STUDENT_PASSWORD)
    assert "locked until" in client.last_message().text
    async with demo_app.db.read() as session:
        user = await session.scalar(select(User).where(User.login == STUDENT_LOGIN))
        assert user.telegram_id is None
    # The lock is per login too: another Telegram account cannot sign in to it either.
    other = await demo_app.signed_in(STUDENT_LOGIN, STUDENT_PASSWORD, user_id=7004)
    assert "locked until" in other.last_message().text


async def test_unknown_login_counts_and_says_the_same(demo_app: App) -> None:
    client = demo_app.client(user_id=7005)
    await client.send("/start")
    await client.click("Русский")
    await client.send("no.such.user")
    await client.send("whatever-123")
    assert "Неверный логин или пароль" in client.last_message().text
    async with demo_app.db.read() as session:
        attempts = (await session.scalars(select(SignInAttempt))).all()
        assert [a.succeeded for a in attempts] == [False]


async def test_forgot_password_shows_registrar(demo_app: App) -> None:
    client = demo_app.client()
    await client.send("/start")
    await client.click("English")
    await client.click("Forgot your password?")
    assert demo_app.settings.registrar_contact in client.last_message().text
    await client.click("« Back")
    assert "login" in client.last_message().text.lower()


async def test_signing_in_elsewhere_moves_the_binding(demo_app: App) -> None:
    first = await demo_app.signed_in(STUDENT_LOGIN, STUDENT_PASSWORD, user_id=7010)
    second = await demo_app.signed_in(STUDENT_LOGIN, STUDENT_PASSWORD, user_id=7011)
    assert "Қасымов Әлихан" in second.last_message().text
    assert "signed in from another Telegram account" in first.last_message().text
    await first.send("/menu")
    assert first.buttons() == ["Қазақша", "Русский", "English"]


async def test_logout_unbinds(demo_app: App) -> None:
    client = await demo_app.signed_in(STUDENT_LOGIN, STUDENT_PASSWORD)
    await client.send("/logout")
    assert "signed out" in client.last_message().text
    async with demo_app.db.read() as session:
        user = await session.scalar(select(User).where(User.login == STUDENT_LOGIN))
        assert user.telegram_id is None
    await client.send("/menu")
    assert client.buttons() == ["Қазақша", "Русский", "English"]


async def test_language_switch_is_stored(demo_app: App) -> None:
    client = await demo_app.signed_in(STUDENT_LOGIN, STUDENT_PASSWORD)
    await client.send("/lang")
    await client.click("Қазақша")
    assert "Бөлімді таңдаңыз" in client.last_message().text
    async with demo_app.db.read() as session:
        user = await session.scalar(select(User).where(User.login == STUDENT_LOGIN))
        assert user.locale == "kk"
    await client.click("⚙️ Баптаулар")
    await client.click("🌐 Тіл")
    await client.click("Русский")
    assert "Выберите раздел" in client.last_message().text


async def test_change_password(demo_app: App) -> None:
    client = await demo_app.signed_in(STUDENT_LOGIN, STUDENT_PASSWORD, user_id=7020)
    await client.click("⚙️ Settings")
    await client.click("Change login or password")
    await client.click("Keep the current login")
    await client.send("short")
    assert "too short" in client.last_message().text
    await client.send("New-Pass-2027")
    await client.send("New-Pass-2027")
    await client.send("not-the-old-one")
    assert "current password is wrong" in client.last_message().text
    await client.send(STUDENT_PASSWORD)
    assert any("saved" in m.text for m in client.messages())
    for secret in ("short", "New-Pass-2027", "not-the-old-one", STUDENT_PASSWORD):
        assert all(m.deleted for m in client.session.chats[7020].values() if m.text == secret), (
            secret
        )
    await client.send("/logout")
    again = await demo_app.signed_in(STUDENT_LOGIN, "New-Pass-2027")
    assert "Қасымов Әлихан" in again.last_message().text


async def test_change_login_refuses_duplicate(demo_app: App) -> None:
    client = await demo_app.signed_in(STUDENT_LOGIN, STUDENT_PASSWORD)
    await client.click("⚙️ Settings")
    await client.click("Change login or password")
    await client.send("demo.teacher")
    assert "already taken" in client.last_message().text
    await client.send("alikhan.k")
    await client.click("Keep the current password")
    await client.send(STUDENT_PASSWORD)
    async with demo_app.db.read() as session:
        assert await session.scalar(select(User.id).where(User.login == "alikhan.k"))


async def test_password_mismatch_asks_again(demo_app: App) -> None:
    client = await demo_app.signed_in(STUDENT_LOGIN, STUDENT_PASSWORD)
    await client.click("⚙️ Settings")
    await client.click("Change login or password")
    await client.click("Keep the current login")
    await client.send("New-Pass-2027")
    await client.send("Other-Pass-2027")
    assert "do not match" in client.last_message().text


async def test_forged_callback_changes_nothing(demo_app: App) -> None:
    client = await demo_app.signed_in(STUDENT_LOGIN, STUDENT_PASSWORD)
    await client.click_data("set:keep_password")
    assert "no longer available" not in (client.last_answer().text or "")
    await client.click_data("nav:admin_secret")
    assert "no longer available" in client.last_answer().text
    await client.click_data("lang:xx")
    assert "no longer available" in client.last_answer().text
    await client.click_data("\x00garbage:::")
    assert client.last_answer() is not None
    async with demo_app.db.read() as session:
        user = await session.scalar(select(User).where(User.login == STUDENT_LOGIN))
        assert user.locale == "en"


async def test_stranger_pressing_a_button_is_asked_to_sign_in(demo_app: App) -> None:
    client = demo_app.client()
    await client.click_data("nav:home")
    assert "sign in" in client.last_answer().text.lower()
    assert client.buttons() == ["Қазақша", "Русский", "English"]


async def test_group_chat_gets_a_private_chat_hint(demo_app: App) -> None:
    client = demo_app.client(chat_id=-100500, chat_type="group")
    requests = await client.send("/start")
    sent = [r for r in requests if isinstance(r, SendMessage)]
    assert len(sent) == 1 and "private chat" in sent[0].text
    # Ordinary group chatter is ignored.
    assert [r for r in await client.send("hello everyone") if isinstance(r, SendMessage)] == []


async def test_commands_registered_per_language(demo_app: App, i18n) -> None:
    await register_commands(demo_app.bot, i18n, MODULES)
    calls = demo_app.session.requests_of(SetMyCommands)
    by_lang = {
        c.language_code: {cmd.command: cmd.description for cmd in c.commands} for c in calls
    }
    assert set(by_lang) == {"kk", "ru", "en", None}
    assert by_lang["en"]["menu"] != by_lang["ru"]["menu"]


async def test_start_clears_the_blocked_mark(demo_app: App) -> None:
    from db.models.delivery import NotificationSettings

    client = await demo_app.signed_in(STUDENT_LOGIN, STUDENT_PASSWORD, user_id=7030)
    async with demo_app.db.write() as session:
        user = await session.scalar(select(User).where(User.login == STUDENT_LOGIN))
        prefs = await session.get(NotificationSettings, user.id)
        if prefs is None:
            prefs = NotificationSettings(user_id=user.id)
            session.add(prefs)
        prefs.bot_blocked_at = demo_app.clock.now()
        user_id = user.id
    await client.send("/start")
    async with demo_app.db.read() as session:
        assert (await session.get(NotificationSettings, user_id)).bot_blocked_at is None


async def test_nul_characters_are_harmless(demo_app: App) -> None:
    """PostgreSQL refuses NUL in text; a login typed with one is simply wrong, on every backend."""
    client = demo_app.client(user_id=7040)
    await client.send("/start")
    await client.click("English")
    await client.send("demo\x00.student")
    await client.send("pass\x00word-1")
    assert "Wrong login or password" in client.last_message().text
    async with demo_app.db.read() as session:
        logins = list(await session.scalars(select(SignInAttempt.login)))
    assert logins == ["demo.student"]
