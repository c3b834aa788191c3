"""Exam-morning load: N students start the same test at once and answer every question.

    .venv/bin/python -m benchmarks.exam_load                 # N = 100 and 1000 on SQLite
    .venv/bin/python -m benchmarks.exam_load --students 300 --questions 10
    .venv/bin/python -m benchmarks.exam_load \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        --students 200 --processes 1 2

Each student is a scripted Telegram client talking to the real dispatcher
(`bot.factory.create_dispatcher`) through the fake Bot API session: open the tests, start,
confirm, answer every question (ticking and confirming the multiple-answer ones), go to the next
one, finish, confirm. Printed per run: updates per second, p50/p99 handling time of one update,
SQL statements per update and per answer press, and lost or duplicated answers (the database's
answer rows compared with the presses made; both must be 0). The same number of updates through
a dispatcher whose only handler does nothing gives the ceiling of the machinery itself (always
measured in this one process).

Then an open loop (in-process runs): every student opens a second test on its first question,
and answer presses arrive at a fixed rate of half the throughput just measured, whether or not
the bot is busy, each student pressing its first and second option in turn (every press changes
the answer). Printed: p50/p99 of their handling time, CPU time per press (the process's CPU over
the phase), SQL statements per press, and the same presses through the do-nothing dispatcher
at the same rate (its CPU per update is the ceiling). SQL statements are counted without
BEGIN/COMMIT/ROLLBACK, so SQLite (whose BEGIN is a statement) and PostgreSQL count alike. The
last line is one JSON object of the main figures.

Every run (each N, and each P below) gets a fresh database, migrated and seeded the same way:

- by default a temporary SQLite file;
- `--database-url postgresql+asyncpg://user[:password]@host[:port]/db`: a new database on that
  PostgreSQL server, created under a unique name (`exam_load_...`) through the URL's database as
  the maintenance database and dropped at the end; the user needs the right to create databases.

`--processes P [P ...]`: for each P, the students are split into P slices and P child processes
(`python -m benchmarks.exam_load --child FIRST COUNT`, the database URL in the environment
variable EXAM_LOAD_DATABASE_URL) each build their own dispatcher, fake Bot API
session and connection pool over the same database. The children connect, report that they are
ready and wait; the parent releases them together, and each prints its raw timings as JSON. The
parent adds them up: updates/s is all updates over the wall time from the common start to the last
child's finish, p50/p99 are over every update, lost and duplicated answers are checked in the
database after every child has ended, and SQL statements per answer press come from one press on
an idle bot. A last line compares each P with the smallest one, e.g.
"PostgreSQL, 2 processes vs 1: ×1.8 updates/s". Each student talks to one process only, so the
in-memory FSM storage is enough here (replicas behind one webhook share Redis instead). Without
`--processes` the students run in this process, as `asyncio.gather` tasks.

The "bot CPU" line tells what limited a run: CPU time per update, and each process's CPU time
over its running time. Near 100% means the bot's own Python was the limit and more processes help
while there are idle cores; well below means it waited, for the database or for a core. On one
machine the processes, PostgreSQL and anything else running share the cores, so P processes
cannot go faster than the free cores allow.

Several processes on SQLite work too (WAL, BEGIN IMMEDIATE and a busy timeout keep the answers
right), but a SQLite file has one writer: the processes take turns on its lock, sleeping and
retrying while they wait, so do not expect it to scale. The multi-process runs are meant for
PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, Message, Update
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from bot.clock import Clock
from bot.config import Settings
from bot.factory import create_dispatcher
from bot.i18n import build_i18n
from bot.keyboards.testing import AnswerCb, ConfirmCb
from bot.runtime import tune_gc
from bot.services import testing as svc
from bot.services.question_import import ParsedQuestion
from db.models import (
    AcademicPeriod,
    Discipline,
    Faculty,
    Group,
    Programme,
    Role,
    Student,
    StudyForm,
    User,
)
from db.models.testing import (
    Attempt,
    AttemptAnswer,
    AttemptQuestion,
    ControlKind,
    Difficulty,
)
from db.session import Database
from tests.support import BotClient, FakeBotSession

TOKEN = "42:BENCH-token-for-the-fake-session"
FIRST_TG_ID = 10_000_000
PROJECT_DIR = Path(__file__).resolve().parent.parent
# Few connections: SQLite has one writer, and waiting for a pooled connection (a queue) is
# cheaper than waiting inside SQLite for its lock (a busy handler that sleeps and retries).
POOL_SIZE = 2
# A child writes its result on one line after this marker, so a stray print cannot be mistaken
# for it.
RESULT_MARKER = "RESULT "
CHILD_URL_VARIABLE = "EXAM_LOAD_DATABASE_URL"
PACED_TEST = "Paced test"
# Statements that only open or close a transaction: not counted, so both engines count alike
# (SQLite's BEGIN goes through a cursor, PostgreSQL's does not).
_TRANSACTION_WORDS = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
HEADER = """\
Exam-load benchmark: N scripted students sit one test at the same time through the real
dispatcher, a fake Telegram and a real database (a fresh one per run).
  updates/s         updates handled / wall time from the common start to the last finish
  p50, p99          time to handle one update: median and 99th percentile over all updates
  SQL statements    per update over the whole run; per answer press from one press on an idle bot
  lost answers      presses whose answer is not in the database as pressed (must be 0)
  duplicated        answer rows beyond one per question (must be 0)
  failed students   students whose script broke off (must be 0)
  bot CPU           CPU time of the bot process(es) per update, and each process's CPU time over
                    its running time (near 100%: its own Python is the limit, not the database)
  do-nothing        the same updates through a dispatcher whose only handler does nothing, in one
                    process: the ceiling of aiogram and the fake Telegram themselves
