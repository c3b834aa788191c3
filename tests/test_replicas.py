"""Two bot processes in webhook mode on one PostgreSQL and one Redis; two delivery workers.

Updates for the same users are fed to both replicas in turn: Redis keeps each dialogue in one
place and runs one user's updates one at a time, so every update gets exactly one answer and
every sign-in completes. Then two delivery workers drain one broadcast together: each row is
claimed by one of them (FOR UPDATE SKIP LOCKED) and every recipient gets exactly one message.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiogram.methods import DeleteMessage
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.clock import Clock
from bot.config import PROJECT_ROOT
from bot.delivery.render import Rendered, renderer
from bot.delivery.worker import DeliveryWorker
from bot.services.auth import hash_password
from bot.services.notify import NoticeKind, notify_many
from db.migrate import upgrade
from db.models import Role, User
from db.models.delivery import Delivery, DeliveryStatus
from db.session import Database
from tests.conftest import TEST_TOKEN, App
from tests.support.fake_session import FakeBotSession
from tests.support.http_botapi import HttpBotApi
from tests.support.services import _check

PG_URL = os.environ.get("TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL_BASE", "redis://127.0.0.1:6379/0")
SECRET = "replica-test-secret-0123456789"
PASSWORD = "Replica-Pass-2026"
USERS = 8
_update_ids = itertools.count(1)


@pytest.fixture(scope="module")
def services_up() -> None:
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("runs in the PostgreSQL + Redis pass of scripts/test (TEST_DATABASE_URL)")
    problems = asyncio.run(_check(PG_URL, REDIS_URL))
    if problems:
        pytest.skip("needs PostgreSQL and Redis: " + "; ".join(problems))


async def _admin(sql: str) -> None:
    import asyncpg

    url = make_url(PG_URL)
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
async def pg_database(services_up: None) -> str:
    name = f"ais_replicas_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    db = Database.from_url(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    yield url
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _user(uid: int) -> dict:
    return {"id": uid, "is_bot": False, "first_name": f"U{uid}", "language_code": "en"}


def _message(uid: int, message_id: int, text: str) -> dict:
    payload = {
        "message_id": message_id,
        "date": int(datetime.now(UTC).timestamp()),
        "chat": {"id": uid, "type": "private", "first_name": f"U{uid}"},
        "from": _user(uid),
        "text": text,
    }
    if text.startswith("/"):
        payload["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": next(_update_ids), "message": payload}


@renderer("test.replicas")
def _render(params: dict, locale: str) -> Rendered:
    return Rendered(text=f"broadcast {params['n']}")


async def _spawn(port: int, env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        return await _exec(port, env, out)


async def _exec(port: int, env: dict[str, str], out: object) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            **env,
            "WEBHOOK_PORT": str(port),
            "WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
        },
        stdout=out,
        stderr=asyncio.subprocess.STDOUT,
    )


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


async def _wait_healthy(http: aiohttp.ClientSession, port: int, proc, log: Path) -> None:
    for _ in range(300):
        if proc.returncode is not None:
            raise AssertionError(f"replica exited: {await asyncio.to_thread(_tail, log)}")
        try:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(
        f"replica on {port} never became healthy: {await asyncio.to_thread(_tail, log)}"
    )


async def test_two_webhook_replicas_share_dialogues(pg_database: str, tmp_path: Path) -> None:
    db = Database.from_url(pg_database)
    base = 770_000 + (uuid.uuid4().int % 10_000) * 10
    uids = [base + i for i in range(USERS)]
    password_hash = await hash_password(PASSWORD)
    async with db.write() as session:
        session.add_all(
            User(
                login=f"replica{i}",
                password_hash=password_hash,
                role=Role.staff,
                last_name="Replica",
                first_name=str(i),
            )
            for i in range(USERS)
        )
    api = HttpBotApi()
    api_url = await api.start()
    env = {
        "BOT_TOKEN": "123456:REPLICA-test-token",
        "BOT_API_URL": api_url,
        "DATABASE_URL": pg_database,
        "REDIS_URL": REDIS_URL,
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_HOST": "127.0.0.1",
        "RUN_SCHEDULER": "0",
    }
    ports = [_free_port(), _free_port()]
    logs = [tmp_path / f"replica{i}.log" for i in range(2)]
    procs = [await _spawn(port, env, log) for port, log in zip(ports, logs, strict=True)]
    message_ids = {uid: itertools.count(1000) for uid in uids}
    try:
        async with aiohttp.ClientSession() as http:
            for port, proc, log in zip(ports, procs, logs, strict=True):
                await _wait_healthy(http, port, proc, log)

            async def post(replica: int, update: dict) -> None:
                async with http.post(
                    f"http://127.0.0.1:{ports[replica]}/hook",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                ) as response:
                    assert response.status == 200

            def bot_messages(uid: int) -> list:
                return [m for m in api.session.chats[uid].values() if m.from_bot]

            async def until(predicate, what: str) -> None:
                # Re-checked after each request the replicas make to the fake Telegram.
                if not await api.session.wait_until(
                    lambda: all(predicate(uid) for uid in uids), 60
                ):
                    raise AssertionError(f"not every user reached: {what}")

            def text_update(uid: int, text: str) -> dict:
                update = _message(uid, next(message_ids[uid]), text)
                api.session.register_user(update["message"]["from"])
                return update

            # 1. /start on alternating replicas.
            await asyncio.gather(
                *(post(i % 2, text_update(uid, "/start")) for i, uid in enumerate(uids))
            )
            await until(lambda uid: len(bot_messages(uid)) == 1, "language choice")

            # 2. The language button, pressed on the other replica.
            async def press(i: int, uid: int) -> None:
                shown = bot_messages(uid)[-1]
                await post(
                    (i + 1) % 2,
                    {
                        "update_id": next(_update_ids),
                        "callback_query": {
                            "id": f"cq{uid}",
                            "from": _user(uid),
                            "chat_instance": str(uid),
                            "data": "lang:en",
                            "message": api.session.message_json(shown),
                        },
                    },
                )

            await asyncio.gather(*(press(i, uid) for i, uid in enumerate(uids)))
            await until(lambda uid: "login" in bot_messages(uid)[-1].text.lower(), "login prompt")

            # 3-4. Login on one replica, password on the other: the dialogue lives in Redis.
            await asyncio.gather(
                *(post(i % 2, text_update(uid, f"replica{i}")) for i, uid in enumerate(uids))
            )
            await until(lambda uid: len(bot_messages(uid)) == 2, "password prompt")
            password_updates = {uid: text_update(uid, PASSWORD) for uid in uids}
            await asyncio.gather(
                *(post((i + 1) % 2, password_updates[uid]) for i, uid in enumerate(uids))
            )
            await until(lambda uid: len(bot_messages(uid)) == 3, "home after sign-in")

            # 5. Two updates of one user at the same instant, one to each replica.
            async def double(uid: int) -> None:
                await asyncio.gather(
                    post(0, text_update(uid, "/menu")), post(1, text_update(uid, "/menu"))
                )

            await asyncio.gather(*(double(uid) for uid in uids))
            await until(lambda uid: len(bot_messages(uid)) == 5, "two home screens")
            await asyncio.sleep(0.3)
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
        codes = [await asyncio.wait_for(proc.wait(), timeout=30) for proc in procs]
        await api.stop()

    assert codes == [0, 0], [_tail(log) for log in logs]
    for uid in uids:
        shown = [m for m in api.session.chats[uid].values() if m.from_bot]
        # Exactly one answer per update: language, password prompt, home, two homes.
        assert len(shown) == 5, [m.text for m in shown]
        assert "Signed in" in shown[2].text or "signed in" in shown[2].text
        # The password message was deleted, once.
        password_id = password_updates[uid]["message"]["message_id"]
        deletions = [
            r
            for r in api.session.requests_of(DeleteMessage)
            if int(r.chat_id) == uid and int(r.message_id) == password_id
        ]
        assert len(deletions) == 1
    async with db.read() as session:
        bound = await session.scalar(select(func.count()).where(User.telegram_id.in_(uids)))
    await db.dispose()
    assert bound == USERS


async def test_two_delivery_workers_send_each_row_once(pg_database: str, app: App) -> None:
    shared = FakeBotSession()
    from aiogram import Bot

    dbs = [Database.from_url(pg_database) for _ in range(2)]
    bots = [Bot(token=TEST_TOKEN, session=shared) for _ in range(2)]
    async with dbs[0].write() as session:
        users = [
            User(
                login=f"bc{i}",
                password_hash="!unset",
                role=Role.student,
                telegram_id=880_000 + i,
                locale="en",
            )
            for i in range(300)
        ]
        session.add_all(users)
        await session.flush()
        await notify_many(
            session,
            user_ids=[u.id for u in users],
            kind=NoticeKind.announcements,
            template="test.replicas",
            params={"n": 1},
            now=datetime.now(UTC),
            urgent=True,
            batch_id=1,
        )
    workers = [
        DeliveryWorker(
            bots[i],
            dbs[i],
            app.i18n,
            app.settings,
            Clock(),
            rate=400.0,
            batch_size=25,
            concurrency=4,
        )
        for i in range(2)
    ]
    try:
        await asyncio.gather(*(w.drain() for w in workers))
        assert all(w.stats["sent"] > 0 for w in workers), [w.stats for w in workers]
        assert sum(w.stats["sent"] for w in workers) == 300
        async with dbs[0].read() as session:
            sent = await session.scalar(
                select(func.count()).where(Delivery.status == DeliveryStatus.sent)
            )
        assert sent == 300
        copies = [
            sum(1 for m in shared.chats[880_000 + i].values() if m.from_bot) for i in range(300)
        ]
        assert set(copies) == {1}
    finally:
        for db in dbs:
            await db.dispose()
        await shared.close()
