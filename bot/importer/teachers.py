"""Teachers: an account with the teacher role and its teacher record, keyed by login.

Columns: login* (логин), last_name* (фамилия / тегі), first_name* (имя / аты), middle_name
(отчество / әкесінің аты), department (кафедра), position (должность / лауазымы),
academic_degree (учёная степень / ғылыми дәрежесі).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer.accounts import PERSON_COLUMNS, PendingPassword, issue_passwords, upsert_accounts
from bot.importer.base import Column, ImportContext, Kind, Row, diff, text
from bot.importer.common import load_by, present
from db.models import Role, Teacher

COLUMNS = (
    *PERSON_COLUMNS,
    Column("department", "department", "кафедра", "кафедра", text(200)),
    Column("position", "position", "должность", "лауазымы", text(200)),
    Column("academic_degree", "academic_degree", "учёная степень", "ғылыми дәрежесі", text(100)),
)
_FIELDS = ("department", "position", "academic_degree")


async def apply(session: AsyncSession, rows: list[Row], ctx: ImportContext) -> None:
    accounts = await upsert_accounts(session, ctx, rows, Role.teacher, {Role.teacher})
    records = await load_by(
        session, Teacher, Teacher.user_id, (a.user.id for a in accounts.values())
    )
    pending: list[PendingPassword] = []
    for row in rows:
        account = accounts.get(row.line)
        if account is None:
            continue
        values = present(row, *_FIELDS, clearable=_FIELDS)
        teacher = records.get(account.user.id)
        if teacher is None:
            session.add(Teacher(user_id=account.user.id, **values))
        changed = account.changed + (diff(teacher, values) if teacher is not None else [])
        if account.created:
            pending.append(PendingPassword(account.user, values.get("department") or ""))
            ctx.created(row, account.user.login)
        elif changed or teacher is None:
            ctx.updated(row, account.user.login, changed)
        else:
            ctx.unchanged(row)
    await session.flush()
    await issue_passwords(ctx, pending)


KIND = Kind("teachers", COLUMNS, apply, key=("login",))