"""
_updates = itertools.count(1)
_queries = itertools.count(1)


@dataclass
class Stats:
    durations: list[float] = field(default_factory=list)
    answer_presses: int = 0
    errors: int = 0


class TimedClient(BotClient):
    """A scripted student whose every update is timed."""

    stats: Stats

    async def _feed(self, payload: dict[str, Any]) -> list[Any]:
        started = time.perf_counter()
        try:
            return await super()._feed(payload)
        finally:
            self.stats.durations.append(time.perf_counter() - started)


# ------------------------------------------------------------------------------- the data


async def build_university(db: Database, students: int, questions: int) -> int:
    """One group of `students`, a bank of 3 × `questions` and a test drawing `questions`."""
    now = datetime.now(UTC)
    today = date.today()
    async with db.write() as session:
        faculty = Faculty(code="F", name_kk="Ф", name_ru="Ф", name_en="F")
        session.add(faculty)
        await session.flush()
        programme = Programme(
            code="P", faculty_id=faculty.id, name_kk="П", name_ru="П", name_en="P"
        )
        form = StudyForm(code="full_time", name_kk="К", name_ru="О", name_en="Full-time")
        session.add_all([programme, form])
        await session.flush()
        group = Group(
            code="BENCH-1",
            programme_id=programme.id,
            study_form_id=form.id,
            course=2,
            admission_year=today.year - 1,
        )
        discipline = Discipline(
            code="BEN101", credits=5, name_kk="Бенч", name_ru="Бенч", name_en="Bench"
        )
        period = AcademicPeriod(
            code="BENCH",
            academic_year=f"{today.year}-{today.year + 1}",
            term=1,
            starts_on=today - timedelta(days=30),
            ends_on=today + timedelta(days=30),
        )
        session.add_all([group, discipline, period])
        await session.flush()
        users = [
            User(
                login=f"bench{i:05d}",
                password_hash="!unset",
                role=Role.student,
                last_name="Student",
                first_name=str(i),
                locale="en",
                telegram_id=FIRST_TG_ID + i,
                bound_at=now,
            )
            for i in range(students)
        ]
        session.add_all(users)
        await session.flush()
        session.add_all(
            Student(
                user_id=u.id,
                student_no=f"B{i:06d}",
                group_id=group.id,
                admission_year=today.year - 1,
            )
            for i, u in enumerate(users)
        )
        bank = await svc.get_or_create_bank(session, discipline.id, "Main", None, now)
        parsed = []
        for level in Difficulty:
            for n in range(questions):
                multiple = n % 4 == 3
                parsed.append(
                    ParsedQuestion(
                        text=f"{level.value} question {n}: which options are right?",
                        options=[f"{level.value} {n} option {k}" for k in range(4)],
                        correct=[0, 2] if multiple else [0],
                        difficulty=level,  # type: ignore[arg-type]
                        line=n + 1,
                    )
                )
        await svc.import_questions(session, bank.id, parsed)
        easy = questions // 3 + questions % 3
        medium = questions // 3
        hard = questions // 3
        test = await svc.create_test(
            session,
            svc.TestSpec(
                name="Load test",
                discipline_id=discipline.id,
                bank_id=bank.id,
                control=ControlKind.midterm1,
                time_limit_minutes=90,
                easy_count=easy,
                medium_count=medium,
                hard_count=hard,
                opens_at=now - timedelta(hours=1),
                closes_at=now + timedelta(hours=3),
                period_id=period.id,
            ),
            group_ids=[group.id],
            created_by_user_id=None,
            now=now,
        )
        # The same test once more, for the paced (open-loop) run after the closed-loop one.
        await svc.create_test(
            session,
            svc.TestSpec(
                name=PACED_TEST,
                discipline_id=discipline.id,
                bank_id=bank.id,
                control=ControlKind.midterm2,
                time_limit_minutes=90,
                easy_count=easy,
                medium_count=medium,
                hard_count=hard,
                opens_at=now - timedelta(hours=1),
                closes_at=now + timedelta(hours=3),
                period_id=period.id,
            ),
            group_ids=[group.id],
            created_by_user_id=None,
            now=now,
        )
        return test.id


# ------------------------------------------------------------------------------ a student


def _buttons(client: BotClient) -> list[Any]:
    message = client.last_message()
    markup = message.reply_markup
    return [b for row in markup.inline_keyboard for b in row] if markup else []


async def sit_the_exam(client: TimedClient, pressed: dict[int, list[int]]) -> None:
    """Start, answer every question once, finish; record each answer press."""
    try:
        await client.send("/tests")
        await client.click("Load test")
        await client.click("Take the test")
        await client.click("OK, start")
        while True:
            buttons = _buttons(client)
            options = [b for b in buttons if b.callback_data and b.callback_data.startswith("qa:")]
            first = AnswerCb.unpack(options[0].callback_data)
            client.stats.answer_presses += 1
            await client.click_data(options[0].callback_data)
            if "Several answers" in client.last_message().text:
                # Tick a second option, then confirm: the answer is the set of both.
                second = AnswerCb.unpack(options[2].callback_data)
                await client.click_data(options[2].callback_data)
                await client.click_data(ConfirmCb(q=first.q).pack())
                pressed[first.q] = sorted([first.o, second.o])
            else:
                pressed[first.q] = [first.o]
            if not any(b.text.startswith("Next") for b in _buttons(client)):
                break
            await client.click("Next ›")
        await client.click("Finish")
        await client.click("Yes, finish")
        if "Testing finished" not in client.last_message().text:
            client.stats.errors += 1
    except Exception:
        logging.getLogger(__name__).exception("student %s failed", client.user_id)
        client.stats.errors += 1


# --------------------------------------------------------------------- the paced (open) loop


@dataclass
class PacedStudent:
    """A student sitting on a question screen of the paced test, pressing when told to."""

    client: BotClient
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    presses: int = 0


async def open_paced_test(app: App, first: int, count: int) -> list[PacedStudent]:
    """Every student opens the paced test on its first question (not timed)."""
    students = [
        PacedStudent(
            BotClient(app.dp, app.bot, app.session, user_id=FIRST_TG_ID + i, language_code="en")
        )
        for i in range(first, first + count)
    ]

    async def start(student: PacedStudent) -> None:
        await student.client.send("/tests")
        await student.client.click(PACED_TEST)
        await student.client.click("Take the test")
        await student.client.click("OK, start")

    for k in range(0, len(students), 50):
        await asyncio.gather(*(start(s) for s in students[k : k + 50]))
    return students


async def _paced(
    presses: int, rate: float, press: Any, targets: list[Any]
) -> tuple[list[float], float, float]:
    """`presses` calls of `press(target)` started at a fixed `rate` per second whatever the
    previous ones are doing (an open loop), round robin over `targets`; (durations, CPU s,
    wall s)."""
    loop = asyncio.get_running_loop()
    durations: list[float] = []
    tasks = []
    cpu = time.process_time()
    start = loop.time()
    for k in range(presses):
        delay = start + k / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(press(targets[k % len(targets)], durations)))
    await asyncio.gather(*tasks)
    return durations, time.process_time() - cpu, loop.time() - start


async def run_paced(
    app: App, students: list[PacedStudent], rate: float, presses: int
) -> dict[str, Any]:
    """Answer presses at `rate` per second: each student presses the first and the second
    option of its question in turn, so every press changes the answer (or the ticks)."""
    pressed: dict[int, list[int]] = {}
    expected: dict[int, int] = {}

    async def press(student: PacedStudent, durations: list[float]) -> None:
        async with student.lock:  # a person presses once the screen has changed
            client = student.client
            single = "Several answers" not in client.last_message().text
            options = [
                b.callback_data
                for b in _buttons(client)
                if b.callback_data and b.callback_data.startswith("qa:")
            ]
            data = options[student.presses % 2]
            student.presses += 1
            started = time.perf_counter()
            await client.click_data(data)
            durations.append(time.perf_counter() - started)
            if single:
                answer = AnswerCb.unpack(data)
                pressed[answer.q] = [answer.o]
                expected[answer.q] = expected.get(answer.q, 0) + 1

    # The fake Telegram's log of every request so far is test machinery a real bot does not
    # keep: dropped, so the collector does not walk it during the measured presses.
    app.session.clear()
    before = app.statements[0]
    durations, cpu, elapsed = await _paced(presses, rate, press, students)
    return {
        "presses": len(durations),
        "rate": rate,
        "seconds": elapsed,
        "p50_ms": _percentile(durations, 0.5) * 1000,
        "p99_ms": _percentile(durations, 0.99) * 1000,
        "cpu_ms_per_press": cpu * 1000 / max(len(durations), 1),
        "sql_per_press": (app.statements[0] - before) / max(len(durations), 1),
        "pressed": pressed,
        "expected_rows": expected,
    }


async def run_ceiling_paced(students: int, rate: float, presses: int) -> dict[str, Any]:
    """The same paced presses through a dispatcher whose one handler does nothing."""
    router = Router()

    async def nothing(event: CallbackQuery) -> None:
        """Accepts any press and does nothing."""

    router.callback_query.register(nothing)
    dp = Dispatcher(storage=MemoryStorage())
    dp.include_router(router)
    bot = Bot(token=TOKEN, session=FakeBotSession())

    async def press(i: int, durations: list[float]) -> None:
        user = {"id": FIRST_TG_ID + i, "is_bot": False, "first_name": "S"}
        update = Update.model_validate(
            {
                "update_id": next(_updates),
                "callback_query": {
                    "id": f"q{next(_queries)}",
                    "from": user,
                    "chat_instance": "c",
                    "data": "qa:1:1:1",
                },
            },
            context={"bot": bot},
        )
        started = time.perf_counter()
        await dp.feed_update(bot, update)
        durations.append(time.perf_counter() - started)

    durations, cpu, _elapsed = await _paced(presses, rate, press, list(range(students)))
    await bot.session.close()
    return {
        "p50_ms": _percentile(durations, 0.5) * 1000,
        "p99_ms": _percentile(durations, 0.99) * 1000,
        "cpu_ms_per_update": cpu * 1000 / max(len(durations), 1),
    }


# ----------------------------------------------------------------------------- a database


def backend_name(database_url: str | None) -> str:
    return "SQLite" if database_url is None else "PostgreSQL"


def _engine_options(url: str) -> dict[str, Any]:
    if make_url(url).get_backend_name() == "sqlite":
        return {"pool_size": POOL_SIZE, "max_overflow": 0, "pool_timeout": 600}
    # The bot's own pool (SQLAlchemy's 5 + 10 overflow), so the figures are those of a real
    # process; the long timeout only keeps a huge N from failing on a queue for a connection.
    return {"pool_timeout": 600}


async def _pg_admin(server_url: str, sql: str) -> None:
    url = make_url(server_url)
    conn = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database or "postgres",
        timeout=10,
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def scratch_database(server_url: str | None, tag: str, workdir: Path) -> AsyncIterator[str]:
    """A fresh, empty database for one run: a file in `workdir`, or one on the PostgreSQL
    server of `server_url` that is dropped afterwards."""
    if server_url is None:
        yield f"sqlite+aiosqlite:///{workdir / f'exam-{tag}.sqlite3'}"
        return
    name = f"exam_load_{uuid.uuid4().hex[:8]}_{tag}"
    await _pg_admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        # FORCE: a child killed half-way may leave a session behind.
        await _pg_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def prepare_database(url: str, students: int, questions: int) -> None:
    # Imported here: only the parent migrates, and children start faster without Alembic.
    from db.migrate import upgrade

    db = Database.from_url(url, **_engine_options(url))
    try:
        await upgrade(db)
        await build_university(db, students, questions)
    finally:
        await db.dispose()


# ---------------------------------------------------------------------------------- a run


@dataclass
class App:
    """One bot process: the database handle, the real dispatcher and a fake Telegram."""

    db: Database
    dp: Dispatcher
    bot: Bot
    session: FakeBotSession
    statements: list[int]


def open_app(url: str) -> App:
    db = Database.from_url(url, **_engine_options(url))
    # Scripted students press without pause; flood control would drop their presses.
    settings = Settings(bot_token=TOKEN, database_url=url, default_locale="en", throttle_rate=0)
    session = FakeBotSession()
    bot = Bot(
        token=TOKEN,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )
    dp = create_dispatcher(settings, db, build_i18n("en"), storage=MemoryStorage(), clock=Clock())
    statements = [0]

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip()[:9].upper().startswith(_TRANSACTION_WORDS):
            statements[0] += 1

    return App(db, dp, bot, session, statements)


async def close_app(app: App) -> None:
    await app.bot.session.close()
    await app.db.dispose()


async def warm_up(db: Database) -> None:
    """Open the pool's connections before the clock starts, as a running bot has them open."""
    size = getattr(db.engine.pool, "size", lambda: 1)()
    connections = [await db.engine.connect() for _ in range(size)]
    for connection in connections:
        await connection.close()


