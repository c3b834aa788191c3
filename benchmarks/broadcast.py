"""An announcement to 20,000 people through a fake Bot API that enforces Telegram's limits.

    .venv/bin/python -m benchmarks.broadcast                       # 20,000 recipients
    .venv/bin/python -m benchmarks.broadcast --recipients 5000 --limit 30 --rate 25

The real outbox and delivery worker (bot/delivery/worker.py) drain one broadcast queued with
notify_many into a temporary SQLite file. The fake Bot API answers 429 with `retry_after` when
more than `--limit` messages a second (and more than one a second per chat) reach it.

Time is simulated: the worker's sleeps and the fake's clock move one virtual clock, so the
achieved rate is measured against the limit without waiting the ~11 real minutes that 20,000
messages take at 30 a second; the database work is real. Printed: messages per virtual second
and as a share of the limit, 429s received, lost and duplicated deliveries (both must be 0), and
the real time and database cost per message.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from sqlalchemy import func, insert, select

from bot.clock import FrozenClock
from bot.config import Settings
from bot.delivery.render import Rendered, renderer
from bot.delivery.worker import DeliveryWorker
from bot.i18n import build_i18n
from bot.services.notify import NoticeKind, notify_many
from db.migrate import upgrade
from db.models import Role, User
from db.models.delivery import Delivery, DeliveryStatus
from db.session import Database
from tests.support.fake_session import FakeBotSession

TOKEN = "42:BENCHMARK-broadcast"
FIRST_CHAT = 3_000_000


@renderer("benchmark.announcement")
def _render(params: dict, locale: str) -> Rendered:
    return Rendered(text=f"Announcement #{params['n']}: the library is open until 22:00.")


class VirtualTime:
    """One clock for the worker (monotonic, sleep, now) and for the fake's rate limiter."""

    def __init__(self) -> None:
        self.clock = FrozenClock(datetime(2026, 11, 26, 7, 0, tzinfo=UTC))
        self.start = self.clock.now()

    def monotonic(self) -> float:
        return (self.clock.now() - self.start).total_seconds()

    async def sleep(self, seconds: float) -> None:
        self.clock.advance(seconds=max(seconds, 0.0))
        await asyncio.sleep(0)


async def run(recipients: int, limit: float, rate: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.from_url(f"sqlite+aiosqlite:///{Path(tmp) / 'broadcast.sqlite3'}")
        vt = VirtualTime()
        session = FakeBotSession()
        session.set_rate_limit(global_per_s=limit, per_chat_per_s=1, clock=vt.monotonic)
        bot = Bot(
            token=TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML)
        )
        try:
            await upgrade(db)
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
                        "created_at": vt.clock.now(),
                        "updated_at": vt.clock.now(),
                    }
                    for i in range(recipients)
                ]
                for start in range(0, len(rows), 2000):
                    await s.execute(insert(User), rows[start : start + 2000])
                ids = list(await s.scalars(select(User.id)))
                queued = await notify_many(
                    s,
                    user_ids=ids,
                    kind=NoticeKind.announcements,
                    template="benchmark.announcement",
                    params={"n": 1},
                    now=vt.clock.now(),
                    batch_id=1,
                )
            settings = Settings(bot_token=TOKEN, database_url="", default_locale="en")
            worker = DeliveryWorker(
                bot,
                db,
                build_i18n("en"),
                settings,
                vt.clock,
                rate=rate,
                batch_size=200,
                concurrency=16,
                monotonic=vt.monotonic,
                sleep=vt.sleep,
            )
            real_start = time.perf_counter()
            virtual_start = vt.monotonic()
            while True:
                if not await worker.run_once():
                    async with db.read() as s:
                        waiting = await s.scalar(
                            select(func.count()).where(
                                Delivery.status.in_(
                                    (DeliveryStatus.pending, DeliveryStatus.sending)
                                )
                            )
                        )
                    if not waiting:
                        break
                    # Rows put back after a 429 wait for their retry_after.
                    vt.clock.advance(seconds=0.5)
            virtual = vt.monotonic() - virtual_start
            real = time.perf_counter() - real_start
            async with db.read() as s:
                sent = await s.scalar(
                    select(func.count()).where(Delivery.status == DeliveryStatus.sent)
                )
            copies = [
                sum(1 for m in session.chats[FIRST_CHAT + i].values() if m.from_bot)
                for i in range(recipients)
            ]
            too_many = sum(1 for e in session.errors if e[1] == 429)
            return {
                "queued": queued,
                "sent": sent,
                "virtual_s": virtual,
                "real_s": real,
                "rate": sent / virtual if virtual else float("inf"),
                "share": (sent / virtual) / limit if virtual else float("inf"),
                "retry_after": too_many,
                "lost": sum(1 for c in copies if c == 0),
                "duplicated": sum(c - 1 for c in copies if c > 1),
                "worker_429": worker.stats["retry_after"],
            }
        finally:
            await bot.session.close()
            await db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.broadcast")
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--limit", type=float, default=30.0, help="the fake's global limit /s")
    parser.add_argument("--rate", type=float, default=25.0, help="the worker's configured rate")
    args = parser.parse_args(argv)
    r = asyncio.run(run(args.recipients, args.limit, args.rate))
    print(
        f"Broadcast to {args.recipients} recipients, Bot API limit {args.limit:g}/s, "
        f"worker rate {args.rate:g}/s"
    )
    print(
        f"  delivered: {r['sent']} of {r['queued']} in {timedelta(seconds=round(r['virtual_s']))}"
        f" of simulated time"
    )
    print(f"  achieved rate: {r['rate']:.1f} messages/s = {r['share']:.0%} of the limit")
    print(f"  429 answers received: {r['retry_after']}")
    print(f"  lost deliveries: {r['lost']}   duplicated deliveries: {r['duplicated']}")
    print(
        f"  real time: {r['real_s']:.1f} s ({1000 * r['real_s'] / max(r['sent'], 1):.2f} ms "
        f"of database and worker work per message)"
    )
    return 0 if r["lost"] == 0 and r["duplicated"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
