"""Students: an account with the student role and the personal record, keyed by login.

Columns: login* (логин), student_no* (номер студента / студент нөмірі), last_name*,
first_name*, middle_name, group* (группа / топ, a group code), admission_year (год
поступления / түскен жылы; the group's when empty), birth_date (дата рождения / туған күні),
gender (пол / жынысы: M/F, М/Ж, Е/Ә), iin (ИИН / ЖСН, 12 digits), citizenship (гражданство /
азаматтығы), phone (телефон), email (e-mail / эл. пошта), address (адрес / мекенжайы),
funding (финансирование / қаржыландыру: grant, paid), status (статус / мәртебесі: active,
academic_leave, expelled, graduated), advisor (эдвайзер / эдвайзер, a teacher's login).

New students get a one-time password (the report lists them for the registrar).
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer.accounts import PERSON_COLUMNS, PendingPassword, issue_passwords, upsert_accounts
from bot.importer.base import (
    CellError,
    Column,
    ImportContext,
    Kind,
    Row,
    a_date,
    choice,
    code,
    diff,
    integer,
    login,
    text,
)
from bot.importer.common import id_map, load_by, present
from db.models import Group, Role, Student, Teacher, User

GENDERS = {"m": "M", "м": "M", "е": "M", "male": "M", "f": "F", "ж": "F", "ә": "F", "female": "F"}
FUNDING = {
    "grant": "grant",
    "грант": "grant",
    "мемлекеттік грант": "grant",
    "paid": "paid",
    "платное": "paid",
    "договор": "paid",
    "ақылы": "paid",
}
STATUSES = {
    "active": "active",
    "обучается": "active",
    "оқиды": "active",
    "academic_leave": "academic_leave",
    "академический отпуск": "academic_leave",
    "академиялық демалыс": "academic_leave",
    "expelled": "expelled",
    "отчислен": "expelled",
    "шығарылды": "expelled",
    "graduated": "graduated",
    "выпускник": "graduated",
    "түлек": "graduated",
}


def iin(value: str) -> str:
    if not re.fullmatch(r"\d{12}", value):
        raise CellError("bad_iin")
    return value


def email(value: str) -> str:
    if len(value) > 120 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise CellError("bad_email")
    return value


COLUMNS = (
    *PERSON_COLUMNS,
    Column(
        "student_no", "student_no", "номер студента", "студент нөмірі", code(32), required=True
    ),
    Column("group", "group", "группа", "топ", code(32), required=True),
    Column(
        "admission_year", "admission_year", "год поступления", "түскен жылы", integer(1990, 2100)
    ),
    Column("birth_date", "birth_date", "дата рождения", "туған күні", a_date),
    Column("gender", "gender", "пол", "жынысы", choice(GENDERS)),
    Column("iin", "iin", "иин", "жсн", iin),
    Column("citizenship", "citizenship", "гражданство", "азаматтығы", text(64)),
    Column("phone", "phone", "телефон", "телефон", text(32)),
    Column("email", "email", "e-mail", "эл. пошта", email),
    Column("address", "address", "адрес", "мекенжайы", text(1000)),
    Column("funding", "funding", "финансирование", "қаржыландыру", choice(FUNDING)),
    Column("status", "status", "статус", "мәртебесі", choice(STATUSES)),
    Column("advisor", "advisor", "эдвайзер", "эдвайзер", login),
)
_OPTIONAL = (
    "birth_date",
    "gender",
    "iin",
    "citizenship",
    "phone",
    "email",
    "address",
)


async def apply(session: AsyncSession, rows: list[Row], ctx: ImportContext) -> None:
    groups = await load_by(session, Group, Group.code, (r.get("group") for r in rows))
    advisors = await _advisors(session, {r.get("advisor") for r in rows if r.get("advisor")})
    numbers = await id_map(
        session, Student.student_no, (r.get("student_no") for r in rows), Student.user_id
    )
    user_ids = await id_map(session, User.login, (r.get("login") for r in rows), User.id)
    first_line: dict[str, int] = {}
    for row in rows:
        if row.get("group") not in groups:
            ctx.refuse(row, "group", "unknown_group")
        if row.get("advisor") and row.get("advisor") not in advisors:
            ctx.refuse(row, "advisor", "unknown_teacher")
        number = row.get("student_no")
        owner = numbers.get(number)
        if owner is not None and owner != user_ids.get(row.get("login")):
            ctx.refuse(row, "student_no", "student_no_taken")
        elif number in first_line:
            ctx.refuse(row, "student_no", "duplicate_row", line=first_line[number])
        first_line.setdefault(number, row.line)
    accounts = await upsert_accounts(session, ctx, rows, Role.student, {Role.student})
    records = await load_by(
        session, Student, Student.user_id, (a.user.id for a in accounts.values())
    )
    pending: list[PendingPassword] = []
    for row in rows:
        account = accounts.get(row.line)
        if account is None:
            continue
        user = account.user
        group = groups[row.get("group")]
        values = {
            "student_no": row.get("student_no"),
            "group_id": group.id,
            "admission_year": row.get("admission_year") or group.admission_year,
        }
        values |= present(row, *_OPTIONAL, clearable=_OPTIONAL)
        values |= present(row, "funding", "status")
        if row.has("advisor"):
            values["advisor_id"] = advisors.get(row.get("advisor"))
        student = records.get(user.id)
        if student is None:
            session.add(Student(user_id=user.id, **values))
        changed = account.changed + (diff(student, values) if student is not None else [])
        if account.created:
            pending.append(PendingPassword(user, group.code))
            ctx.created(row, user.login)
        elif changed or student is None:
            ctx.updated(row, user.login, changed)
        else:
            ctx.unchanged(row)
    await session.flush()
    await issue_passwords(ctx, pending)


async def _advisors(session: AsyncSession, logins: set[str]) -> dict[str, int]:
    if not logins:
        return {}
    rows = await session.execute(
        select(User.login, Teacher.id)
        .join(Teacher, Teacher.user_id == User.id)
        .where(User.login.in_(sorted(logins)))
    )
    return {login: teacher_id for login, teacher_id in rows}


KIND = Kind("students", COLUMNS, apply, key=("login",))