async def run_students(app: App, first: int, count: int) -> dict[str, Any]:
    """Students `first` .. `first + count - 1` sit the exam concurrently; the raw figures."""
    stats = Stats()
    clients = []
    for i in range(first, first + count):
        client = TimedClient(
            app.dp, app.bot, app.session, user_id=FIRST_TG_ID + i, language_code="en"
        )
        client.stats = stats
        clients.append(client)
    pressed: dict[int, list[int]] = {}

    before = app.statements[0]
    started_at = time.time()
    started = time.perf_counter()
    cpu = time.process_time()
    await asyncio.gather(*(sit_the_exam(c, pressed) for c in clients))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    return {
        # Wall-clock time, comparable between processes; the length itself is monotonic.
        "started_at": started_at,
        "finished_at": started_at + elapsed,
        "durations": stats.durations,
        "statements": app.statements[0] - before,
        "cpu_seconds": cpu,
        "elapsed": elapsed,
        "pressed": pressed,
        "errors": stats.errors,
    }


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * share), len(ordered) - 1)]


def _split(students: int, processes: int) -> list[tuple[int, int]]:
    """(first, count) of each of `processes` contiguous slices, sizes differing by at most one."""
    base, extra = divmod(students, processes)
    slices, first = [], 0
    for k in range(processes):
        count = base + (1 if k < extra else 0)
        slices.append((first, count))
        first += count
    return slices


