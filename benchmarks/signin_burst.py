"""A burst of sign-ins during an exam: do they hurt the students sitting it?

    .venv/bin/python -m benchmarks.signin_burst                  # 200 sign-ins, 50 students
    .venv/bin/python -m benchmarks.signin_burst --signins 400 --students 100
    .venv/bin/python -m benchmarks.signin_burst \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

`--students` scripted students sit one test through the real dispatcher (as in
`benchmarks.exam_load`, whose university and script this reuses) while `--signins` other people
go through the real sign-in dialogue at the same moment: /start, the language, the login, the
password (argon2id with OWASP's parameters, verified in the hashing pool outside any database
unit). First the exam runs alone, for comparison, then the same exam with the burst, each on a
fresh database. Students think before each press (`--think-ms`, 3 s ± 50% by default: an exam
is answered at a human pace), so their handling time shows what the burst costs them rather than
the queue of their own presses; `--think-ms 0` presses without pause.

Printed: the exam students' p50/p99 time to handle one update, alone and during the burst; the
sign-ins' own p50/p99 (they queue for the hashing pool, a core smaller than the machine); errors
(sign-ins that did not end at the home screen, students whose script broke off, "Something went
wrong" answers, lost or duplicated answers: all must be 0); and the process's CPU time. The last
line is one JSON object of these figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from benchmarks.exam_load import (
    FIRST_TG_ID,
    App,
    Stats,
    TimedClient,
    _percentile,
    backend_name,
    build_university,
    check_answers,
    close_app,
    open_app,
    scratch_database,
    sit_the_exam,
    warm_up,
)
from bot.services.auth import HASH_WORKERS, hash_password
from db.models import Group, Role, Student, User
from db.session import Database

SIGNIN_TG_ID = 20_000_000
PASSWORD = "Burst-Pass-2026"
HEADER = """\
Sign-in burst benchmark: people sign in through the real dispatcher while students sit a test.
  exam alone        the exam students' time to handle one update with nobody signing in
  exam + burst      the same exam while the sign-ins run: p50/p99 over the students' updates
  sign-ins          the sign-in dialogue's updates: p50/p99 (argon2 waits for a pool worker)
  errors            sign-ins not ending at home + broken-off students + "Something went wrong"
                    answers + lost or duplicated answers (must be 0)
"""


async def add_signers(db: Database, signins: int) -> None:
    """`signins` students of the exam's group, not yet bound to Telegram, all with PASSWORD."""
    # One hash for all: 200 argon2 hashes would only slow the set-up down.
    password_hash = await hash_password(PASSWORD)
    today = date.today()
    async with db.write() as session:
        group_id = await session.scalar(select(Group.id).limit(1))
        users = [
            User(
                login=f"signer{i:05d}",
                password_hash=password_hash,
                role=Role.student,
                last_name="Signer",
                first_name=str(i),
                locale="en",
            )
            for i in range(signins)
        ]
        session.add_all(users)
        await session.flush()
        session.add_all(
            Student(
                user_id=u.id,
                student_no=f"S{i:06d}",
                group_id=group_id,
                admission_year=today.year - 1,
            )
            for i, u in enumerate(users)
        )


async def sign_in(client: TimedClient, login: str) -> None:
    try:
        await client.send("/start")
        await client.click("English")
        await client.send(login)
        await client.send(PASSWORD)
        if "You are signed in." not in client.last_message().text:
            client.stats.errors += 1
    except Exception:
        logging.getLogger(__name__).exception("sign-in of %s failed", login)
        client.stats.errors += 1


class PacedClient(TimedClient):
    """A student who thinks before each press (0.5–1.5 × `think` seconds, not timed)."""

    think: float = 0.0
    rng: random.Random

    async def _feed(self, payload: dict[str, Any]) -> list[Any]:
        if self.think:
            await asyncio.sleep(self.think * self.rng.uniform(0.5, 1.5))
        return await super()._feed(payload)


def _clients(
    app: App, first_tg: int, count: int, stats: Stats, think: float = 0.0
) -> list[TimedClient]:
    clients: list[TimedClient] = []
    for i in range(count):
        client = PacedClient(
            app.dp, app.bot, app.session, user_id=first_tg + i, language_code="en"
        )
        client.stats = stats
        client.think = think
        client.rng = random.Random(first_tg + i)
        clients.append(client)
    return clients


def _went_wrong(app: App) -> int:
    return sum(
        1
        for chat in app.session.chats.values()
        for message in chat.values()
        if message.from_bot and message.text and "Something went wrong" in message.text
    )


