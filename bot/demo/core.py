"""The demo university's structure and people, loaded through the importer from the example
files in docs/import/examples/ (so the documented examples are always importable).

Loaded from files: faculties, programmes, study forms, academic periods, groups, disciplines,
teachers, staff and students. The example files describe the academic year that starts in
EXAMPLE_YEAR; for another year the year-dependent values (group codes, period codes and dates,
admission years, student numbers and logins, birth dates) are shifted by whole years, so the
demo always has a current year. The demo accounts then get their known passwords.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo.context import DemoContext
from bot.importer import KINDS, ImportOptions, import_table, read_table
from bot.importer.accounts import UNUSABLE_PASSWORD
from bot.importer.reader import Table
from bot.services.auth import hash_password
from db.models import User

__all__ = ["DEMO_ACCOUNTS", "EXAMPLES", "EXAMPLE_YEAR", "UNUSABLE_PASSWORD", "seed"]

DEMO_ACCOUNTS = {
    "student": ("demo.student", "Student-2026!"),
    "teacher": ("demo.teacher", "Teacher-2026!"),
    "staff": ("demo.staff", "Staff-2026!"),
    "admin": ("demo.admin", "Admin-2026!"),
}

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "import" / "examples"
EXAMPLE_YEAR = 2026
# In the order their references need.
FILES = (
    ("faculties", "faculties.csv"),
    ("programmes", "programmes.csv"),
    ("study_forms", "study_forms.csv"),
    ("periods", "periods.csv"),
    ("groups", "groups.csv"),
    ("disciplines", "disciplines.csv"),
    ("teachers", "teachers.csv"),
    ("staff", "staff.csv"),
    ("students", "students.csv"),
)


class DemoDataError(RuntimeError):
    """An example file no longer imports cleanly: the documentation and the demo disagree."""


def _shift_year(value: str, shift: int) -> str:
    return str(int(value) + shift)


def _shift_yy(match: re.Match[str], shift: int) -> str:
    return f"{match.group(1)}{(int(match.group(2)) + shift) % 100:02d}{match.group(3)}"


def _shift_date(value: str, shift: int) -> str:
    if not value:
        return value
    day = date.fromisoformat(value)
    try:
        return day.replace(year=day.year + shift).isoformat()
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + shift, day=28).isoformat()


def _shift_group(code: str, shift: int) -> str:
    return re.sub(r"^([A-Z]+-)(\d\d)(-.*)$", lambda m: _shift_yy(m, shift), code)


def _shift_period(code: str, shift: int) -> str:
    match = re.fullmatch(r"(\d{4})-(\d{4})-(\d)", code)
    if match is None:
        return code
    return f"{int(match.group(1)) + shift}-{int(match.group(2)) + shift}-{match.group(3)}"


def _shift_prefixed(value: str, shift: int) -> str:
    """s2025000 or S20250002: a letter, a year of admission, a number."""
    match = re.fullmatch(r"([A-Za-z])(\d{4})(\d+)", value)
    if match is None:
        return value
    return f"{match.group(1)}{int(match.group(2)) + shift}{match.group(3)}"


# Column (as the header of the example file names it) -> how to shift its value.
_SHIFTS = {
    "groups": {
        "код": _shift_group,
        "год поступления": _shift_year,
    },
    "periods": {
        "code": _shift_period,
        "academic_year": lambda v, s: "-".join(_shift_year(p, s) for p in v.split("-")),
        "starts_on": _shift_date,
        "ends_on": _shift_date,
    },
    "students": {
        "login": _shift_prefixed,
        "student_no": _shift_prefixed,
        "group": _shift_group,
        "admission_year": _shift_year,
        "birth_date": _shift_date,
    },
}


def example_table(kind: str, name: str, year: int) -> Table:
    table = read_table((EXAMPLES / name).read_bytes(), name)
    shift = year - EXAMPLE_YEAR
    shifts = _SHIFTS.get(kind)
    if not shift or not shifts:
        return table
    rows = []
    for line, cells in table.rows:
        cells = list(cells)
        for index, header in enumerate(table.header):
            fn = shifts.get(header)
            if fn is not None and index < len(cells) and cells[index]:
                cells[index] = fn(cells[index], shift)
        rows.append((line, cells))
    return Table(table.header, rows)


async def seed(session: AsyncSession, ctx: DemoContext) -> None:
    options = ImportOptions(issue_passwords=False)
    for kind, name in FILES:
        report = await import_table(
            session, KINDS[kind], example_table(kind, name, ctx.year), options
        )
        if report.problems:
            first = report.problems[0]
            raise DemoDataError(
                f"{name}: line {first.line}, column {first.column}: {first.reason}"
            )
    for role in ("student", "teacher", "staff", "admin"):
        login, password = DEMO_ACCOUNTS[role]
        user = await session.scalar(select(User).where(User.login == login))
        if user is None:
            raise DemoDataError(f"the example files have no account {login}")
        if user.password_hash == UNUSABLE_PASSWORD:
            user.password_hash = await hash_password(password)
            user.must_change_password = False
        ctx.accounts.append((role, login, password))
    await session.flush()