async def run_children(url: str, students: int, processes: int) -> list[dict[str, Any]]:
    """Run the students in `processes` child processes released together; their raw figures."""
    procs: list[asyncio.subprocess.Process] = []
    try:
        for first, count in _split(students, processes):
            procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "benchmarks.exam_load",
                    "--child",
                    str(first),
                    str(count),
                    cwd=PROJECT_DIR,
                    # In the environment, not the arguments: `ps` would show a password.
                    env={**os.environ, CHILD_URL_VARIABLE: url},
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                )
            )
        # The start barrier: nobody starts before every child has imported, built its
        # dispatcher and opened its connections.
        for k, proc in enumerate(procs):
            assert proc.stdout is not None
            line = await proc.stdout.readline()
            if line.strip() != b"ready":
                raise RuntimeError(f"child {k} failed before the start (exit {await proc.wait()})")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            proc.stdin.close()
        outputs = await asyncio.gather(*(p.stdout.read() for p in procs if p.stdout))
        codes = await asyncio.gather(*(p.wait() for p in procs))
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    results = []
    for k, (output, code) in enumerate(zip(outputs, codes, strict=True)):
        lines = [line for line in output.decode().splitlines() if line.startswith(RESULT_MARKER)]
        if code != 0 or not lines:
            raise RuntimeError(f"child {k} exited with {code} without a result")
        result = json.loads(lines[-1][len(RESULT_MARKER) :])
        result["pressed"] = {int(q): o for q, o in result["pressed"].items()}
        results.append(result)
    return results


