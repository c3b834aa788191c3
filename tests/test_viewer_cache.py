"""The signed-in person is kept in memory between updates, and a change to the account made by
another process (the admin command line, another replica) still ends the session: it moves the
account epoch (db/epoch.py), which the bot reads at most once a second."""

from __future__ import annotations

import asyncio
import os
import sys

from aiogram.methods import SendMessage
from sqlalchemy import select

from bot.demo.core import DEMO_ACCOUNTS
from bot.middlewares.viewer import ViewerMiddleware
from db.epoch import read_epoch
from db.models import User
from tests.conftest import App


def _viewer_middleware(app: App) -> ViewerMiddleware:
    return next(
        m for m in app.dp.update.outer_middleware._middlewares if isinstance(m, ViewerMiddleware)
    )


async def test_account_changes_move_the_epoch_and_reads_do_not(demo_app: App) -> None:
    async with demo_app.db.read() as session:
        before = await read_epoch(session)
        await session.scalar(select(User).where(User.login == DEMO_ACCOUNTS["student"][0]))
    async with demo_app.db.write() as session:
        user = await session.scalar(select(User).where(User.login == DEMO_ACCOUNTS["student"][0]))
        user.locale = "kk"
    async with demo_app.db.read() as session:
        assert await read_epoch(session) == before + 1
    try:
        async with demo_app.db.write() as session:
            user = await session.scalar(
                select(User).where(User.login == DEMO_ACCOUNTS["student"][0])
            )
            user.locale = "ru"
            await session.flush()
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    async with demo_app.db.read() as session:
        assert await read_epoch(session) == before + 1


async def test_a_block_from_the_command_line_ends_the_cached_session(
    demo_app: App, database_url: str
) -> None:
    login = DEMO_ACCOUNTS["student"][0]
    client = await demo_app.signed_in(*DEMO_ACCOUNTS["student"])
    await client.send("/menu")
    assert "Қасымов" in client.last_message().text
    middleware = _viewer_middleware(demo_app)
    assert middleware.cache.get(client.user_id) is not None

    env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    env["DATABASE_URL"] = database_url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.admin",
        "block",
        login,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, (out, err)
    # This process never saw the change: the Viewer is still cached here.
    assert middleware.cache.get(client.user_id) is not None

    middleware._epoch_due = 0.0  # the once-a-second look at the epoch is due
    requests = await client.send("/menu")
    texts = [r.text for r in requests if isinstance(r, SendMessage)]
    assert texts and "Қасымов" not in texts[-1]
    assert middleware.cache.get(client.user_id) is None
