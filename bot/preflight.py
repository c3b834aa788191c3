"""Checks run before the bot creates or changes anything: is the database there, can it be
written, does Redis answer. Each failure is one `StartupError` whose message says what is wrong
and what to do, so `python -m bot` ends in one line instead of a traceback.

Nothing here creates the database file or its folder: a bot that cannot start leaves no trace.
"""

from __future__ import annotations

import asyncio
import errno
import os
import sqlite3
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

CONNECT_TIMEOUT = 10.0


class StartupError(Exception):
    """The environment is not ready for the bot; the message is one line for the operator."""


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL; None for an in-memory database or a PostgreSQL URL."""
    scheme, _, rest = database_url.partition("://")
    if not scheme.lower().startswith("sqlite"):
        return None
    path = unquote(rest[1:] if rest.startswith("/") else rest).split("?", 1)[0]
    if path in ("", ":memory:"):
        return None
    return Path(path)


def _writable_dir(folder: Path) -> str | None:
    """Why nothing can be created in `folder` (which exists), or None when something can."""
    if not folder.is_dir():
        return f"{folder} is a file, not a folder"
    try:
        # A real attempt rather than os.access: it also sees read-only mounts, and root.
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".ais-probe-"):
            pass
    except OSError as exc:
        return f"the folder {folder} is not writable ({os.strerror(exc.errno or errno.EACCES)})"
    return None


def check_sqlite(path: Path) -> None:
    """The database file (or the place it will be created) is usable by this process."""
    path = path.expanduser()
    if path.exists():
        if path.is_dir():
            raise StartupError(
                f"DATABASE_URL points at the folder {path}: name a file, "
                f"e.g. sqlite+aiosqlite:///{path / 'ais.sqlite3'}"
            )
        problem = _writable_dir(path.parent)
        if problem is None and not os.access(path, os.R_OK | os.W_OK):
            problem = f"{path} is not readable and writable by this user"
        if problem is not None:
            raise StartupError(
                f"cannot use the SQLite database: {problem}; fix the permissions "
                "(chown/chmod) or point DATABASE_URL elsewhere"
            )
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                conn.execute("PRAGMA schema_version").fetchone()
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            raise StartupError(
                f"{path} is not a SQLite database ({exc}); point DATABASE_URL at the bot's "
                "database or at a new file"
            ) from None
        return
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    problem = _writable_dir(ancestor)
    if problem is not None:
        raise StartupError(
            f"cannot create the SQLite database {path}: {problem}; choose a writable place "
            "in DATABASE_URL (sqlite+aiosqlite:///path/ais.sqlite3) or fix the permissions"
        )


async def check_postgres(database_url: str) -> None:
    """The server answers, lets the user in, and the database exists."""
    import asyncpg

    parts = urlsplit(database_url)
    query = parse_qs(parts.query)
    # ?host=/run/postgresql: a Unix socket folder, as SQLAlchemy's asyncpg dialect accepts.
    host = query.get("host", [parts.hostname or "127.0.0.1"])[0]
    port = int(query.get("port", [parts.port or 5432])[0])
    user = unquote(parts.username) if parts.username else None
    name = unquote(parts.path.lstrip("/"))
    where = f"PostgreSQL at {host}:{port}"
    try:
        conn = await asyncpg.connect(
            host=host,
            port=port,
            user=user,
            password=unquote(parts.password) if parts.password else None,
            database=name,
            timeout=CONNECT_TIMEOUT,
        )
    except asyncpg.InvalidCatalogNameError:
        owner = f" -U {user}" if user else ""
        raise StartupError(
            f"the database {name!r} does not exist on {where}: create it with "
            f"`createdb -h {host} -p {port}{owner} {name}` and start the bot again"
        ) from None
    except (asyncpg.InvalidAuthorizationSpecificationError, asyncpg.InvalidPasswordError) as exc:
        raise StartupError(
            f"{where} refused the user {user!r} ({exc}): check the user and password in "
            "DATABASE_URL, and pg_hba.conf"
        ) from None
    except (OSError, TimeoutError) as exc:
        raise StartupError(
            f"cannot connect to {where} ({exc.strerror or type(exc).__name__}): is PostgreSQL "
            "running (`systemctl status postgresql`) and are the host and port in "
            "DATABASE_URL right?"
        ) from None
    except asyncpg.PostgresError as exc:
        raise StartupError(f"{where} refused the connection: {exc}") from None
    await conn.close()


async def check_redis(redis_url: str) -> None:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(
        redis_url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=CONNECT_TIMEOUT
    )
    parts = urlsplit(redis_url)
    where = f"{parts.hostname or '127.0.0.1'}:{parts.port or 6379}"
    try:
        await client.ping()
    except (RedisError, OSError, TimeoutError) as exc:
        raise StartupError(
            f"cannot reach Redis at {where} (REDIS_URL: {type(exc).__name__}): start Redis, "
            "fix REDIS_URL, or leave REDIS_URL empty to keep dialogues in memory (one process)"
        ) from None
    finally:
        await client.aclose()


async def check_environment(database_url: str, redis_url: str | None) -> None:
    """Every check that needs no Telegram and creates nothing."""
    path = sqlite_path(database_url)
    if path is not None:
        await asyncio.to_thread(check_sqlite, path)
    elif database_url.lower().startswith("postgresql"):
        await check_postgres(database_url)
    if redis_url:
        await check_redis(redis_url)
