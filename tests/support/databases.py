"""Per-test databases made from a migrated (and demo-filled) template, on SQLite or PostgreSQL.

SQLite copies a template file; PostgreSQL creates each test's database with
`CREATE DATABASE ... TEMPLATE`, which is a file-level copy too. Set TEST_DATABASE_URL to a
PostgreSQL URL (postgresql+asyncpg://user@host:port/db) to run the suite there.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip() or None
_counter = itertools.count(1)
_RUN = uuid.uuid4().hex[:8]


def is_postgres() -> bool:
    return TEST_DATABASE_URL is not None


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def _admin_execute(sql: str) -> None:
    import asyncpg

    url = make_url(TEST_DATABASE_URL)
    conn = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pg_url(name: str) -> str:
    return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)


async def new_template(kind: str, tmp_dir: Path) -> str:
    """An empty database for a template; returns its URL."""
    if not is_postgres():
        return sqlite_url(tmp_dir / f"{kind}.sqlite3")
    name = f"ais_tpl_{kind}_{_RUN}"
    await _admin_execute(f'DROP DATABASE IF EXISTS "{name}"')
    await _admin_execute(f'CREATE DATABASE "{name}"')
    return _pg_url(name)


async def clone(template_url: str, tmp_dir: Path) -> str:
    """A fresh database with the template's content; returns its URL."""
    if not is_postgres():
        source = Path(make_url(template_url).database or "")
        target = tmp_dir / "ais.sqlite3"
        shutil.copyfile(source, target)
        return sqlite_url(target)
    template = make_url(template_url).database
    name = f"ais_t_{_RUN}_{next(_counter)}"
    await _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return _pg_url(name)


async def drop(url: str) -> None:
    if is_postgres():
        name = make_url(url).database
        await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def drop_templates(urls: list[str]) -> None:
    for url in urls:
        await drop(url)
