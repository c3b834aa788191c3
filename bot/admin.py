"""`python -m bot.admin`: accounts from the command line.

    python -m bot.admin create-user LOGIN --role teacher --last-name Оспанов --first-name Бауыржан
    python -m bot.admin reset-password LOGIN
    python -m bot.admin set-role LOGIN staff
    python -m bot.admin sub-roles LOGIN registrar deans_office
    python -m bot.admin block LOGIN / unblock LOGIN
    python -m bot.admin import students students.xlsx --dry-run
    python -m bot.admin import students students.csv --passwords-out passwords.csv
    python -m bot.admin audit --page 2
    python -m bot.admin backup /var/backups/ais/ais-2026-12-01.sqlite3
    python -m bot.admin restore /var/backups/ais/ais-2026-12-01.sqlite3 --dry-run

New accounts and reset passwords get a one-time password, printed once (imports write them to a
file for the registrar instead); the person must choose their own at the next sign-in. Every
change is recorded in the audit log.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.cli import cli_database, cli_settings
from bot.config import Settings
from bot.services import audit, auth, roles
from bot.services.errors import DomainError
from db.base import utcnow
from db.models import Role, Teacher, User
from db.models.admin import SubRole


class AdminError(Exception):
    pass


async def create_user(args: argparse.Namespace) -> str:
    settings = cli_settings()
    login = auth.normalize_login(args.login)
    if not auth.login_is_valid(login):
        raise AdminError(f"login {args.login!r} is not valid (3-64 Latin letters, digits, . _ -)")
    password = auth.one_time_password()
    async with cli_database(settings) as db, db.write() as session:
        if await auth.login_taken(session, login, None):
            raise AdminError(f"login {login!r} is already taken")
        user = User(
            login=login,
            password_hash=await auth.hash_password(password),
            role=Role(args.role),
            last_name=args.last_name,
            first_name=args.first_name,
            middle_name=args.middle_name,
            must_change_password=True,
        )
        session.add(user)
        await session.flush()
        if user.role is Role.teacher:
            session.add(Teacher(user_id=user.id, department=args.department))
        await audit.record(session, None, "user.create", login, {"role": args.role}, utcnow())
    return f"created {login} ({args.role}); one-time password: {password}"


async def _user_id(session: object, login: str) -> int:
    user = await roles.find_user(session, login)  # type: ignore[arg-type]
    if user is None:
        raise AdminError(f"no account with login {login!r}")
    return user.id


async def _tell_chat(settings: Settings, ended: roles.EndedSession | None) -> str:
    """Tell the signed-out chat why, through the bot's token; a phrase for the report."""
    if ended is None:
        return ""
    if not settings.bot_token:
        return " and signed out of Telegram (the chat was not told: BOT_TOKEN is not set)"
    from bot.ended_sessions import tell_ended_session
    from bot.factory import create_bot
    from bot.i18n import build_i18n

    bot = create_bot(settings)
    try:
        told = await tell_ended_session(bot, build_i18n(settings.default_locale), ended)
    finally:
        await bot.session.close()
    if told:
        return " and signed out of Telegram (the chat was told)"
    return " and signed out of Telegram (Telegram refused the notice to the chat)"


async def reset_password(args: argparse.Namespace) -> str:
    settings = cli_settings()
    one_time = await roles.new_one_time_password()
    async with cli_database(settings) as db, db.write() as session:
        user_id = await _user_id(session, args.login)
        reset = await roles.reset_password(
            session, actor_user_id=None, user_id=user_id, now=utcnow(), one_time=one_time
        )
    tail = await _tell_chat(settings, reset.ended)
    # The password stays the last word of the output, for scripts that read it.
    return f"{reset.login}: password reset{tail}; one-time password: {reset.password}"


async def set_role(args: argparse.Namespace) -> str:
    settings = cli_settings()
    role = Role(args.role)
    async with cli_database(settings) as db, db.write() as session:
        user_id = await _user_id(session, args.login)
        change = await roles.set_role(
            session, actor_user_id=None, user_id=user_id, role=role, now=utcnow()
        )
    if change is None:
        return f"{auth.normalize_login(args.login)}: already {role.value}"
    tail = await _tell_chat(settings, change.ended)
    return f"{change.login}: role {change.old.value} -> {change.new.value}{tail}"


