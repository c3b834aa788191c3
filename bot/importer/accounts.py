"""Accounts created or updated by the people imports (students, teachers, staff).

A new account gets a one-time password, returned in the report for the registrar's file and
stored only as a hash; the person must choose their own at the first sign-in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer.base import Column, ImportContext, IssuedPassword, Row, login, text
from bot.importer.common import load_by
from bot.services import auth
from db.models import Role, User

# No password matches this hash: the account signs in only after a password is issued.
UNUSABLE_PASSWORD = "!unset"
_HASH_BATCH = 16

LOGIN = Column("login", "login", "логин", "логин", login, required=True, aliases=("user",))
PERSON_COLUMNS = (
    LOGIN,
    Column("last_name", "last_name", "фамилия", "тегі", text(100), required=True),
    Column("first_name", "first_name", "имя", "аты", text(100), required=True),
    Column("middle_name", "middle_name", "отчество", "әкесінің аты", text(100)),
)


@dataclass
class AccountOutcome:
    user: User
    created: bool
    changed: list[str] = field(default_factory=list)


@dataclass
class PendingPassword:
    user: User
    where: str


async def upsert_accounts(
    session: AsyncSession,
    ctx: ImportContext,
    rows: list[Row],
    role: Role,
    allowed_roles: Iterable[Role],
) -> dict[int, AccountOutcome]:
    """Accounts by row line; a login held by an account of another kind refuses the row."""
    allowed = set(allowed_roles)
    users = await load_by(session, User, User.login, (r.get("login") for r in rows))
    outcomes: dict[int, AccountOutcome] = {}
    for row in rows:
        if ctx.refused(row):
            continue
        user = users.get(row.get("login"))
        names = {
            "last_name": row.get("last_name"),
            "first_name": row.get("first_name"),
        }
        if row.has("middle_name"):
            names["middle_name"] = row.get("middle_name")
        if user is None:
            user = User(
                login=row.get("login"),
                password_hash=UNUSABLE_PASSWORD,
                role=role,
                must_change_password=ctx.options.issue_passwords,
                **names,
            )
            session.add(user)
            users[user.login] = user
            outcomes[row.line] = AccountOutcome(user, True)
            continue
        if user.role not in allowed:
            ctx.refuse(row, "login", "login_other_role", role=user.role.value)
            continue
        changed = [k for k, v in names.items() if getattr(user, k) != v]
        for k in changed:
            setattr(user, k, names[k])
        outcomes[row.line] = AccountOutcome(user, False, changed)
    await session.flush()
    return outcomes


async def issue_passwords(ctx: ImportContext, pending: list[PendingPassword]) -> None:
    """Hash one-time passwords for the new accounts (not in a dry run: nothing is kept)."""
    if not ctx.options.issue_passwords or ctx.options.dry_run or not pending:
        return
    if ctx.report.problems and not ctx.options.skip_bad_rows:
        return  # the file is refused: nothing will be kept
    for start in range(0, len(pending), _HASH_BATCH):
        batch = pending[start : start + _HASH_BATCH]
        passwords = [auth.one_time_password() for _ in batch]
        hashes = await asyncio.gather(*(auth.hash_password(p) for p in passwords))
        for item, password, hashed in zip(batch, passwords, hashes, strict=True):
            item.user.password_hash = hashed
            ctx.report.passwords.append(
                IssuedPassword(
                    login=item.user.login,
                    last_name=item.user.last_name,
                    first_name=item.user.first_name,
                    middle_name=item.user.middle_name or "",
                    where=item.where,
                    password=password,
                )
            )
