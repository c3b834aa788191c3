"""The command-line administration: accounts, one-time passwords, roles, copying a database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.admin import AdminError, copy_database, main
from bot.services.auth import verify_password
from db.models import Role, Student, Teacher, User
from db.session import Database
from tests.support import databases


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    return database_url


async def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    # The tool runs its own event loop, as it does from the shell.
    code = await asyncio.to_thread(main, list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


async def test_create_reset_and_role(env: str, capsys: pytest.CaptureFixture[str], db) -> None:
    code, out, _ = await _run(
        capsys,
        "create-user",
        "g.ospanova",
        "--role",
        "teacher",
        "--last-name",
        "Оспанова",
        "--first-name",
        "Гүлнар",
    )
    assert code == 0 and "one-time password" in out
    password = out.rsplit(" ", 1)[-1].strip()
    code, _, err = await _run(
        capsys,
        "create-user",
        "g.ospanova",
        "--role",
        "staff",
        "--last-name",
        "X",
        "--first-name",
        "Y",
    )
    assert code == 1 and "already taken" in err
    code, out, _ = await _run(capsys, "reset-password", "g.ospanova")
    new_password = out.rsplit(" ", 1)[-1].strip()
    assert code == 0 and new_password != password
    code, out, _ = await _run(capsys, "set-role", "g.ospanova", "staff")
    assert code == 0 and "teacher -> staff" in out
    code, _, err = await _run(capsys, "set-role", "nobody.here", "staff")
    assert code == 1 and "no account" in err
    async with db.read() as session:
        user = await session.scalar(select(User).where(User.login == "g.ospanova"))
        assert user.role is Role.staff and user.must_change_password
        assert await verify_password(user.password_hash, new_password)
        assert not await verify_password(user.password_hash, password)
        assert await session.scalar(select(Teacher.id).where(Teacher.user_id == user.id))


async def test_copy_database_moves_everything(demo_db: Database, tmp_path: Path) -> None:
    target_url = await databases.new_template("copy", tmp_path)
    try:
        counts = await copy_database(str(demo_db.engine.url.render_as_string(False)), target_url)
        assert counts["users"] > 40 and counts["students"] > 40
        target = Database.from_url(target_url)
        try:
            async with target.read() as session, demo_db.read() as source:
                for model in (User, Student):
                    assert await session.scalar(select(func.count()).select_from(model)) == (
                        await source.scalar(select(func.count()).select_from(model))
                    )
                names = set(await session.scalars(select(User.last_name)))
                assert "Қасымов" in names
            # New rows get fresh ids after the copy.
            async with target.write() as session:
                session.add(User(login="after.copy", password_hash="!unset", role=Role.staff))
        finally:
            await target.dispose()
        with pytest.raises(AdminError, match="already has accounts"):
            await copy_database(str(demo_db.engine.url.render_as_string(False)), target_url)
    finally:
        await databases.drop(target_url)


async def test_import_block_sub_roles_and_audit(
    env: str,
    capsys: pytest.CaptureFixture[str],
    db,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.demo.core import EXAMPLES

    # New teachers' passwords land in the working directory when no path is given.
    monkeypatch.chdir(tmp_path)

    for kind in ("faculties", "programmes", "study_forms", "periods", "groups", "teachers"):
        code, out, err = await _run(capsys, "import", kind, str(EXAMPLES / f"{kind}.csv"))
        assert code == 0, err
    written = await asyncio.to_thread(lambda: list(tmp_path.glob("passwords-teachers-*.csv")))
    assert len(written) == 1
    students = str(EXAMPLES / "students.csv")
    code, out, _ = await _run(capsys, "import", "студенты", students, "--dry-run")
    assert code == 0 and "dry run" in out and "created: 43" in out
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Student)) == 0
    passwords = tmp_path / "pw.csv"
    code, out, _ = await _run(
        capsys, "import", "students", students, "--passwords-out", str(passwords)
    )
    assert code == 0 and "created: 43" in out and str(passwords) in out
    rows = passwords.read_text("utf-8-sig").splitlines()
    assert len(rows) == 44 and rows[1].startswith("demo.student;Қасымов;Әлихан;")
    # Never on the screen.
    assert rows[1].rsplit(";", 1)[1] not in out
    assert passwords.stat().st_mode & 0o077 == 0
    code, out, _ = await _run(capsys, "import", "students", students)
    assert code == 0 and "unchanged: 43" in out and "one-time passwords" not in out

    bad = tmp_path / "bad.csv"
    bad.write_text("code;credits;name_ru\nX1;5;Икс\nX2;много;Игрек\n", encoding="utf-8")
    code, _, err = await _run(capsys, "import", "disciplines", str(bad))
    assert code == 1 and 'line 3, column "credits": not a number (value "много")' in err
    code, out, _ = await _run(capsys, "import", "disciplines", str(bad), "--skip-bad-rows")
    assert code == 0 and "created: 1" in out and "refused: 1" in out
    code, _, err = await _run(capsys, "import", "nonsense", str(bad))
    assert code == 1 and "unknown kind" in err

    code, out, _ = await _run(capsys, "block", "demo.teacher")
    assert code == 0 and "blocked" in out
    code, out, _ = await _run(capsys, "block", "demo.teacher")
    assert "already blocked" in out
    code, out, _ = await _run(capsys, "unblock", "demo.teacher")
    assert code == 0 and "unblocked" in out
    code, _, err = await _run(capsys, "sub-roles", "demo.teacher", "registrar")
    assert code == 1 and "for staff" in err
    code, out, _ = await _run(capsys, "set-role", "demo.teacher", "staff")
    code, out, _ = await _run(capsys, "sub-roles", "demo.teacher", "registrar", "deans_office")
    assert code == 0 and "deans_office, registrar" in out
    code, _, err = await _run(capsys, "set-role", "t.ospanov", "student")
    assert code == 1 and "student record" in err

    code, out, _ = await _run(capsys, "audit")
    lines = out.splitlines()
    assert lines[0] == "page 1 of 1"
    assert "(command line)  user.sub_roles  demo.teacher" in lines[1]
    assert any("import.students" in line and "created=43" in line for line in lines)
    async with db.read() as session:
        teacher = await session.scalar(select(User).where(User.login == "demo.teacher"))
        assert teacher.role is Role.staff and not teacher.is_blocked


async def test_reset_block_and_role_change_sign_the_chat_out_and_tell_it(
    env: str, capsys: pytest.CaptureFixture[str], db, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the command line too: the account's Telegram session ends, and its chat hears why in
    the person's language, through the bot's token."""
    from aiogram.methods import SendMessage

    from tests.support.http_botapi import HttpBotApi

    api = HttpBotApi()
    monkeypatch.setenv("BOT_TOKEN", "42:CLI-token-for-the-fake-session")
    monkeypatch.setenv("BOT_API_URL", await api.start())
    chat = 9_100_001
    api.session.register_chat(chat, "private", first_name="Ғалым")
    try:
        code, out, _ = await _run(
            capsys, "create-user", "g.tell", "--role", "teacher", "--last-name", "А",
            "--first-name", "Б",
        )  # fmt: skip
        assert code == 0

        async def bind(locale: str) -> None:
            async with db.write() as session:
                user = await session.scalar(select(User).where(User.login == "g.tell"))
                user.telegram_id, user.locale = chat, locale

        async def told() -> str:
            sent = [r for r in api.session.requests_of(SendMessage) if str(r.chat_id) == str(chat)]
            return sent[-1].text if sent else ""

        await bind("ru")
        code, out, _ = await _run(capsys, "reset-password", "g.tell")
        assert code == 0 and "signed out of Telegram (the chat was told)" in out
        assert "сбросила ваш пароль" in await told()

        await bind("en")
        code, out, _ = await _run(capsys, "set-role", "g.tell", "staff")
        assert code == 0 and "the chat was told" in out
        assert "role in the AIS has been changed" in await told()

        await bind("kk")
        code, out, _ = await _run(capsys, "block", "g.tell")
        assert code == 0 and "the chat was told" in out
        assert "бұғаттады" in await told()
        async with db.read() as session:
            user = await session.scalar(select(User).where(User.login == "g.tell"))
            assert user.telegram_id is None and user.is_blocked
    finally:
        await api.stop()


async def test_without_a_token_the_report_says_the_chat_was_not_told(
    env: str, capsys: pytest.CaptureFixture[str], db
) -> None:
    code, _, _ = await _run(
        capsys, "create-user", "g.quiet", "--role", "teacher", "--last-name", "А",
        "--first-name", "Б",
    )  # fmt: skip
    async with db.write() as session:
        user = await session.scalar(select(User).where(User.login == "g.quiet"))
        user.telegram_id = 9_100_002
    code, out, _ = await _run(capsys, "reset-password", "g.quiet")
    assert code == 0 and "not told: BOT_TOKEN is not set" in out
    async with db.read() as session:
        user = await session.scalar(select(User).where(User.login == "g.quiet"))
        assert user.telegram_id is None and user.must_change_password
