"""The import engine: reading files as Excel saves them, headers in three languages, refusing
bad rows with their line, column and reason, all-or-nothing, skipping bad rows on request."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from bot.demo.core import _shift_group, _shift_prefixed, example_table
from bot.importer import FileProblem, kind_named, passwords_csv, read_table, run_import
from bot.importer.base import IssuedPassword
from db.models import Discipline, Faculty, Programme
from db.models.admin import AuditEntry
from db.session import Database

FACULTIES_RU = (
    "\ufeffКод;Название (рус);Название (каз);Название (англ);Декан\r\n"
    "FMIT;Факультет ФМИТ;ФМАТ факультеті;Faculty of PMIT;Иванов И. И.\r\n"
    "FEL;Факультет экономики и права;Экономика және құқық факультеті;Economics and Law;\r\n"
)
DISCIPLINES_KK = (
    "коды,атауы (қаз),кредит,кафедра\n"
    "MAT1,Математикалық талдау,5,Математика кафедрасы\n"
    "ALG2,Сызықтық алгебра,0,Математика кафедрасы\n"
    "PRG3,Бағдарламалау,x,\n"
    "DBS4,,4,\n"
)


def test_reads_csv_as_excel_saves_it() -> None:
    table = read_table(FACULTIES_RU.encode("utf-8"), "f.csv")
    assert table.header[0] == "Код" and len(table.rows) == 2
    assert table.rows[0] == (
        2,
        ["FMIT", "Факультет ФМИТ", "ФМАТ факультеті", "Faculty of PMIT", "Иванов И. И."],
    )
    # Windows-1251, comma-separated, no BOM.
    legacy = read_table("code,name_ru\nA1,Группа\n".encode("cp1251"))
    assert legacy.rows == [(2, ["A1", "Группа"])]
    for bad, reason in (
        (b"", "empty"),
        (b"PK\x03\x04broken", "not_a_table"),
        (b"\x00\x01\x02", "not_a_table"),
    ):
        with pytest.raises(FileProblem) as info:
            read_table(bad, "x.csv")
        assert info.value.reason == reason


def test_kind_names_in_three_languages() -> None:
    assert kind_named("студенты").name == "students"
    assert kind_named("Студенттер").name == "students"
    assert kind_named("grades").name == "grades"
    assert kind_named("question banks").name == "question_banks"
    assert kind_named("whatever") is None


async def test_russian_header_semicolons_and_bom(db: Database) -> None:
    report = await run_import(db, "faculties", FACULTIES_RU.encode("utf-8"))
    assert report.applied and report.created == 2 and not report.problems
    async with db.read() as session:
        fel = await session.scalar(select(Faculty).where(Faculty.code == "FEL"))
        assert fel.name_en == "Economics and Law" and fel.dean is None
    changed = FACULTIES_RU.replace("Иванов И. И.", "Петров П. П.").encode("utf-8")
    report = await run_import(db, "faculties", changed)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert report.changes[0].fields == ("dean",)


async def test_a_bad_row_refuses_the_file_with_line_column_reason(db: Database) -> None:
    report = await run_import(db, "disciplines", DISCIPLINES_KK.encode("utf-8"))
    assert not report.applied
    found = [(p.line, p.column, p.reason) for p in report.problems]
    assert found == [
        (3, "кредит", "out_of_range"),
        (4, "кредит", "not_number"),
        (5, "атауы (қаз)", "no_name"),
    ]
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Discipline)) == 0
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0

    skipped = await run_import(
        db, "disciplines", DISCIPLINES_KK.encode("utf-8"), skip_bad_rows=True, actor_user_id=None
    )
    assert skipped.applied and skipped.created == 1 and skipped.refused == 3
    async with db.read() as session:
        codes = list(await session.scalars(select(Discipline.code)))
        assert codes == ["MAT1"]
        entry = await session.scalar(select(AuditEntry))
        assert entry.action == "import.disciplines"
        assert entry.details["created"] == 1 and entry.details["refused"] == 3


async def test_unknown_references_and_duplicates(db: Database) -> None:
    await run_import(db, "faculties", FACULTIES_RU.encode("utf-8"))
    data = (
        b"code,faculty,name_en\n"
        b"P1,FMIT,Programme one\n"
        b"P2,NOPE,Programme two\n"
        b"P1,FEL,Programme one again\n"
    )
    report = await run_import(db, "programmes", data)
    assert [(p.line, p.column, p.reason) for p in report.problems] == [
        (3, "faculty", "unknown_faculty"),
        (4, "code", "duplicate_row"),
    ]
    assert report.problems[1].params == {"line": 2}
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Programme)) == 0


async def test_missing_required_column_refuses_before_reading_rows(db: Database) -> None:
    report = await run_import(db, "faculties", b"name_en,dean\nX,Y\n")
    assert [(p.line, p.column, p.reason) for p in report.problems] == [
        (1, "code", "missing_column")
    ]
    extra = await run_import(db, "faculties", "code,name_en,№ п/п\nF1,One,1\n".encode())
    assert extra.applied and extra.ignored_columns == ["№ п/п"]


def test_examples_shift_to_another_academic_year() -> None:
    assert _shift_group("IS-25-1", 2) == "IS-27-1"
    assert _shift_group("EC-24-2z", -1) == "EC-23-2z"
    assert _shift_prefixed("s2025000", 1) == "s2026000"
    assert _shift_prefixed("S20250001", 1) == "S20260001"
    assert _shift_prefixed("demo.student", 1) == "demo.student"
    table = example_table("periods", "periods.csv", 2027)
    assert table.rows[-1][1][:3] == ["2027-2028-2", "2027-2028", "2"]
    assert date.fromisoformat(table.rows[0][1][3]).year == 2025


def test_passwords_file_opens_in_excel() -> None:
    data = passwords_csv([IssuedPassword("s1", "Қасымов", "Әлихан", "", "IS-25-1", "pw12345678")])
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[1] == "s1;Қасымов;Әлихан;;IS-25-1;pw12345678"


def test_docs_describe_every_kind_and_column() -> None:
    from pathlib import Path

    from bot.importer import KINDS

    readme = (Path(__file__).parents[1] / "docs" / "import" / "README.md").read_text("utf-8")
    for name, kind in KINDS.items():
        assert f"## `{name}`" in readme
        assert (
            Path(__file__).parents[1] / "docs" / "import" / "examples" / f"{name}.csv"
        ).exists()
        for column in kind.columns:
            assert f"| `{column.key}`" in readme, (name, column.key)
