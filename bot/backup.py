"""Backups of the live database and their restore (`python -m bot.admin backup|restore`).

SQLite: SQLite's online backup API copies the whole database in one step under a read
transaction, so the copy is the database as it was at one instant, even while the bot writes
(WAL readers do not block writers). The copy is a single self-contained file (journal mode
DELETE), owner-readable only, checked with `PRAGMA integrity_check`, and renamed into place only
when complete.

PostgreSQL: `pg_dump --format=custom`, run for you when it is on PATH (the password goes through
PGPASSWORD, never the command line); `pg_restore` brings it back (docs/deployment.md).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bot.preflight import sqlite_path


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why and what to do."""


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    return sqlite3.connect(path, timeout=30)


def sqlite_backup(source: Path, target: Path) -> int:
    """Copy a live SQLite database to `target`; returns its size in bytes (blocking: call it
    from a thread)."""
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    if target.resolve() == source.resolve():
        raise BackupError("the backup file must not be the database itself")
    part = target.with_name(target.name + ".part")
    part.unlink(missing_ok=True)
    src = _connect(source)
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        dst = _connect(part)
        try:
            # pages=-1 (the default): one step, one read transaction, one instant.
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            verdict = dst.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dst.close()
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    if verdict != "ok":
        part.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check: {verdict}")
    os.replace(part, target)
    return target.stat().st_size


@dataclass
class BackupReport:
    """What a backup file holds, as `restore --dry-run` prints it."""

    path: Path
    integrity: str = ""
    revisions: set[str] = field(default_factory=set)
    code_heads: set[str] = field(default_factory=set)
    unknown_revisions: set[str] = field(default_factory=set)
    row_counts: dict[str, int] = field(default_factory=dict)

    @property
    def revision_state(self) -> str:
        if self.unknown_revisions:
            return (
                "newer than this code (unknown revisions: "
                + ", ".join(sorted(self.unknown_revisions))
                + ")"
            )
        if self.revisions == self.code_heads:
            return "matches this code"
        return "older than this code: it is migrated when the bot next starts"

    @property
    def restorable(self) -> bool:
        return self.integrity == "ok" and not self.unknown_revisions and bool(self.revisions)

    def lines(self) -> list[str]:
        out = [
            f"backup: {self.path}",
            f"integrity_check: {self.integrity}",
            "alembic revision: "
            + (", ".join(sorted(self.revisions)) or "none (not a database of this bot)")
            + f" ({self.revision_state})",
            "rows:",
        ]
        out += [f"  {name}: {count}" for name, count in sorted(self.row_counts.items())]
        return out


def _code_revisions() -> tuple[set[str], set[str]]:
    """(heads, every known revision) of this code's migrations."""
    from alembic.script import ScriptDirectory

    from db.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    return set(script.get_heads()), known


def inspect_backup(path: Path) -> BackupReport:
    """Integrity, migration revision and row counts of a SQLite backup (read-only)."""
    if not path.is_file():
        raise BackupError(f"there is no backup file at {path}")
    report = BackupReport(path)
    try:
        conn = _connect(path, read_only=True)
        try:
            report.integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
            if "alembic_version" in tables:
                report.revisions = {
                    row[0] for row in conn.execute("SELECT version_num FROM alembic_version")
                }
            for table in tables:
                if table != "alembic_version":
                    count = conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
                    report.row_counts[table] = count
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database ({exc})") from None
    report.code_heads, known = _code_revisions()
    report.unknown_revisions = report.revisions - known
    return report


def _live_lease(database: Path) -> str | None:
    """Who holds a live scheduler lease on the database, if anyone: the bot is running."""
    try:
        conn = _connect(database, read_only=True)
        try:
            row = conn.execute(
                "SELECT holder, expires_at FROM scheduler_leases ORDER BY expires_at DESC"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None
    if row is None:
        return None
    expires = datetime.fromisoformat(str(row[1]))
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    return str(row[0]) if expires > datetime.now(UTC) else None


def sqlite_restore(backup: Path, database: Path) -> Path | None:
    """Replace the database's content with the backup's; returns where the old content was
    saved (None when there was no database). Blocking: call it from a thread."""
    holder = _live_lease(database) if database.is_file() else None
    if holder is not None:
        raise BackupError(
            f"the bot is running against {database} (scheduler lease held by {holder}): "
            "stop it first (systemctl stop ais-bot), wait a minute, and run restore again"
        )
    saved: Path | None = None
    if database.is_file():
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        saved = database.with_name(f"{database.name}.before-restore-{stamp}")
        sqlite_backup(database, saved)
    database.parent.mkdir(parents=True, exist_ok=True)
    src = _connect(backup, read_only=True)
    try:
        dst = _connect(database)
        try:
            # Through the backup API rather than a file copy: stale -wal/-shm files of the old
            # database cannot be replayed over the restored one.
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")
            verdict = dst.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dst.close()
    finally:
        src.close()
    if verdict != "ok":
        raise BackupError(f"the restored database failed its integrity check: {verdict}")
    return saved


def _libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and the environment that carries it."""
    parts = urlsplit(database_url)
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    netloc = parts.hostname or "127.0.0.1"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return f"postgresql://{netloc}{parts.path}", env


def pg_dump_command(database_url: str, target: Path) -> list[str]:
    url, _env = _libpq(database_url)
    return ["pg_dump", "--format=custom", "--no-owner", f"--file={target}", f"--dbname={url}"]


def postgres_backup(database_url: str, target: Path) -> None:
    command = pg_dump_command(database_url, target)
    if shutil.which("pg_dump") is None:
        raise BackupError(
            "pg_dump is not installed (apt install postgresql-client); on a machine that has "
            "it run: PGPASSWORD=... " + " ".join(command)
        )
    _url, env = _libpq(database_url)
    # Created owner-only first: pg_dump keeps the mode of a file that exists.
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError("pg_dump failed: " + (result.stderr.strip().splitlines() or ["?"])[-1])


def restore_advice(database_url: str, backup: Path) -> str:
    url, _env = _libpq(database_url)
    return (
        "PostgreSQL backups are restored with pg_restore: stop the bot, then "
        f"pg_restore --clean --if-exists --no-owner --dbname={url} {backup} "
        "(docs/deployment.md, restore drill)"
    )


def database_file(database_url: str) -> Path | None:
    return sqlite_path(database_url)
