"""Apply the Alembic migrations from code (start-up, tests, tools)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from db.session import Database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


async def upgrade(db: Database, revision: str = "heads") -> None:
    """Bring the schema up to date; every feature branch of migrations is applied."""
    async with db.engine.connect() as conn:
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))
        await conn.commit()


async def downgrade(db: Database, revision: str) -> None:
    async with db.engine.connect() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))
        await conn.commit()
