"""`python -m bot.testing_admin`: banks and tests from the command line."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.testing_admin import main
from db.models import Group
from db.models.testing import ControlKind, OnlineTest, OnlineTestTarget, Question, TestingRulesText
from db.session import Database
from tests.support import databases
from tests.test_testing_staff import AIKEN, GIFT, PLATONUS


@pytest.fixture
def cli_db(tmp_path: Path, demo_template: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A copy of the demo university that the command-line tool finds through DATABASE_URL."""
    url = asyncio.run(databases.clone(demo_template, tmp_path))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)  # no stray .env
    yield url
    asyncio.run(databases.drop(url))


def query(url: str, statement):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        db = Database.from_url(url)
        try:
            async with db.read() as session:
                return (await session.execute(statement)).all()
        finally:
            await db.dispose()

    return asyncio.run(run())


def test_import_bank_reports_per_file(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, text in (("a.txt", PLATONUS), ("b.gift", GIFT), ("c.aiken", AIKEN)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert main(["import-bank", str(tmp_path / "a.txt"), "--discipline", "NET2203"]) == 0
    out = capsys.readouterr().out
    assert "imported 3 question(s) into NET2203 / Main; refused 1" in out
    assert "line 4: no_options" in out
    assert main(["import-bank", str(tmp_path / "b.gift"), "--discipline", "NET2203"]) == 0
    assert "imported 2" in capsys.readouterr().out
    assert main(["import-bank", str(tmp_path / "c.aiken"), "--discipline", "NET2203"]) == 0
    assert "imported 1" in capsys.readouterr().out
    # Again: duplicates only.
    assert main(["import-bank", str(tmp_path / "a.txt"), "--discipline", "NET2203"]) == 0
    assert "imported 0" in capsys.readouterr().out
    ((count,),) = query(cli_db, select(func.count()).select_from(Question))
    assert count == 12 + 6  # the demo bank and these

    assert main(["import-bank", str(tmp_path / "a.txt"), "--discipline", "NOPE"]) == 1
    assert "no discipline" in capsys.readouterr().err
    assert main(["import-bank", str(tmp_path / "missing.txt"), "--discipline", "NET2203"]) == 1


def test_create_test_with_assignment(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.txt").write_text(PLATONUS, encoding="utf-8")
    main(["import-bank", str(tmp_path / "a.txt"), "--discipline", "NET2203"])
    ((group_id, group_code),) = query(cli_db, select(Group.id, Group.code).limit(1))
    base = [
        "create-test", "--name", "Exam NET", "--discipline", "NET2203", "--control", "exam",
        "--minutes", "40", "--easy", "1", "--medium", "1", "--hard", "1",
        "--opens", "20.05.2030 10:00", "--closes", "20.05.2030 18:00", "--group", group_code,
    ]  # fmt: skip
    assert main([*base[:-2]]) == 1
    assert "at least one --group" in capsys.readouterr().err
    assert main([*base[:12], "2", *base[13:]]) == 1
    assert "the bank has 1 medium question(s), the test needs 2" in capsys.readouterr().err
    assert main([*base, "--results-after-close", "--attempts", "2"]) == 0
    assert "created test" in capsys.readouterr().out
    ((test,),) = query(cli_db, select(OnlineTest).where(OnlineTest.name == "Exam NET"))
    assert test.control == ControlKind.exam and test.time_limit_minutes == 40
    assert test.results_after_close and test.attempts_allowed == 2
    assert test.opens_at.hour == 5  # 10:00 in Almaty (UTC+5)
    targets = query(cli_db, select(OnlineTestTarget.group_id))
    assert (group_id,) in targets


def test_set_rules(cli_db: str, tmp_path: Path) -> None:
    (tmp_path / "rules.txt").write_text("Телефонды алып қойыңыз.", encoding="utf-8")
    assert main(["set-rules", str(tmp_path / "rules.txt"), "--locale", "kk"]) == 0
    assert query(cli_db, select(TestingRulesText.text)) == [("Телефонды алып қойыңыз.",)]
    assert main(["set-rules", "-", "--locale", "kk"]) == 0
    assert query(cli_db, select(TestingRulesText.text)) == []
