"""`python -m bot.admin`: accounts from the command line.

    python -m bot.admin create-user LOGIN --role teacher --last-name Оспанов --first-name Бауыржан
    python -m bot.admin reset-password LOGIN
    python -m bot.admin set-role LOGIN staff

New accounts and reset passwords get a one-time password, printed once; the person must choose
their own at the next sign-in.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from sqlalchemy import select

from bot.cli import cli_database, cli_settings
from bot.services import auth
from db.models import Role, Student, Teacher, User


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
    return f"created {login} ({args.role}); one-time password: {password}"


async def reset_password(args: argparse.Namespace) -> str:
    settings = cli_settings()
    password = auth.one_time_password()
    async with cli_database(settings) as db, db.write() as session:
        user = await session.scalar(
            select(User).where(User.login == auth.normalize_login(args.login))
        )
        if user is None:
            raise AdminError(f"no account with login {args.login!r}")
        await auth.set_password(session, user.id, password, temporary=True)
    return f"{user.login}: one-time password: {password}"


async def set_role(args: argparse.Namespace) -> str:
    settings = cli_settings()
    role = Role(args.role)
    async with cli_database(settings) as db, db.write() as session:
        user = await session.scalar(
            select(User).where(User.login == auth.normalize_login(args.login))
        )
        if user is None:
            raise AdminError(f"no account with login {args.login!r}")
        if (
            role is Role.student
            and await session.scalar(select(Student.id).where(Student.user_id == user.id)) is None
        ):
            raise AdminError("a student account needs a student record: import the student")
        if (
            role is Role.teacher
            and await session.scalar(select(Teacher.id).where(Teacher.user_id == user.id)) is None
        ):
            session.add(Teacher(user_id=user.id))
        old = user.role
        user.role = role
    return f"{user.login}: role {old.value} -> {role.value}"


async def copy_database(source_url: str, target_url: str, chunk: int = 2000) -> dict[str, int]:
    """Copy every table from one database to another (SQLite to PostgreSQL, say).

    The target is migrated first and must be empty; rows go in foreign-key order, and
    PostgreSQL's id sequences are moved past the copied ids so new rows do not collide.
    """
    from sqlalchemy import func, select, text

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
    c = sub.add_parser("copy-db", help="copy all data into another (empty) database")
    c.add_argument("target", help="e.g. postgresql+asyncpg://ais@127.0.0.1/ais")
    c.add_argument("--source", help="defaults to DATABASE_URL")
    c.set_defaults(run=copy_db)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        print(asyncio.run(args.run(args)))
    except AdminError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
