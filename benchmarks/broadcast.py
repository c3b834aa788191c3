"""An announcement to 20,000 people, sent by the production delivery loop on the real clock.

    .venv/bin/python -m benchmarks.broadcast                        # 20,000 recipients, ~14 min
    .venv/bin/python -m benchmarks.broadcast --recipients 2000      # a quicker look

The outbox and the worker are the ones the bot runs (bot/delivery/worker.py, `run_forever` with
the scheduler's settings: 25 messages/s, batches of 100 claimed ahead, 8 sends in flight) on a
temporary SQLite file. The fake Bot API answers after a network delay and enforces Telegram's
limits (`--limit` messages a second overall, one a second per chat) with 429 `retry_after`.

Printed: the achieved rate as a share of the configured one (batch boundaries must not cost
rate: target >= 0.95), 429s received, lost and duplicated deliveries (both must be 0), and the
CPU and database time per message; the last line is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.methods import TelegramMethod
from sqlalchemy import event, func, insert, select

from bot.clock import Clock
from bot.config import Settings
from bot.delivery.render import Rendered, renderer
from bot.delivery.worker import DeliveryWorker
from bot.i18n import build_i18n
from bot.services.notify import NoticeKind, notify_many
from db.migrate import upgrade
from db.models import Role, User
from db.models.delivery import Delivery, DeliveryStatus, NotificationSettings
from db.session import Database
from tests.support.fake_session import FakeBotSession

TOKEN = "42:BENCHMARK-broadcast"
FIRST_CHAT = 3_000_000


@renderer("benchmark.announcement")
def _render(params: dict, locale: str) -> Rendered:
    return Rendered(text=f"Announcement #{params['n']}: the library is open until 22:00.")


class NetworkBotApi(FakeBotSession):
    """The fake Telegram behind a network delay; counts what each chat received and wakes
    the benchmark when every recipient has a message."""

    def __init__(self, recipients: int, latency: float) -> None:
        super().__init__()
        self.latency = latency
        self.received: Counter[int] = Counter()
        self.everyone = asyncio.Event()
        self.recipients = recipients
        self.last_at = 0.0

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> Any:
        if self.latency:
            await asyncio.sleep(self.latency)
        result = await super().make_request(bot, method, timeout)
        chat_id = getattr(method, "chat_id", None)
        if isinstance(chat_id, int):
            self.received[chat_id] += 1
            self.last_at = time.perf_counter()
            if len(self.received) >= self.recipients:
                self.everyone.set()
        return result


class DatabaseTime:
    """Statements and the time spent in them (the driver's round trips included)."""

    def __init__(self, db: Database) -> None:
        self.statements = 0
        self.seconds = 0.0
        engine = db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, *args: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn: Any, *args: Any) -> None:
        self.seconds += time.perf_counter() - conn.info["bench_started"].pop()
        self.statements += 1


