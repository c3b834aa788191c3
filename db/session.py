"""Engine and session factory.

Two kinds of unit of work:

- `db.read()` for screens that only look: on SQLite a deferred `BEGIN` (a WAL snapshot that never
  blocks writers);
- `db.write()` for anything that changes data: on SQLite `BEGIN IMMEDIATE`, which takes the write
  lock before the first read, so two concurrent read-modify-write units queue up instead of one
  silently losing its update or failing on a stale snapshot.

Handlers keep these units short and send to Telegram after the unit has committed, so no lock is
held across a network call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

import db.epoch  # noqa: F401  (every unit that changes an account moves the epoch)
from db.memo import Memo

SQLITE_BUSY_TIMEOUT_MS = 30_000
_IMMEDIATE = "ais_begin_immediate"


def _install_sqlite_pragmas(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the driver so BEGIN is ours to choose.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        _install_sqlite_pragmas(engine)
    return engine


class Database:
    """The one handle on the database that handlers, services and jobs receive."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        # Immutable and rarely changed rows kept in memory (db/memo.py); every session of this
        # database reaches it as `session.info["memo"]`.
        self.memo = Memo()
        info = {"memo": self.memo}
        self._read = async_sessionmaker(engine, expire_on_commit=False, info=info)
        write_bind = engine.execution_options(**{_IMMEDIATE: True}) if self.is_sqlite else engine
        self._write = async_sessionmaker(write_bind, expire_on_commit=False, info=info)

    @classmethod
    def from_url(cls, database_url: str, **kwargs: Any) -> Database:
        return cls(create_engine(database_url, **kwargs))

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only unit; anything written in it is rolled back when it closes.

        Closing (not rolling back explicitly) leaves loaded objects readable afterwards.
        """
        async with self._read() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A unit that commits on success and rolls back on any exception."""
        async with self._write() as session, session.begin():
            yield session

    async def ping(self) -> None:
        """Fail fast when the database is unreachable or not a database."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
