"""Staff and administrators, keyed by login, with their sub-roles.

Columns: login* (логин), last_name*, first_name*, middle_name, role (роль / рөлі: staff or
admin; staff when empty), sub_roles (подроли / қосымша рөлдер: registrar, service_centre,
deans_office, appeal_commission, separated by spaces, commas or semicolons; the list replaces
the person's sub-roles when the column is in the file).
"""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer.accounts import PERSON_COLUMNS, PendingPassword, issue_passwords, upsert_accounts
from bot.importer.base import CellError, Column, ImportContext, Kind, Row, choice
from bot.services.roles import set_sub_roles, sub_roles
from db.models import Role
from db.models.admin import SubRole

SUB_ROLE_NAMES = {
    "registrar": SubRole.registrar,
    "офис регистратора": SubRole.registrar,
    "регистратор": SubRole.registrar,
    "тіркеуші": SubRole.registrar,
    "service_centre": SubRole.service_centre,
    "service_center": SubRole.service_centre,
    "цоc": SubRole.service_centre,
    "цос": SubRole.service_centre,
    "deans_office": SubRole.deans_office,
    "деканат": SubRole.deans_office,
    "appeal_commission": SubRole.appeal_commission,
    "апелляционная_комиссия": SubRole.appeal_commission,
    "апелляциялық_комиссия": SubRole.appeal_commission,
}


def sub_role_list(value: str) -> frozenset[SubRole]:
    found = set()
    for part in re.split(r"[,;|\s]+", value.strip()):
        if not part:
            continue
        sub_role = SUB_ROLE_NAMES.get(part.casefold())
        if sub_role is None:
            raise CellError("not_one_of", allowed=", ".join(s.value for s in SubRole))
        found.add(sub_role)
    return frozenset(found)


ROLES = {
    "staff": Role.staff,
    "сотрудник": Role.staff,
    "қызметкер": Role.staff,
    "admin": Role.admin,
    "администратор": Role.admin,
    "әкімші": Role.admin,
}

COLUMNS = (
    *PERSON_COLUMNS,
    Column("role", "role", "роль", "рөлі", choice(ROLES)),
    Column("sub_roles", "sub_roles", "подроли", "қосымша рөлдер", sub_role_list),
)


async def apply(session: AsyncSession, rows: list[Row], ctx: ImportContext) -> None:
    accounts = await upsert_accounts(session, ctx, rows, Role.staff, {Role.staff, Role.admin})
    pending: list[PendingPassword] = []
    for row in rows:
        account = accounts.get(row.line)
        if account is None:
            continue
        user = account.user
        changed = list(account.changed)
        role = row.get("role")
        if role is None and account.created:
            role = Role.staff
        if role is not None and user.role is not role:
            user.role = role
            changed.append("role")
        if row.has("sub_roles"):
            await session.flush()
            wanted = set(row.get("sub_roles") or ())
            if account.created:
                await set_sub_roles(session, user.id, wanted)
            elif await sub_roles(session, user.id) != wanted:
                await set_sub_roles(session, user.id, wanted)
                changed.append("sub_roles")
        if account.created:
            pending.append(PendingPassword(user, user.role.value))
            ctx.created(row, user.login)
        elif changed:
            ctx.updated(row, user.login, changed)
        else:
            ctx.unchanged(row)
    await session.flush()
    await issue_passwords(ctx, pending)


KIND = Kind("staff", COLUMNS, apply, key=("login",))
