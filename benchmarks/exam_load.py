"""Exam-morning load: N students start the same test at once and answer every question.

    .venv/bin/python -m benchmarks.exam_load                 # N = 100 and 1000
    .venv/bin/python -m benchmarks.exam_load --students 300 --questions 10

Each student is a scripted Telegram client talking to the real dispatcher
(`bot.factory.create_dispatcher`) through the fake Bot API session, on a temporary SQLite file:
open the tests, start, confirm, answer every question (ticking and confirming the
multiple-answer ones), go to the next one, finish, confirm. All students run concurrently
(`asyncio.gather`). Printed per run: updates per second, p50/p99 handling time of one update,
SQL statements per update and per answer press, and lost or duplicated answers (the database's
answer rows compared with the presses made; both must be 0). The same number of updates through
a dispatcher whose only handler does nothing gives the ceiling of the machinery itself.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, Message, Update
from sqlalchemy import event, func, select

from bot.clock import Clock
from bot.config import Settings
from bot.factory import create_dispatcher
from bot.i18n import build_i18n
from bot.keyboards.testing import AnswerCb, ConfirmCb
from bot.services import testing as svc
from bot.services.question_import import ParsedQuestion
from db.migrate import upgrade
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
# Few connections: SQLite has one writer, and waiting for a pooled connection (a queue) is
# cheaper than waiting inside SQLite for its lock (a busy handler that sleeps and retries).
POOL_SIZE = 2
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


# ---------------------------------------------------------------------------------- a run


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * share), len(ordered) - 1)]


async def run_exam(students: int, questions: int, workdir: Path) -> dict[str, Any]:
    path = workdir / f"exam-{students}.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    db = Database.from_url(url, pool_size=POOL_SIZE, max_overflow=0, pool_timeout=600)
    await upgrade(db)
    await build_university(db, students, questions)
    settings = Settings(bot_token=TOKEN, database_url=url, default_locale="en")
    i18n = build_i18n("en")
    session = FakeBotSession()
    bot = Bot(
        token=TOKEN,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )
    dp = create_dispatcher(settings, db, i18n, storage=MemoryStorage(), clock=Clock())
    statements = [0]

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _count(*_args: Any) -> None:
        statements[0] += 1

    stats = Stats()
    clients = []
    for i in range(students):
        client = TimedClient(dp, bot, session, user_id=FIRST_TG_ID + i, language_code="en")
        client.stats = stats
        clients.append(client)
    pressed: dict[int, list[int]] = {}

    before = statements[0]
    started = time.perf_counter()
    await asyncio.gather(*(sit_the_exam(c, pressed) for c in clients))
    elapsed = time.perf_counter() - started
    total_statements = statements[0] - before

    async with db.read() as s:
        rows = (
            await s.execute(
                select(AttemptQuestion.id, AttemptQuestion.chosen, func.count(AttemptAnswer.id))
                .outerjoin(AttemptAnswer, AttemptAnswer.attempt_question_id == AttemptQuestion.id)
                .group_by(AttemptQuestion.id, AttemptQuestion.chosen)
            )
        ).all()
    recorded = {aq_id: (chosen, count) for aq_id, chosen, count in rows}
    lost = sum(
        1
        for aq_id, want in pressed.items()
        if aq_id not in recorded or sorted(recorded[aq_id][0] or []) != want
    )
    duplicated = sum(max(count - 1, 0) for _chosen, count in recorded.values())

    # One serial probe: the statements of a single answer press, nothing else running.
    per_answer = await _probe_answer(db, dp, bot, session, statements)

    await bot.session.close()
    await db.dispose()
    return {
        "students": students,
        "updates": len(stats.durations),
        "seconds": elapsed,
        "updates_per_s": len(stats.durations) / elapsed,
        "p50_ms": _percentile(stats.durations, 0.5) * 1000,
        "p99_ms": _percentile(stats.durations, 0.99) * 1000,
        "sql_per_update": total_statements / max(len(stats.durations), 1),
        "sql_per_answer": per_answer,
        "answers": len(pressed),
        "lost": lost,
        "duplicated": duplicated,
        "errors": stats.errors,
    }


async def _probe_answer(
    db: Database, dp: Dispatcher, bot: Bot, session: FakeBotSession, statements: list[int]
) -> float:
    async with db.write() as s:
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
    client = BotClient(dp, bot, session, user_id=FIRST_TG_ID - 1, language_code="en")
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
        before = statements[0]
        await client.click_data(option)
        counts.append(statements[0] - before)
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


def report(exam: dict[str, Any], ceiling: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"N = {exam['students']} students, {exam['answers']} answers, "
            f"{exam['updates']} updates in {exam['seconds']:.1f} s",
            f"  exam bot:   {exam['updates_per_s']:8.0f} updates/s   "
            f"p50 {exam['p50_ms']:7.1f} ms   p99 {exam['p99_ms']:7.1f} ms",
            f"  do-nothing: {ceiling['updates_per_s']:8.0f} updates/s   "
            f"p50 {ceiling['p50_ms']:7.1f} ms   p99 {ceiling['p99_ms']:7.1f} ms   (ceiling)",
            f"  SQL statements: {exam['sql_per_update']:.1f} per update, "
            f"{exam['sql_per_answer']:.1f} per answer press",
            f"  lost answers: {exam['lost']}   duplicated answers: {exam['duplicated']}   "
            f"failed students: {exam['errors']}",
        ]
    )


async def main_async(sizes: list[int], questions: int) -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory(prefix="exam-load-") as tmp:
        for n in sizes:
            exam = await run_exam(n, questions, Path(tmp))
            per_student = max(exam["updates"] // max(n, 1), 1)
            ceiling = await run_ceiling(n, per_student)
            print(report(exam, ceiling), flush=True)
            results.append({"exam": exam, "ceiling": ceiling})
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.exam_load")
    parser.add_argument("--students", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--questions", type=int, default=5)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    results = asyncio.run(main_async(args.students, args.questions))
    bad = any(r["exam"]["lost"] or r["exam"]["duplicated"] or r["exam"]["errors"] for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
