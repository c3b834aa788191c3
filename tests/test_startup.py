"""`python -m bot` as the operator runs it: every start-up failure is one line on stderr, a
non-zero exit code, no traceback, and no database file left behind; a healthy start serves
/metrics and /healthz on METRICS_PORT."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.config import PROJECT_ROOT
from tests.support.http_botapi import HttpBotApi

TOKEN = "123456:startup-test-token"
# Whatever the developer's shell or .env says, these are the test's to set.
OWN = ("BOT_TOKEN", "DATABASE_URL", "REDIS_URL", "WEBHOOK_URL", "METRICS_PORT", "BOT_API_URL")
# A probe that runs `python -m bot` and then tells which heavy packages it had imported.
PROBE = (
    "import runpy, sys\n"
    "try:\n"
    "    runpy.run_module('bot', run_name='__main__')\n"
    "finally:\n"
    "    print(sorted({m.split('.')[0] for m in sys.modules} & {'aiogram', 'sqlalchemy'}))\n"
)


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in OWN and not k.startswith("TEST_")}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env.update(values)
    return env


def _run(tmp_path: Path, *args: str, **values: str) -> subprocess.CompletedProcess[str]:
    # From an empty folder: no .env of the developer's is read.
    return subprocess.run(
        [sys.executable, *(args or ("-m", "bot"))],
        cwd=tmp_path,
        env=_env(tmp_path, **values),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert result.returncode == code
    return lines[0]


def _no_files(folder: Path) -> None:
    assert [p.name for p in folder.rglob("*")] == [], "a bot that cannot start created files"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postgres_is_up(host: str = "127.0.0.1", port: int = 5432) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.parametrize(
    ("token", "problem"), [("", "BOT_TOKEN is not set"), ("12345-no-colon", "malformed")]
)
def test_token_is_checked_before_heavy_imports(tmp_path: Path, token: str, problem: str) -> None:
    result = _run(tmp_path, "-c", PROBE, BOT_TOKEN=token)
    line = _one_line(result, 2)
    assert problem in line and "@BotFather" in line
    assert result.stdout.strip() == "[]", "aiogram or SQLAlchemy imported before the token check"
    _no_files(tmp_path)


@pytest.mark.parametrize(
    ("url", "advice"),
    [
        ("foo://bar", "neither SQLite nor PostgreSQL"),
        ("postgresql://ais:pw@127.0.0.1/ais", "write postgresql+asyncpg://ais:***@127.0.0.1/ais"),
        ("sqlite:///ais.sqlite3", "write sqlite+aiosqlite:///ais.sqlite3"),
    ],
)
def test_a_mistyped_database_url_says_what_to_write(tmp_path: Path, url: str, advice: str) -> None:
    line = _one_line(_run(tmp_path, BOT_TOKEN=TOKEN, DATABASE_URL=url), 2)
    assert advice in line
    assert "pw@" not in line  # the password is not echoed
    _no_files(tmp_path)


@pytest.mark.parametrize("module", ["bot", "scheduler"])
def test_postgres_not_running(tmp_path: Path, module: str) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/ais"
    line = _one_line(_run(tmp_path, "-m", module, BOT_TOKEN=TOKEN, DATABASE_URL=url), 3)
    assert "cannot connect to PostgreSQL at 127.0.0.1:1" in line and "running" in line


@pytest.mark.skipif(not _postgres_is_up(), reason="needs PostgreSQL on 127.0.0.1:5432")
def test_postgres_database_missing_says_createdb(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/ais_no_such_database"
    line = _one_line(_run(tmp_path, BOT_TOKEN=TOKEN, DATABASE_URL=url), 3)
    assert "createdb -h 127.0.0.1 -p 5432 -U postgres ais_no_such_database" in line


def test_sqlite_folder_that_cannot_hold_a_database(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the folder should be")
    url = f"sqlite+aiosqlite:///{blocker / 'ais.sqlite3'}"
    line = _one_line(_run(tmp_path, BOT_TOKEN=TOKEN, DATABASE_URL=url), 3)
    assert "cannot create the SQLite database" in line and "is a file, not a folder" in line
    assert [p.name for p in tmp_path.iterdir()] == ["data"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_sqlite_folder_not_writable(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        url = f"sqlite+aiosqlite:///{locked / 'ais.sqlite3'}"
        line = _one_line(_run(tmp_path, BOT_TOKEN=TOKEN, DATABASE_URL=url), 3)
        assert "is not writable" in line
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_redis_unreachable(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    line = _one_line(
        _run(
            tmp_path,
            BOT_TOKEN=TOKEN,
            DATABASE_URL=f"sqlite+aiosqlite:///{data / 'ais.sqlite3'}",
            REDIS_URL="redis://127.0.0.1:1/0",
        ),
        3,
    )
    assert "cannot reach Redis at 127.0.0.1:1" in line and "REDIS_URL" in line
    _no_files(data)


async def test_refused_token_creates_no_database(tmp_path: Path) -> None:
    async def unauthorized(_request: web.Request) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
        )

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", unauthorized)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    data = tmp_path / "data"
    data.mkdir()
    try:
        result = await asyncio.to_thread(
            _run,
            tmp_path,
            BOT_TOKEN=TOKEN,
            DATABASE_URL=f"sqlite+aiosqlite:///{data / 'ais.sqlite3'}",
            BOT_API_URL=f"http://127.0.0.1:{port}",
        )
    finally:
        await runner.cleanup()
    line = _one_line(result, 2)
    assert "Telegram refused BOT_TOKEN" in line
    _no_files(data)


async def _line_with(stream: asyncio.StreamReader, needle: str, seen: list[str]) -> None:
    while True:
        raw = await stream.readline()
        if not raw:
            raise AssertionError("the bot exited:\n" + "".join(seen[-30:]))
        seen.append(raw.decode(errors="replace"))
        if needle in seen[-1]:
            return


async def test_running_bot_serves_metrics_and_health(tmp_path: Path) -> None:
    api = HttpBotApi()
    metrics_port = _free_port()
    env = _env(
        tmp_path,
        BOT_TOKEN=TOKEN,
        BOT_API_URL=await api.start(),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'ais.sqlite3'}",
        METRICS_PORT=str(metrics_port),
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stderr is not None
    seen: list[str] = []
    base = f"http://127.0.0.1:{metrics_port}"
    try:
        await asyncio.wait_for(_line_with(proc.stderr, "Start polling", seen), 120)
        user = {"id": 7001, "is_bot": False, "first_name": "Aru", "language_code": "en"}
        api.push_update(
            {
                "message": {
                    "message_id": 1,
                    "date": 1_790_000_000,
                    "chat": {"id": 7001, "type": "private", "first_name": "Aru"},
                    "from": user,
                    "text": "/start",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                }
            }
        )
        await asyncio.wait_for(_line_with(proc.stderr, "outcome=handled", seen), 60)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/metrics") as response:
                assert response.status == 200
                text = await response.text()
            async with http.get(f"{base}/healthz") as response:
                health = await response.json()
                assert response.status == 200, health
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)
        await api.stop()
    assert 'ais_updates_total{outcome="handled",type="message"} 1.0' in text
    assert "ais_handler_duration_seconds_bucket" in text
    assert "ais_scheduler_leader 1.0" in text
    assert health["mode"] == "polling" and health["updates"] == "up"
    assert health["scheduler"] == "held" and health["status"] == "ok"
    assert TOKEN not in "".join(seen)