async def run(
    server_url: str | None,
    students: int,
    signins: int,
    questions: int,
    workdir: Path,
    think: float,
) -> dict[str, Any]:
    """One run on a fresh database; `signins` 0 is the exam alone."""
    async with scratch_database(server_url, f"burst{signins}", workdir) as url:
        from db.migrate import upgrade

        setup = Database.from_url(url)
        try:
            await upgrade(setup)
            await build_university(setup, students, questions)
            await add_signers(setup, signins)
        finally:
            await setup.dispose()
        app = open_app(url)
        try:
            await warm_up(app.db)
            exam_stats, signin_stats = Stats(), Stats()
            exam = _clients(app, FIRST_TG_ID, students, exam_stats, think)
            signers = _clients(app, SIGNIN_TG_ID, signins, signin_stats)
            pressed: dict[int, list[int]] = {}
            cpu = time.process_time()
            started = time.perf_counter()
            await asyncio.gather(
                *(sit_the_exam(c, pressed) for c in exam),
                *(sign_in(c, f"signer{i:05d}") for i, c in enumerate(signers)),
            )
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
            lost, duplicated = await check_answers(app.db, pressed)
            went_wrong = _went_wrong(app)
        finally:
            await close_app(app)
    return {
        "backend": backend_name(server_url),
        "students": students,
        "signins": signins,
        "seconds": elapsed,
        "cpu_s": cpu,
        "exam_p50_ms": _percentile(exam_stats.durations, 0.5) * 1000,
        "exam_p99_ms": _percentile(exam_stats.durations, 0.99) * 1000,
        "signin_p50_ms": _percentile(signin_stats.durations, 0.5) * 1000,
        "signin_p99_ms": _percentile(signin_stats.durations, 0.99) * 1000,
        "signin_errors": signin_stats.errors,
        "errors": signin_stats.errors + exam_stats.errors + went_wrong + lost + duplicated,
        "lost": lost,
        "duplicated": duplicated,
    }


async def main_async(
    signins: int,
    students: int,
    questions: int,
    database_url: str | None = None,
    baseline: bool = True,
    think_ms: int = 0,
) -> dict[str, Any]:
    print(HEADER, flush=True)
    think = think_ms / 1000
    with tempfile.TemporaryDirectory(prefix="signin-burst-") as tmp:
        alone = (
            await run(database_url, students, 0, questions, Path(tmp), think) if baseline else None
        )
        burst = await run(database_url, students, signins, questions, Path(tmp), think)
    pace = f"a press every ~{think_ms} ms each" if think_ms else "pressing without pause"
    print(
        f"{burst['backend']}: {students} students sit a {questions}-question test ({pace}), "
        f"{signins} people sign in at the same moment; hashing pool: {HASH_WORKERS} worker(s)"
    )
    if alone is not None:
        print(
            f"  exam alone:    p50 {alone['exam_p50_ms']:7.1f} ms   "
            f"p99 {alone['exam_p99_ms']:7.1f} ms   ({alone['seconds']:.1f} s, "
            f"CPU {alone['cpu_s']:.1f} s)"
        )
    print(
        f"  exam + burst:  p50 {burst['exam_p50_ms']:7.1f} ms   "
        f"p99 {burst['exam_p99_ms']:7.1f} ms   ({burst['seconds']:.1f} s)"
    )
    print(
        f"  sign-ins:      p50 {burst['signin_p50_ms']:7.1f} ms   "
        f"p99 {burst['signin_p99_ms']:7.1f} ms"
    )
    print(
        f"  errors: {burst['errors']} (sign-ins {burst['signin_errors']}, lost answers "
        f"{burst['lost']}, duplicated {burst['duplicated']})   CPU {burst['cpu_s']:.1f} s"
    )
    figures = {
        "bench": "signin_burst",
        "backend": burst["backend"],
        "signins": signins,
        "students": students,
        "errors": burst["errors"],
        "others_p50_ms": round(burst["exam_p50_ms"], 1),
        "others_p99_ms": round(burst["exam_p99_ms"], 1),
        "alone_p99_ms": None if alone is None else round(alone["exam_p99_ms"], 1),
        "signin_p50_ms": round(burst["signin_p50_ms"], 1),
        "signin_p99_ms": round(burst["signin_p99_ms"], 1),
        "cpu_s": round(burst["cpu_s"], 2),
        "alone_cpu_s": None if alone is None else round(alone["cpu_s"], 2),
        "think_ms": think_ms,
        "hash_workers": HASH_WORKERS,
    }
    print(json.dumps(figures), flush=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.signin_burst")
    parser.add_argument("--signins", type=int, default=200)
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument(
        "--think-ms",
        type=int,
        default=3000,
        help="each student's pause before a press, ±50%% (0: press without pause, as "
        "benchmarks.exam_load does, which measures the exam's own queue more than the burst)",
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to run on (postgresql+asyncpg://user@host:port/db); each run "
        "creates and drops a database of its own there. Default: a temporary SQLite file",
    )
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the run of the exam alone"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.database_url and make_url(args.database_url).get_backend_name() != "postgresql":
        parser.error("--database-url takes a PostgreSQL URL; SQLite is the default")
    figures = asyncio.run(
        main_async(
            args.signins,
            args.students,
            args.questions,
            args.database_url,
            baseline=not args.no_baseline,
            think_ms=args.think_ms,
        )
    )
    return 1 if figures["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