async def set_sub_roles(args: argparse.Namespace) -> str:
    settings = cli_settings()
    wanted = {SubRole(value) for value in args.sub_roles}
    async with cli_database(settings) as db, db.write() as session:
        user_id = await _user_id(session, args.login)
        user = await session.get(User, user_id)
        assert user is not None
        if user.role not in roles.STAFF_ROLES:
            raise AdminError("sub-roles are for staff: set the role staff first")
        changed = await roles.set_sub_roles(session, user_id, wanted)
        if changed:
            await audit.record(
                session,
                None,
                "user.sub_roles",
                user.login,
                {"sub_roles": sorted(s.value for s in wanted)},
                utcnow(),
            )
    shown = ", ".join(sorted(s.value for s in wanted)) or "none"
    return f"{user.login}: sub-roles {shown}" + ("" if changed else " (unchanged)")


async def block(args: argparse.Namespace) -> str:
    settings = cli_settings()
    async with cli_database(settings) as db, db.write() as session:
        user_id = await _user_id(session, args.login)
        change = await roles.set_blocked(
            session, actor_user_id=None, user_id=user_id, blocked=args.blocked, now=utcnow()
        )
    state = "blocked" if args.blocked else "unblocked"
    if change is None:
        return f"{auth.normalize_login(args.login)}: already {state}"
    tail = await _tell_chat(settings, change.ended)
    return f"{change.login}: {state}{tail}"


async def show_audit(args: argparse.Namespace) -> str:
    settings = cli_settings()
    async with cli_database(settings) as db, db.read() as session:
        lines, pages = await audit.page(session, max(args.page - 1, 0), args.per_page)
    if not lines:
        return "the audit log is empty"
    out = [f"page {min(args.page, pages)} of {pages}"]
    for line in lines:
        details = ", ".join(f"{k}={v}" for k, v in line.details.items())
        when = line.created_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
        actor = line.actor_login if line.actor_login != "—" else "(command line)"
        out.append(f"{when}  {actor}  {line.action}  {line.target}  {details}".rstrip())
    return "\n".join(out)