async def child_async(url: str, first: int, count: int) -> None:
    """One child process: get ready, wait for "go" on stdin, run the slice, print the result."""
    app = open_app(url)
    try:
        await warm_up(app.db)
        print("ready", flush=True)
        if (await asyncio.to_thread(sys.stdin.readline)).strip() != "go":
            raise SystemExit("the parent went away before the start")
        result = await run_students(app, first, count)
    finally:
        await close_app(app)
    print(RESULT_MARKER + json.dumps(result), flush=True)


async def check_answers(
    db: Database, pressed: dict[int, list[int]], expected_rows: dict[int, int] | None = None
) -> tuple[int, int]:
    """(lost, duplicated): the database's answer rows against the presses made; a question
    answered k times (`expected_rows`, else once) must have k answer rows."""
    expected_rows = expected_rows or {}
    async with db.read() as s:
        chosen = dict((await s.execute(select(AttemptQuestion.id, AttemptQuestion.chosen))).all())
        # Counted apart: PostgreSQL cannot GROUP BY a JSON column such as `chosen`.
        rows = await s.execute(
            select(AttemptAnswer.attempt_question_id, func.count()).group_by(
                AttemptAnswer.attempt_question_id
            )
        )
        counts = dict(rows.all())
    recorded = {aq_id: (value, counts.get(aq_id, 0)) for aq_id, value in chosen.items()}
    lost = sum(
        1
        for aq_id, want in pressed.items()
        if aq_id not in recorded
        or sorted(recorded[aq_id][0] or []) != want
        or recorded[aq_id][1] < expected_rows.get(aq_id, 1)
    )
    duplicated = sum(
        max(count - expected_rows.get(aq_id, 1), 0) for aq_id, (_chosen, count) in recorded.items()
    )
    return lost, duplicated


