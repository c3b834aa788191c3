"""Shared fixtures: a migrated database per test, the real dispatcher, a fake Telegram.

Migrating and filling the demo once per run and copying the file per test keeps each test
isolated and fast.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.utils.i18n import I18n

from bot.clock import FrozenClock
from bot.config import Settings
from bot.demo import DemoContext
from bot.demo.__main__ import fill
from bot.factory import create_dispatcher
from bot.i18n import build_i18n, compile_catalogs
from db.migrate import upgrade
from db.session import Database
from tests.support import BotClient, FakeBotSession
from tests.support.storage import JsonMemoryStorage

TEST_TOKEN = "42:TEST-token-for-the-fake-session"
TZ = ZoneInfo("Asia/Almaty")


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def _make_template(path: Path, with_demo: bool) -> DemoContext | None:
    db = Database.from_url(sqlite_url(path))
    try:
        await upgrade(db)
        if not with_demo:
            return None
        ctx = DemoContext(today=date.today(), tz=TZ)
        await fill(db, ctx)
        return ctx
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def catalogs() -> None:
    compile_catalogs(force=True)


@pytest.fixture(scope="session")
def empty_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "empty.sqlite3"
    asyncio.run(_make_template(path, with_demo=False))
    return path


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "demo.sqlite3"
    asyncio.run(_make_template(path, with_demo=True))
    return path


def _copy_db(template: Path, target_dir: Path) -> Path:
    target = target_dir / "ais.sqlite3"
    shutil.copyfile(template, target)
    return target


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        bot_token=TEST_TOKEN,
        database_url=sqlite_url(tmp_path / "ais.sqlite3"),
        default_locale="ru",
        timezone="Asia/Almaty",
        registrar_contact="Registrar's office, room 101, +7 7122 00-00-00",
        university_name="Demo University",
    )


@pytest.fixture
async def db(settings: Settings, tmp_path: Path, empty_template: Path) -> AsyncIterator[Database]:
    """An empty, migrated database."""
    _copy_db(empty_template, tmp_path)
    database = Database.from_url(settings.database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def demo_db(
    settings: Settings, tmp_path: Path, demo_template: Path
) -> AsyncIterator[Database]:
    """The demo university, freshly copied for this test."""
    _copy_db(demo_template, tmp_path)
    database = Database.from_url(settings.database_url)
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
        dp = create_dispatcher(
            settings, database, i18n, storage=JsonMemoryStorage(), clock=clock
        )
        return App(dp, bot, fake_session, database, settings, clock, i18n)

    return make


@pytest.fixture
def app(
    settings: Settings, i18n: I18n, bot: Bot, fake_session: FakeBotSession, db: Database
) -> App:
    """The bot over an empty database."""
    return _app_factory(settings, i18n, bot, fake_session)(db)


@pytest.fixture
def demo_app(
    settings: Settings, i18n: I18n, bot: Bot, fake_session: FakeBotSession, demo_db: Database
) -> App:
    """The bot over the demo university."""
    return _app_factory(settings, i18n, bot, fake_session)(demo_db)