async def run_import_command(args: argparse.Namespace) -> str:
    from bot.importer import FileProblem, kind_named, passwords_csv, run_import
    from bot.importer.messages import file_problem_text, reason_text

    kind = kind_named(args.kind)
    if kind is None:
        raise AdminError(f"unknown kind {args.kind!r}; one of: {', '.join(_kind_names())}")
    from bot.importer.reader import MAX_FILE_BYTES

    path = Path(args.file)
    try:
        size = await asyncio.to_thread(lambda: path.stat().st_size)
        if size > MAX_FILE_BYTES:  # refused before a byte of it is read
            raise FileProblem("too_big", limit_mb=MAX_FILE_BYTES // (1024 * 1024))
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise AdminError(f"cannot read {path}: {exc.strerror}") from None
    except FileProblem as exc:
        raise AdminError(file_problem_text(exc.reason, exc.params)) from None
    settings = cli_settings()
    try:
        async with cli_database(settings) as db:
            report = await run_import(
                db,
                kind,
                data,
                filename=path.name,
                dry_run=args.dry_run,
                skip_bad_rows=args.skip_bad_rows,
            )
    except FileProblem as exc:
        raise AdminError(file_problem_text(exc.reason, exc.params)) from None
    out = []
    if report.dry_run:
        out.append(f"{kind.name}: dry run, nothing was changed")
    elif report.applied:
        out.append(f"{kind.name}: imported")
    else:
        out.append(f"{kind.name}: refused, nothing was changed (fix the rows or --skip-bad-rows)")
    out.append(
        f"rows: {report.rows}, created: {report.created}, updated: {report.updated}, "
        f"unchanged: {report.unchanged}, refused: {report.refused}"
    )
    if report.ignored_columns:
        out.append("ignored columns: " + ", ".join(report.ignored_columns))
    for change in report.changes:
        fields = f" ({', '.join(change.fields)})" if change.fields else ""
        out.append(f"  line {change.line}: {change.action} {change.label}{fields}")
    for problem in report.problems:
        value = f' (value "{problem.value}")' if problem.value else ""
        out.append(
            f'  line {problem.line}, column "{problem.column}": {reason_text(problem)}{value}'
        )
    if report.passwords:
        target = Path(args.passwords_out or _default_passwords_path(kind.name))
        await asyncio.to_thread(_write_private, target, passwords_csv(report.passwords))
        out.append(f"one-time passwords of {len(report.passwords)} new accounts: {target}")
    if not report.applied and not report.dry_run:
        raise AdminError("\n".join(out))
    return "\n".join(out)


def _kind_names() -> list[str]:
    from bot.importer import KINDS

    return list(KINDS)


def _default_passwords_path(kind: str) -> str:
    return f"passwords-{kind}-{datetime.now(UTC):%Y%m%d-%H%M%S}.csv"


def _write_private(path: Path, content: bytes) -> None:
    """Only the owner may read the passwords file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)


# Tables whose rows the migrations create (copied over the target's own).
SEEDED_BY_MIGRATIONS = frozenset({"account_epoch"})


async def copy_database(source_url: str, target_url: str, chunk: int = 2000) -> dict[str, int]:
    """Copy every table from one database to another (SQLite to PostgreSQL, say).

    The target is migrated first and must be empty; rows go in foreign-key order, and
    PostgreSQL's id sequences are moved past the copied ids so new rows do not collide.
    """
    from sqlalchemy import func, text

    from db.migrate import upgrade
    from db.models import Base
    from db.session import Database

    source = Database.from_url(source_url)
    target = Database.from_url(target_url)
    counts: dict[str, int] = {}
    try:
        await upgrade(source)
        await upgrade(target)
        async with target.read() as session:
            if await session.scalar(select(func.count()).select_from(User)):
                raise AdminError(
                    "the target database already has accounts; copy into an empty one"
                )
        tables = Base.metadata.sorted_tables
        async with source.engine.connect() as src, target.engine.begin() as dst:
            for table in tables:
                copied = 0
                if table.name in SEEDED_BY_MIGRATIONS:
                    # The migrations put a row there already; the source's replaces it.
                    await dst.execute(table.delete())
                result = await src.stream(select(table))
                async for rows in result.mappings().partitions(chunk):
                    await dst.execute(table.insert(), [dict(r) for r in rows])
                    copied += len(rows)
                counts[table.name] = copied
            if target.engine.dialect.name == "postgresql":
                for table in tables:
                    pk = list(table.primary_key.columns)
                    if len(pk) != 1 or pk[0].type.python_type is not int:
                        continue
                    column = pk[0].name
                    # A primary key that is also a foreign key has no sequence: setval on NULL.
                    await dst.execute(
                        text(
                            "SELECT setval(pg_get_serial_sequence(:t, :c), COALESCE("
                            f"(SELECT MAX({column}) FROM {table.name}), 0) + 1, false) "
                            "WHERE pg_get_serial_sequence(:t, :c) IS NOT NULL"
                        ),
                        {"t": table.name, "c": column},
                    )
    finally:
        await source.dispose()
        await target.dispose()
    return counts


async def copy_db(args: argparse.Namespace) -> str:
    settings = cli_settings()
    counts = await copy_database(args.source or settings.database_url, args.target)
    lines = [f"{name}: {count}" for name, count in counts.items() if count]
    return "copied\n" + "\n".join(lines)


async def backup(args: argparse.Namespace) -> str:
    """A consistent copy of the live database (SQLite), or pg_dump (PostgreSQL)."""
    from bot import backup as bk

    settings = cli_settings()
    target = Path(args.file)
    database = bk.database_file(settings.database_url)
    try:
        if database is None:
            await asyncio.to_thread(bk.postgres_backup, settings.database_url, target)
            return f"pg_dump wrote {target}"
        size = await asyncio.to_thread(bk.sqlite_backup, database, target)
    except bk.BackupError as exc:
        raise AdminError(str(exc)) from None
    return f"backed up {database} to {target} ({size} bytes, integrity ok)"


async def restore(args: argparse.Namespace) -> str:
    """Check a backup (integrity, revision, row counts), then put it in the database's place."""
    from bot import backup as bk

    settings = cli_settings()
    source = Path(args.file)
    database = bk.database_file(settings.database_url)
    if database is None:
        raise AdminError(bk.restore_advice(settings.database_url, source))
    try:
        report = await asyncio.to_thread(bk.inspect_backup, source)
    except bk.BackupError as exc:
        raise AdminError(str(exc)) from None
    lines = report.lines()
    if not report.restorable:
        raise AdminError("\n".join([*lines, "this backup cannot be restored"]))
    if args.dry_run:
        return "\n".join([*lines, f"dry run: {database} left as it is"])
    try:
        saved = await asyncio.to_thread(bk.sqlite_restore, source, database)
    except bk.BackupError as exc:
        raise AdminError(str(exc)) from None
    lines.append(f"restored into {database}")
    if saved is not None:
        lines.append(f"the previous content is kept in {saved}")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bot.admin", description="Manage AIS accounts.")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("create-user", help="create an account with a one-time password")
    c.add_argument("login")
    c.add_argument(
        "--role", choices=[r.value for r in Role if r is not Role.student], required=True
    )
    c.add_argument("--last-name", required=True)
    c.add_argument("--first-name", required=True)
    c.add_argument("--middle-name")
    c.add_argument("--department")
    c.set_defaults(run=create_user)
    r = sub.add_parser("reset-password", help="issue a one-time password")
    r.add_argument("login")
    r.set_defaults(run=reset_password)
    s = sub.add_parser("set-role", help="change an account's role")
    s.add_argument("login")
    s.add_argument("role", choices=[r.value for r in Role])
    s.set_defaults(run=set_role)
    s = sub.add_parser("sub-roles", help="set a staff member's sub-roles (none clears them)")
    s.add_argument("login")
    s.add_argument("sub_roles", nargs="*", choices=[r.value for r in SubRole])
    s.set_defaults(run=set_sub_roles)
    b = sub.add_parser("block", help="block an account and sign it out")
    b.add_argument("login")
    b.set_defaults(run=block, blocked=True)
    b = sub.add_parser("unblock", help="unblock an account")
    b.add_argument("login")
    b.set_defaults(run=block, blocked=False)
    i = sub.add_parser("import", help="import a CSV or .xlsx file (see docs/import)")
    i.add_argument("kind", help="students, teachers, groups, grades, ... (docs/import)")
    i.add_argument("file")
    i.add_argument("--dry-run", action="store_true", help="show what would change")
    i.add_argument("--skip-bad-rows", action="store_true", help="import the good rows")
    i.add_argument("--passwords-out", help="where to write new accounts' one-time passwords")
    i.set_defaults(run=run_import_command)
    a = sub.add_parser("audit", help="the audit log of staff actions, newest first")
    a.add_argument("--page", type=int, default=1)
    a.add_argument("--per-page", type=int, default=20)
    a.set_defaults(run=show_audit)
    c = sub.add_parser("copy-db", help="copy all data into another (empty) database")
    c.add_argument("target", help="e.g. postgresql+asyncpg://ais@127.0.0.1/ais")
    c.add_argument("--source", help="defaults to DATABASE_URL")
    c.set_defaults(run=copy_db)
    k = sub.add_parser("backup", help="copy the live database to FILE (SQLite; pg_dump)")
    k.add_argument("file")
    k.set_defaults(run=backup)
    k = sub.add_parser("restore", help="check a backup, then replace the database with it")
    k.add_argument("file")
    k.add_argument("--dry-run", action="store_true", help="only check and count the rows")
    k.set_defaults(run=restore)
    return p


def main(argv: list[str] | None = None) -> int:
    from bot.i18n import build_i18n

    args = parser().parse_args(argv)
    # Services word their refusals through gettext: the command line reads them in English.
    i18n = build_i18n("en")
    try:
        with i18n.context(), i18n.use_locale("en"):
            print(asyncio.run(args.run(args)))
    except AdminError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DomainError as exc:
        with i18n.context(), i18n.use_locale("en"):
            print(f"error: {exc.user_message() or exc.code}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
