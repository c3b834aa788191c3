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
