"""Shared fixtures: a migrated database per test, the real dispatcher, a fake Telegram.

Migrating and filling the demo once per run and copying the file per test keeps each test
isolated and fast.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.utils.i18n import I18n

from bot.clock import FrozenClock
from bot.config import Settings
from bot.demo import DemoContext
from bot.demo.__main__ import fill
from bot.factory import create_dispatcher
from bot.i18n import build_i18n, compile_catalogs
from db.migrate import upgrade
from db.session import Database
from tests.support import BotClient, FakeBotSession, databases
from tests.support.storage import JsonMemoryStorage

TEST_TOKEN = "42:TEST-token-for-the-fake-session"
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "").strip() or None


def test_storage() -> tuple[BaseStorage, BaseEventIsolation]:
    """JSON-checked memory storage, or Redis (TEST_REDIS_URL) under a key prefix of its own."""
    if TEST_REDIS_URL is None:
        return JsonMemoryStorage(), SimpleEventIsolation()
    from aiogram.fsm.storage.base import DefaultKeyBuilder
    from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

    prefix = f"aistest:{uuid.uuid4().hex[:12]}"
    storage = RedisStorage.from_url(
        TEST_REDIS_URL, key_builder=DefaultKeyBuilder(prefix=prefix), state_ttl=600, data_ttl=600
    )
    return storage, RedisEventIsolation(
        redis=storage.redis, key_builder=DefaultKeyBuilder(prefix=prefix)
    )


TZ = ZoneInfo("Asia/Almaty")


async def _make_template(url: str, with_demo: bool) -> None:
    db = Database.from_url(url)
    try:
        await upgrade(db)
        if with_demo:
            await fill(db, DemoContext(today=date.today(), tz=TZ))
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def catalogs() -> None:
    compile_catalogs(force=True)


def _template(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("tpl")
    url = asyncio.run(databases.new_template(kind, directory))
    asyncio.run(_make_template(url, with_demo=kind == "demo"))
    yield url
    asyncio.run(databases.drop(url))


@pytest.fixture(scope="session")
def empty_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _template("empty", tmp_path_factory)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _template("demo", tmp_path_factory)


@pytest.fixture
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, empty_template: str, demo_template: str
) -> AsyncIterator[str]:
    """This test's own database: the demo university if the test asks for it, else empty."""
    demo = bool({"demo_db", "demo_app"} & set(request.fixturenames))
    template = demo_template if demo else empty_template
    url = await databases.clone(template, tmp_path)
    yield url
    await databases.drop(url)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        bot_token=TEST_TOKEN,
        database_url=database_url,
        default_locale="ru",
        timezone="Asia/Almaty",
        registrar_contact="Registrar's office, room 101, +7 7122 00-00-00",
        university_name="Demo University",
        # Scripted users press faster than any person; tests of flood control switch it on.
        throttle_rate=0,
    )


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """An empty, migrated database."""
    database = Database.from_url(database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def demo_db(database_url: str) -> AsyncIterator[Database]:
    """The demo university, freshly copied for this test."""
    database = Database.from_url(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def i18n(catalogs: None, settings: Settings) -> I18n:
    return build_i18n(settings.default_locale)


@pytest.fixture
def fake_session() -> FakeBotSession:
    return FakeBotSession()


@pytest.fixture
async def bot(fake_session: FakeBotSession) -> AsyncIterator[Bot]:
    instance = Bot(
        token=TEST_TOKEN,
        session=fake_session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )
    yield instance
    await instance.session.close()


class App:
    """The bot as a test sees it: dispatcher, bot, fake Telegram, the clock, and users."""

    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        session: FakeBotSession,
        db: Database,
        settings: Settings,
        clock: FrozenClock,
        i18n: I18n,
    ) -> None:
        self.dp = dp
        self.bot = bot
        self.session = session
        self.db = db
        self.settings = settings
        self.clock = clock
        self.i18n = i18n
        self._next_user = 5000

    async def restart(self) -> None:
        """A new dispatcher with empty memory, as after a restart of the process; the database
        and the fake Telegram stay."""
        await _close(self)
        storage, isolation = test_storage()
        self.dp = create_dispatcher(
            self.settings,
            self.db,
            self.i18n,
            storage=storage,
            clock=self.clock,
            events_isolation=isolation,
        )

    def client(self, user_id: int | None = None, **kwargs: object) -> BotClient:
        if user_id is None:
            self._next_user += 1
            user_id = self._next_user
        kwargs.setdefault("language_code", "en")
        return BotClient(self.dp, self.bot, self.session, user_id=user_id, **kwargs)

    async def signed_in(
        self, login: str, password: str, user_id: int | None = None, language: str = "English"
    ) -> BotClient:
        """A client that went through the real sign-in dialogue."""
        client = self.client(user_id)
        await client.send("/start")
        await client.click(language)
        await client.send(login)
        await client.send(password)
        return client


def _app_factory(
    settings: Settings, i18n: I18n, bot: Bot, fake_session: FakeBotSession
) -> Callable[[Database], App]:
    def make(database: Database) -> App:
        clock = FrozenClock(datetime.now(UTC))
        storage, isolation = test_storage()
        dp = create_dispatcher(
            settings, database, i18n, storage=storage, clock=clock, events_isolation=isolation
        )
        return App(dp, bot, fake_session, database, settings, clock, i18n)

    return make


@pytest.fixture
async def app(
    settings: Settings, i18n: I18n, bot: Bot, fake_session: FakeBotSession, db: Database
) -> AsyncIterator[App]:
    """The bot over an empty database."""
    instance = _app_factory(settings, i18n, bot, fake_session)(db)
    yield instance
    await _close(instance)


@pytest.fixture
async def demo_app(
    settings: Settings, i18n: I18n, bot: Bot, fake_session: FakeBotSession, demo_db: Database
) -> AsyncIterator[App]:
    """The bot over the demo university."""
    instance = _app_factory(settings, i18n, bot, fake_session)(demo_db)
    yield instance
    await _close(instance)


async def _close(instance: App) -> None:
    await instance.dp.fsm.storage.close()
    await instance.dp.fsm.events_isolation.close()