async def _queue(db: Database, recipients: int, clock: Clock) -> int:
    now = clock.now()
    async with db.write() as s:
        rows = [
            {
                "login": f"b{i}",
                "password_hash": "!unset",
                "role": Role.student,
                "last_name": "",
                "first_name": "",
                "telegram_id": FIRST_CHAT + i,
                "locale": "en",
                "must_change_password": False,
                "is_blocked": False,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(recipients)
        ]
        for start in range(0, len(rows), 2000):
            await s.execute(insert(User), rows[start : start + 2000])
        ids = list(await s.scalars(select(User.id)))
        # Quiet hours off: the benchmark measures pace at any hour of the day.
        prefs = [{"user_id": uid, "quiet_enabled": False, "disabled_kinds": []} for uid in ids]
        for start in range(0, len(prefs), 2000):
            await s.execute(insert(NotificationSettings), prefs[start : start + 2000])
        return await notify_many(
            s,
            user_ids=ids,
            kind=NoticeKind.announcements,
            template="benchmark.announcement",
            params={"n": 1},
            now=now,
            batch_id=1,
        )


async def run(
    recipients: int, limit: float = 30.0, rate: float = 25.0, latency: float = 0.05
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.from_url(f"sqlite+aiosqlite:///{Path(tmp) / 'broadcast.sqlite3'}")
        clock = Clock()
        api = NetworkBotApi(recipients, latency)
        api.set_rate_limit(global_per_s=limit, per_chat_per_s=1)
        bot = Bot(
            token=TOKEN, session=api, default=DefaultBotProperties(parse_mode=ParseMode.HTML)
        )
        try:
            await upgrade(db)
            queued = await _queue(db, recipients, clock)
            settings = Settings(bot_token=TOKEN, database_url="", default_locale="en")
            # The scheduler's worker: only the rate may differ (to meet the fake's 429s).
            worker = DeliveryWorker(bot, db, build_i18n("en"), settings, clock, rate=rate)
            counted = DatabaseTime(db)
            stop = asyncio.Event()
            cpu_start = time.process_time()
            started = time.perf_counter()
            task = asyncio.create_task(worker.run_forever(stop))
            await api.everyone.wait()
            elapsed = api.last_at - started
            # The worker records the last answers, then stops.
            stop.set()
            await task
            cpu = time.process_time() - cpu_start
            async with db.read() as s:
                sent = await s.scalar(
                    select(func.count()).where(Delivery.status == DeliveryStatus.sent)
                )
            copies = [api.received[FIRST_CHAT + i] for i in range(recipients)]
            achieved = recipients / elapsed if elapsed > 0 else float("inf")
            return {
                "queued": queued,
                "sent": sent,
                "seconds": elapsed,
                "rate": achieved,
                "share": achieved / rate,
                "limit_share": achieved / limit,
                "retry_after": sum(1 for e in api.errors if e[1] == 429),
                "lost": sum(1 for c in copies if c == 0),
                "duplicated": sum(c - 1 for c in copies if c > 1),
                "cpu_s": cpu,
                "db_s": counted.seconds,
                "db_statements": counted.statements,
            }
        finally:
            await bot.session.close()
            await db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.broadcast")
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--limit", type=float, default=30.0, help="the fake's global limit /s")
    parser.add_argument("--rate", type=float, default=25.0, help="the worker's configured rate")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per Bot API call")
    args = parser.parse_args(argv)
    r = asyncio.run(run(args.recipients, args.limit, args.rate, args.latency))
    n = max(r["sent"], 1)
    print(
        f"Broadcast to {args.recipients} recipients on the real clock: Bot API limit "
        f"{args.limit:g}/s, worker rate {args.rate:g}/s, {1000 * args.latency:g} ms per call"
    )
    print(f"  delivered: {r['sent']} of {r['queued']} in {r['seconds']:.1f} s")
    print(
        f"  achieved rate: {r['rate']:.2f} messages/s = {r['share']:.3f} of the configured rate"
        f" ({r['limit_share']:.0%} of the limit)"
    )
    print(f"  429 answers received: {r['retry_after']}")
    print(f"  lost deliveries: {r['lost']}   duplicated deliveries: {r['duplicated']}")
    print(
        f"  CPU: {r['cpu_s']:.1f} s ({1000 * r['cpu_s'] / n:.2f} ms per message); database: "
        f"{r['db_statements']} statements, {r['db_s']:.1f} s ({1000 * r['db_s'] / n:.2f} ms "
        f"per message)"
    )
    print(
        json.dumps(
            {
                "bench": "broadcast",
                "recipients": args.recipients,
                "configured_rate": args.rate,
                "achieved_rate": round(r["rate"], 2),
                "rate_share_of_configured": round(r["share"], 3),
                "lost": r["lost"],
                "duplicated": r["duplicated"],
                "retry_after_429": r["retry_after"],
                "seconds": round(r["seconds"], 1),
                "cpu_ms_per_message": round(1000 * r["cpu_s"] / n, 3),
                "db_ms_per_message": round(1000 * r["db_s"] / n, 3),
                "sql_per_message": round(r["db_statements"] / n, 2),
            }
        )
    )
    return 0 if r["lost"] == 0 and r["duplicated"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
