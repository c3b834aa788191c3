"""Apply the Alembic migrations from code (start-up, tests, tools).

A bot restarted on a database already at the newest revision does not need Alembic at all:
`upgrade` first reads the revisions of the migration files (their `revision` and
`down_revision` assignments, read, not imported) and the database's `alembic_version`, and
only when they differ (or anything cannot be read that way) loads Alembic and migrates.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from db.session import Database

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _constant(node: ast.AST) -> Any:
    value = ast.literal_eval(node)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, tuple | list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError("not a revision")


_ASSIGNMENT = re.compile(r"^(revision|down_revision)\b[^=\n]*=\s*(.+?)\s*$", re.MULTILINE)


def script_heads(versions_dir: Path = MIGRATIONS_DIR / "versions") -> frozenset[str] | None:
    """The head revisions of the migration files, or None when a file does not declare its
    revisions as plain one-line constants (then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions_dir.glob("*.py"):
        try:
            found = {
                name: _constant(ast.parse(value, mode="eval").body)
                for name, value in _ASSIGNMENT.findall(path.read_text(encoding="utf-8"))
            }
        except (OSError, SyntaxError, ValueError):
            return None
        if not isinstance(found.get("revision"), str) or "down_revision" not in found:
            return None
        revisions.add(found["revision"])
        down = found["down_revision"]
        parents.update((down,) if isinstance(down, str) else (down or ()))
    heads = frozenset(revisions - parents)
    return heads or None


async def is_current(db: Database) -> bool:
    """True when the database is exactly at the migration files' heads."""
    heads = script_heads()
    if heads is None:
        return False
    try:
        async with db.engine.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            applied = frozenset(row[0] for row in rows)
    except SQLAlchemyError:
        return False  # a new database: no alembic_version table yet
    return applied == heads


async def upgrade(db: Database, revision: str = "heads") -> None:
    """Bring the schema up to date; every feature branch of migrations is applied."""
    if revision == "heads" and await is_current(db):
        return
    from alembic import command

    async with db.engine.connect() as conn:
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))
        await conn.commit()


async def downgrade(db: Database, revision: str) -> None:
    from alembic import command

    async with db.engine.connect() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))
        await conn.commit()