async def run_exam(
    server_url: str | None,
    students: int,
    questions: int,
    workdir: Path,
    processes: int | None = None,
) -> dict[str, Any]:
    """One run on a fresh database: in this process (`processes` None) or in child processes."""
    tag = f"n{students}_p{processes or 0}"
    async with scratch_database(server_url, tag, workdir) as url:
        await prepare_database(url, students, questions)
        app = open_app(url)
        try:
            paced: dict[str, Any] | None = None
            if processes is None:
                await warm_up(app.db)
                slices = [await run_students(app, 0, students)]
                # The open loop: presses arrive at half the capacity just measured, as people
                # press whether or not the bot is busy; its handling times are the latency.
                capacity = sum(len(p["durations"]) for p in slices) / slices[0]["elapsed"]
                sitting = await open_paced_test(app, 0, students)
                paced = await run_paced(app, sitting, capacity / 2, 2 * students)
            else:
                slices = await run_children(url, students, processes)
            pressed = {q: o for part in slices for q, o in part["pressed"].items()}
            answers = len(pressed)
            expected_rows: dict[int, int] = {}
            if paced is not None:
                pressed.update(paced.pop("pressed"))
                expected_rows = paced.pop("expected_rows")
            lost, duplicated = await check_answers(app.db, pressed, expected_rows)
            # One serial probe: the statements of a single answer press, nothing else running.
            per_answer = await _probe_answer(app)
        finally:
            await close_app(app)
    durations = [d for part in slices for d in part["durations"]]
    seconds = max(p["finished_at"] for p in slices) - min(p["started_at"] for p in slices)
    return {
        "backend": backend_name(server_url),
        "database": make_url(url).database,
        "processes": processes,
        "students": students,
        "updates": len(durations),
        "seconds": seconds,
        "updates_per_s": len(durations) / seconds,
        "p50_ms": _percentile(durations, 0.5) * 1000,
        "p99_ms": _percentile(durations, 0.99) * 1000,
        "sql_per_update": sum(p["statements"] for p in slices) / max(len(durations), 1),
        "cpu_ms_per_update": sum(p["cpu_seconds"] for p in slices) * 1000 / max(len(durations), 1),
        # Each process's CPU time over its own running time: near 100% means that process's
        # Python is the limit, lower means it waited (for the database or for a free core).
        "busy": [p["cpu_seconds"] / p["elapsed"] for p in slices],
        "sql_per_answer": per_answer,
        "answers": answers,
        "lost": lost,
        "duplicated": duplicated,
        "errors": sum(p["errors"] for p in slices),
        "paced": paced,
    }


async def _probe_answer(app: App) -> float:
    async with app.db.write() as s:
        student = await s.scalar(select(Student).order_by(Student.id.desc()).limit(1))
        user = await s.get(User, student.user_id)
        user.telegram_id = FIRST_TG_ID - 1
        await s.execute(
            AttemptQuestion.__table__.delete().where(
                AttemptQuestion.attempt_id.in_(
                    select(Attempt.id).where(Attempt.student_id == student.id)
                )
            )
        )
        await s.execute(Attempt.__table__.delete().where(Attempt.student_id == student.id))
    client = BotClient(app.dp, app.bot, app.session, user_id=FIRST_TG_ID - 1, language_code="en")
    await client.send("/tests")
    await client.click("Load test")
    await client.click("Take the test")
    await client.click("OK, start")
    counts = []
    for _ in range(3):
        option = next(
            b.callback_data
            for b in _buttons(client)
            if b.callback_data and b.callback_data.startswith("qa:")
        )
        before = app.statements[0]
        await client.click_data(option)
        counts.append(app.statements[0] - before)
        if not any(b.text.startswith("Next") for b in _buttons(client)):
            break
        await client.click("Next ›")
    return statistics.mean(counts)


