"""Every kind imports from its example file, as CSV and as .xlsx, and a second run changes
nothing; the examples are the documented ones (docs/import/examples)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from bot.demo.core import EXAMPLES
from bot.importer import KINDS, read_table, run_import
from bot.importer.reader import Table
from db.models import Discipline, Faculty, Group, Student, Teacher, User
from db.models.academic import (
    AttendanceMark,
    CalendarEvent,
    CurrentMark,
    Enrolment,
    TimetableSlot,
)
from db.models.admin import StaffRole, SubRole
from db.models.delivery import Delivery
from db.models.library import LibraryItem
from db.models.services import Service
from db.models.testing import Question
from db.session import Database

FILES = {kind: EXAMPLES / f"{kind}.csv" for kind in KINDS}


def as_xlsx(table: Table) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(table.header)
    for _, cells in table.rows:
        # Numbers as numbers, as a spreadsheet keeps them.
        sheet.append([int(c) if c.isdigit() and not c.startswith("0") else c for c in cells])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def content(kind: str, fmt: str) -> tuple[bytes, str]:
    data = FILES[kind].read_bytes()
    if fmt == "csv":
        return data, f"{kind}.csv"
    return as_xlsx(read_table(data, f"{kind}.csv")), f"{kind}.xlsx"


async def count(db: Database, model: type) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_every_kind_imports_and_reimports_unchanged(db: Database, fmt: str) -> None:
    for kind in KINDS:
        data, name = content(kind, fmt)
        rows = len(read_table(data, name).rows)
        report = await run_import(db, kind, data, filename=name)
        assert report.problems == [], (kind, report.problems)
        assert report.applied and report.rows == rows
        assert report.created + report.updated + report.unchanged == rows
        assert report.created + report.updated > 0, kind
        again = await run_import(db, kind, data, filename=name)
        assert (again.created, again.updated, again.unchanged) == (0, 0, rows), kind
        assert again.passwords == []

    assert await count(db, Student) == len(read_table(FILES["students"].read_bytes()).rows)
    assert await count(db, Teacher) == 8
    async with db.read() as session:
        student = await session.scalar(
            select(Student).join(User).where(User.login == "demo.student")
        )
        group = await session.get(Group, student.group_id)
        assert group.code == "IS-25-1" and student.student_no == "S20250001"
        demo = await session.scalar(select(User).where(User.login == "demo.student"))
        assert (demo.last_name, demo.first_name, demo.middle_name) == (
            "Қасымов",
            "Әлихан",
            "Ұлықбекұлы",
        )
        assert demo.must_change_password
        staff = await session.scalar(select(User).where(User.login == "demo.staff"))
        held = set(
            await session.scalars(select(StaffRole.sub_role).where(StaffRole.user_id == staff.id))
        )
        assert held == set(SubRole)
        # Assignment: the lecture teacher of every enrolment, t.ospanov at the lab.
        dbs = await session.scalar(select(Discipline.id).where(Discipline.code == "DBS2201"))
        teachers = dict(
            (
                await session.execute(
                    select(TimetableSlot.kind, User.login)
                    .join(Teacher, Teacher.id == TimetableSlot.teacher_id)
                    .join(User, User.id == Teacher.user_id)
                    .where(TimetableSlot.discipline_id == dbs)
                )
            ).all()
        )
        assert {k.value: v for k, v in teachers.items()} == {
            "lecture": "demo.teacher",
            "lab": "t.ospanov",
        }
        enrolment = await session.scalar(
            select(Enrolment).where(
                Enrolment.student_id == student.id, Enrolment.discipline_id == dbs
            )
        )
        assert enrolment.midterm1 == Decimal("85.00")
        marks = list(
            await session.scalars(
                select(CurrentMark.value).where(CurrentMark.enrolment_id == enrolment.id)
            )
        )
        assert marks == [Decimal("78.50")]
        present = list(await session.scalars(select(AttendanceMark.present)))
        assert sorted(present) == [False, True, True]
        assert await session.scalar(select(func.count()).select_from(CalendarEvent)) == 4
        assert await session.scalar(select(func.count()).select_from(LibraryItem)) == 2
        assert await session.scalar(select(func.count()).select_from(Question)) == 3
        service = await session.scalar(select(Service).where(Service.code == "DORM-PLACE"))
        assert service.duration_days == 5 and service.electronic
        # Grade imports queue the students' grade pushes, as the journal does.
        pushes = list(
            await session.scalars(
                select(Delivery).where(Delivery.template == "journal.mark_changed")
            )
        )
        assert {p.user_id for p in pushes} == {
            demo.id,
            await session.scalar(select(User.id).where(User.login == "s2025000")),
        }
        assert len(pushes) == 4


async def test_new_accounts_get_one_time_passwords(db: Database) -> None:
    from bot.services.auth import verify_password

    for kind in ("faculties", "programmes", "study_forms", "periods", "groups", "teachers"):
        await run_import(db, kind, FILES[kind].read_bytes(), filename=f"{kind}.csv")
    report = await run_import(db, "students", FILES["students"].read_bytes())
    assert len(report.passwords) == report.created == 43
    issued = {p.login: p.password for p in report.passwords}
    assert issued["demo.student"] != issued["s2025000"]
    async with db.read() as session:
        user = await session.scalar(select(User).where(User.login == "s2025000"))
        assert user.must_change_password
        assert await verify_password(user.password_hash, issued["s2025000"])
    again = await run_import(db, "students", FILES["students"].read_bytes())
    assert again.passwords == [] and again.unchanged == 43


async def test_dry_run_changes_nothing(db: Database) -> None:
    report = await run_import(db, "faculties", FILES["faculties"].read_bytes(), dry_run=True)
    assert report.dry_run and not report.applied and report.created == 2
    assert [c.label for c in report.changes] == ["FMIT", "FEL"]
    assert await count(db, Faculty) == 0
