"""`python -m bot.admin backup|restore`: a consistent copy of a live SQLite database, and a
restore that checks before it replaces."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.admin import main
from db.base import utcnow
from db.migrate import upgrade
from db.models.admin import AuditEntry
from db.session import Database
from scheduler import lease


async def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def test_backup_taken_while_the_bot_writes_restores_every_committed_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    live = tmp_path / "live" / "ais.sqlite3"
    db = Database.from_url(_url(live))
    await upgrade(db)
    committed: list[int] = []
    warmed_up = asyncio.Event()
    stop = asyncio.Event()

    async def writer() -> None:
        n = 0
        while not stop.is_set():
            async with db.write() as session:
                entry = AuditEntry(action="test.write", target=f"row {n}", created_at=utcnow())
                session.add(entry)
                await session.flush()
                entry_id = entry.id
            committed.append(entry_id)  # after the commit: this row must be in a later backup
            n += 1
            if n == 50:
                warmed_up.set()

    task = asyncio.create_task(writer())
    backup_file = tmp_path / "ais-backup.sqlite3"
    monkeypatch.setenv("DATABASE_URL", _url(live))
    try:
        await warmed_up.wait()
        before = list(committed)
        code, out, err = await _run(capsys, "backup", str(backup_file))
        during = len(committed) - len(before)
    finally:
        stop.set()
        await task
        await db.dispose()
    assert code == 0, err
    assert "integrity ok" in out
    assert backup_file.stat().st_mode & 0o777 == 0o600
    assert not backup_file.with_name(backup_file.name + ".part").exists()

    target = tmp_path / "restored" / "ais.sqlite3"
    monkeypatch.setenv("DATABASE_URL", _url(target))
    code, out, err = await _run(capsys, "restore", str(backup_file), "--dry-run")
    assert code == 0, err
    assert "integrity_check: ok" in out
    assert "matches this code" in out
    rows = int(out.split("  audit_log: ")[1].split()[0])
    assert len(before) <= rows <= len(before) + during + 1
    assert not target.exists()  # a dry run changes nothing

    code, out, err = await _run(capsys, "restore", str(backup_file))
    assert code == 0, err
    restored = Database.from_url(_url(target))
    try:
        async with restored.read() as session:
            ids = set((await session.scalars(select(AuditEntry.id))).all())
    finally:
        await restored.dispose()
    assert set(before) <= ids
    assert len(ids) == rows


async def test_restore_refuses_bad_files_and_a_running_bot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    live = tmp_path / "ais.sqlite3"
    db = Database.from_url(_url(live))
    await upgrade(db)
    monkeypatch.setenv("DATABASE_URL", _url(live))
    backup_file = tmp_path / "copy.sqlite3"
    assert (await _run(capsys, "backup", str(backup_file)))[0] == 0

    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    code, _out, err = await _run(capsys, "restore", str(junk), "--dry-run")
    assert code == 1 and "not a readable SQLite database" in err

    newer = tmp_path / "newer.sqlite3"
    newer.write_bytes(backup_file.read_bytes())
    with sqlite3.connect(newer) as conn:
        conn.execute("DELETE FROM alembic_version")
        conn.execute("INSERT INTO alembic_version VALUES ('ffff_from_the_future')")
    conn.close()
    code, _out, err = await _run(capsys, "restore", str(newer), "--dry-run")
    assert code == 1 and "newer than this code" in err and "cannot be restored" in err

    # A live scheduler lease means the bot runs against the database: hands off.
    now = datetime.now(UTC)
    assert await lease.acquire(db, "host:1:abc", now, timedelta(seconds=60))
    code, _out, err = await _run(capsys, "restore", str(backup_file))
    assert code == 1 and "stop it first" in err
    await lease.release(db, "host:1:abc")
    await db.dispose()

    code, out, err = await _run(capsys, "restore", str(backup_file))
    assert code == 0, err
    kept = await asyncio.to_thread(lambda: list(tmp_path.glob("ais.sqlite3.before-restore-*")))
    assert len(kept) == 1 and f"kept in {kept[0]}" in out