async def run_ceiling(students: int, updates_each: int) -> dict[str, Any]:
    """The same number of updates through a dispatcher whose one handler does nothing."""
    router = Router()

    async def nothing(event: Message | CallbackQuery) -> None:
        """Accepts any message or press and does nothing."""

    router.message.register(nothing)
    router.callback_query.register(nothing)
    dp = Dispatcher(storage=MemoryStorage())
    dp.include_router(router)
    session = FakeBotSession()
    bot = Bot(token=TOKEN, session=session)
    durations: list[float] = []

    async def student(i: int) -> None:
        user = {"id": FIRST_TG_ID + i, "is_bot": False, "first_name": "S"}
        chat = {"id": FIRST_TG_ID + i, "type": "private", "first_name": "S"}
        for n in range(updates_each):
            if n % 2:
                payload = {
                    "callback_query": {
                        "id": f"q{next(_queries)}",
                        "from": user,
                        "chat_instance": "c",
                        "data": "qa:1:1:1",
                    }
                }
            else:
                payload = {
                    "message": {
                        "message_id": n + 1,
                        "date": int(time.time()),
                        "chat": chat,
                        "from": user,
                        "text": "hello",
                    }
                }
            update = Update.model_validate(
                {"update_id": next(_updates), **payload}, context={"bot": bot}
            )
            started = time.perf_counter()
            await dp.feed_update(bot, update)
            durations.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(student(i) for i in range(students)))
    elapsed = time.perf_counter() - started
    await bot.session.close()
    return {
        "students": students,
        "updates": len(durations),
        "seconds": elapsed,
        "updates_per_s": len(durations) / elapsed,
        "p50_ms": _percentile(durations, 0.5) * 1000,
        "p99_ms": _percentile(durations, 0.99) * 1000,
    }


# ------------------------------------------------------------------------------- a report


def _where(exam: dict[str, Any]) -> str:
    p = exam["processes"]
    if p is None:
        return f"{exam['backend']}, in this process"
    return f"{exam['backend']}, {p} process{'es' if p != 1 else ''}"


def report(exam: dict[str, Any], ceiling: dict[str, Any]) -> str:
    paced, paced_ceiling = exam.get("paced"), ceiling.get("paced")
    open_loop = []
    if paced is not None and paced_ceiling is not None:
        open_loop = [
            f"  open loop:  {paced['presses']} answer presses at {paced['rate']:.0f}/s "
            f"(half the capacity above)",
            f"    exam bot:   p50 {paced['p50_ms']:7.1f} ms   p99 {paced['p99_ms']:7.1f} ms   "
            f"CPU {paced['cpu_ms_per_press']:.2f} ms per press   "
            f"SQL {paced['sql_per_press']:.2f} per press",
            f"    do-nothing: p50 {paced_ceiling['p50_ms']:7.1f} ms   "
            f"p99 {paced_ceiling['p99_ms']:7.1f} ms   "
            f"CPU {paced_ceiling['cpu_ms_per_update']:.2f} ms per update   (ceiling)",
        ]
    return "\n".join(
        [
            f"{_where(exam)}: N = {exam['students']} students, {exam['answers']} answers, "
            f"{exam['updates']} updates in {exam['seconds']:.1f} s",
            f"  exam bot:   {exam['updates_per_s']:8.0f} updates/s   "
            f"p50 {exam['p50_ms']:7.1f} ms   p99 {exam['p99_ms']:7.1f} ms",
            f"  do-nothing: {ceiling['updates_per_s']:8.0f} updates/s   "
            f"p50 {ceiling['p50_ms']:7.1f} ms   p99 {ceiling['p99_ms']:7.1f} ms   (ceiling)",
            f"  SQL statements: {exam['sql_per_update']:.1f} per update, "
            f"{exam['sql_per_answer']:.1f} per answer press",
            f"  bot CPU: {exam['cpu_ms_per_update']:.1f} ms per update; busy "
            + " + ".join(f"{b:.0%}" for b in exam["busy"])
            + " of a core",
            *open_loop,
            f"  lost answers: {exam['lost']}   duplicated answers: {exam['duplicated']}   "
            f"failed students: {exam['errors']}",
        ]
    )


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of the last line: the largest in-process run (else the largest one), and
    each process count's CPU per update and throughput."""
    exams = [r for r in results if r["exam"]["processes"] is None] or results
    main_run = max(exams, key=lambda r: r["exam"]["students"])
    exam, ceiling = main_run["exam"], main_run["ceiling"]
    paced, paced_ceiling = exam.get("paced") or {}, ceiling.get("paced") or {}

    def rounded(value: Any, digits: int = 2) -> Any:
        return round(value, digits) if isinstance(value, float) else value

    out = {
        "bench": "exam_load",
        "backend": exam["backend"],
        "students": exam["students"],
        "cpu_ms_per_press": rounded(paced.get("cpu_ms_per_press")),
        "sql_per_press": rounded(paced.get("sql_per_press", exam["sql_per_answer"])),
        "ceiling_cpu_ms_per_update": rounded(paced_ceiling.get("cpu_ms_per_update")),
        "p50_ms_open_loop": rounded(paced.get("p50_ms"), 1),
        "p99_ms_open_loop": rounded(paced.get("p99_ms"), 1),
        "updates_per_s": rounded(exam["updates_per_s"], 1),
        "cpu_ms_per_update": rounded(exam["cpu_ms_per_update"]),
        "p99_ms_closed_loop": rounded(exam["p99_ms"], 1),
        "lost": sum(r["exam"]["lost"] for r in results),
        "duplicated": sum(r["exam"]["duplicated"] for r in results),
        "failed": sum(r["exam"]["errors"] for r in results),
    }
    by_processes = [r["exam"] for r in results if r["exam"]["processes"] is not None]
    if by_processes:
        out["processes"] = [
            {
                "processes": e["processes"],
                "students": e["students"],
                "updates_per_s": rounded(e["updates_per_s"], 1),
                "cpu_ms_per_update": rounded(e["cpu_ms_per_update"]),
            }
            for e in by_processes
        ]
    return out


