"""Start-up stays light: heavy libraries load where first used, a migrated database skips
Alembic, and catalogs are compiled only when their sources changed. (No timings here: those
are in benchmarks/startup.py.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.config import PROJECT_ROOT
from bot.i18n import LOCALES_DIR, compile_catalogs
from db.migrate import alembic_config, is_current, script_heads, upgrade
from db.session import Database
from tests.support import databases

HEAVY = ("fpdf", "fontTools", "openpyxl", "docx", "PIL", "qrcode", "icalendar", "matplotlib")
# What `python -m bot` imports before it serves (its own module and what that pulls in).
START_MODULES = ("bot.__main__", "bot.factory", "scheduler.runner", "bot.handlers")


def test_start_up_modules_do_not_import_heavy_libraries() -> None:
    code = (
        "import sys\n"
        f"for name in {START_MODULES!r}:\n"
        "    __import__(name)\n"
        f"print(','.join(m for m in {(*HEAVY, 'alembic')!r} if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "", f"imported at start-up: {done.stdout.strip()}"


def test_parsed_heads_are_alembics_heads() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script_heads() == frozenset(script.get_heads())


async def test_a_migrated_database_is_current_and_a_new_one_is_not(tmp_path: Path) -> None:
    url = await databases.new_template("current", tmp_path)
    db = Database.from_url(url)
    try:
        assert not await is_current(db)
        await upgrade(db)
        assert await is_current(db)
        # A head missing from the database (a new feature's migration) means "not current".
        async with db.engine.begin() as conn:
            await conn.execute(text("DELETE FROM alembic_version"))
        assert not await is_current(db)
    finally:
        await db.dispose()
        await databases.drop(url)


def test_catalogs_compile_only_when_a_source_changed(tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, locales, ignore=shutil.ignore_patterns("*.mo", "*.stamp"))
    assert len(compile_catalogs(locales)) == 3
    assert compile_catalogs(locales) == []
    source = next((locales / "en" / "LC_MESSAGES").glob("*.po"))
    # Newer times, same content (a checkout, a copy): nothing to compile.
    future = time.time() + 1000
    os.utime(source, (future, future))
    assert compile_catalogs(locales) == []
    # Changed content: that language only.
    source.write_text(source.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    os.utime(source, (future + 100, future + 100))
    assert compile_catalogs(locales) == [locales / "en" / "LC_MESSAGES" / "messages.mo"]
    # A removed source: compiled again.
    source.unlink()
    assert compile_catalogs(locales) == [locales / "en" / "LC_MESSAGES" / "messages.mo"]
