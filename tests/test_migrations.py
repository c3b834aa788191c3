"""The migrations build exactly the models' schema, and every revision goes up and down
(on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from db.migrate import MIGRATIONS_DIR, alembic_config, downgrade, upgrade
from db.models import Base
from db.session import Database
from tests.support import databases


async def test_migrations_match_models(tmp_path: Path) -> None:
    url = await databases.new_template("mig", tmp_path)
    db = Database.from_url(url)
    try:
        await upgrade(db)
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
        assert diff == []
    finally:
        await db.dispose()
        await databases.drop(url)


async def test_stairway_up_and_down(tmp_path: Path) -> None:
    """Each revision upgrades, downgrades and upgrades again (catches forgotten downgrades)."""
    script = ScriptDirectory.from_config(alembic_config())
    revisions = list(reversed(list(script.walk_revisions())))
    assert revisions, f"no migrations in {MIGRATIONS_DIR}"
    url = await databases.new_template("stair", tmp_path)
    db = Database.from_url(url)
    try:
        for revision in revisions:
            await upgrade(db, revision.revision)
            below = revision.down_revision or "base"
            if not isinstance(below, str):
                # A merge revision: down to one of the branches it joins (the others go down
                # with it, and come back up with the merge).
                below = below[0]
            await downgrade(db, below)
            await upgrade(db, revision.revision)
        await downgrade(db, "base")
    finally:
        await db.dispose()
        await databases.drop(url)