def scaling(exams: list[dict[str, Any]]) -> list[str]:
    """For each N run in child processes: every P against the smallest P."""
    lines = []
    runs = [e for e in exams if e["processes"] is not None]
    for n in dict.fromkeys(e["students"] for e in runs):
        same_n = sorted((e for e in runs if e["students"] == n), key=lambda e: e["processes"])
        base = same_n[0]
        for other in same_n[1:]:
            ratio = other["updates_per_s"] / base["updates_per_s"]
            cpu = ""
            if "cpu_ms_per_update" in base and "cpu_ms_per_update" in other:
                cpu = (
                    f"; CPU {base['cpu_ms_per_update']:.1f} → "
                    f"{other['cpu_ms_per_update']:.1f} ms per update"
                )
            lines.append(
                f"{other['backend']}, {other['processes']} processes vs {base['processes']}: "
                f"×{ratio:.1f} updates/s (N = {n}; "
                f"p50 {base['p50_ms']:.0f} → {other['p50_ms']:.0f} ms{cpu})"
            )
    return lines


async def main_async(
    sizes: list[int],
    questions: int,
    database_url: str | None = None,
    processes: list[int] | None = None,
) -> list[dict[str, Any]]:
    print(HEADER, flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="exam-load-") as tmp:
        for n in sizes:
            ceiling: dict[str, Any] | None = None
            for p in processes or [None]:
                exam = await run_exam(database_url, n, questions, Path(tmp), p)
                if ceiling is None:
                    per_student = max(exam["updates"] // max(n, 1), 1)
                    ceiling = await run_ceiling(n, per_student)
                if exam["paced"] is not None and "paced" not in ceiling:
                    paced = exam["paced"]
                    ceiling["paced"] = await run_ceiling_paced(n, paced["rate"], paced["presses"])
                print(report(exam, ceiling), flush=True)
                results.append({"exam": exam, "ceiling": ceiling})
    lines = scaling([r["exam"] for r in results])
    if lines:
        print("\n" + "\n".join(lines), flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.exam_load")
    parser.add_argument("--students", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to run on (postgresql+asyncpg://user@host:port/db); each run "
        "creates and drops a database of its own there. Default: a temporary SQLite file",
    )
    parser.add_argument(
        "--processes",
        type=int,
        nargs="+",
        help="run the students split over P child processes, once for each P given, and "
        "print the scaling. Default: everyone in this process",
    )
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.child:
        first, count = args.child
        tune_gc()
        asyncio.run(child_async(os.environ[CHILD_URL_VARIABLE], first, count))
        return 0
    if args.database_url and make_url(args.database_url).get_backend_name() != "postgresql":
        parser.error("--database-url takes a PostgreSQL URL; SQLite is the default")
    if args.processes and (min(args.processes) < 1 or max(args.processes) > min(args.students)):
        parser.error("every --processes value must be between 1 and the number of students")
    # As `python -m bot` does once its start-up is over (bot/runtime.py).
    tune_gc()
    results = asyncio.run(
        main_async(args.students, args.questions, args.database_url, args.processes)
    )
    print(json.dumps(summary(results)), flush=True)
    bad = any(r["exam"]["lost"] or r["exam"]["duplicated"] or r["exam"]["errors"] for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
