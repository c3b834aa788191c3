"""A bot process killed with SIGKILL in the middle of an exam (or of a broadcast), and started
again.

The real `python -m bot` polls a fake Bot API over HTTP (tests/support/http_botapi.py keeps the
updates until a later getUpdates confirms them, as Telegram does) on a temporary SQLite file.
Fifty students sit one test at the same time, each like a person: look at the screen, press,
and press again if nothing happens. Half-way through the process is killed without warning and
a new one is started. Then: every answer the bot acknowledged ("Answer saved.") before the kill
is in the database, every student finished, and every attempt was scored exactly once.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from benchmarks.exam_load import FIRST_TG_ID, build_university
from bot.config import PROJECT_ROOT
from bot.delivery.worker import CONCURRENCY
from bot.keyboards.testing import AnswerCb
from bot.services.notify import NoticeKind, notify_many
from bot.services.testing import score_of
from db.migrate import upgrade
from db.models import Role, User
from db.models.delivery import Delivery, DeliveryStatus, NotificationSettings
from db.models.testing import (
    Attempt,
    AttemptAnswer,
    AttemptQuestion,
    AttemptStatus,
    QuestionOption,
)
from db.session import Database
from tests.support.fake_session import ChatMessage
from tests.support.http_botapi import HttpBotApi

STUDENTS = int(os.environ.get("CRASH_STUDENTS", "50"))
QUESTIONS = 3  # drawn per attempt (one of each difficulty), all single-choice
PATIENCE = 4.0  # seconds a student waits for a reaction before pressing again
QUIET = 0.15  # seconds without a new request to the chat after which its screen is read
_query_ids = itertools.count(1)
_message_ids = itertools.count(100_000)


class Student:
    def __init__(self, api: HttpBotApi, index: int) -> None:
        self.api = api
        self.uid = FIRST_TG_ID + index
        self.user = {"id": self.uid, "is_bot": False, "first_name": f"S{index}"}
        self.acknowledged: dict[int, int] = {}  # attempt question id -> option id
        self.finished = False
        api.session.register_user(self.user)
        api.session.register_chat(self.uid, "private", first_name=f"S{index}")

    def screen(self) -> ChatMessage | None:
        return self.api.session.last_bot_message(self.uid)

    def _version(self) -> int:
        return self.api.session.chat_requests[self.uid]

    async def _settle(self, done: Any) -> bool:
        """Wait (on the fake Telegram's requests, not by polling) until `done()`, then until
        this chat has been quiet for a moment; False when that takes longer than PATIENCE."""
        session = self.api.session
        deadline = time.monotonic() + PATIENCE
        if not await session.wait_until(done, PATIENCE):
            return False
        # Let the edit that follows an answer land before reading the screen.
        while True:
            quiet = self._version()
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if not await session.wait_until(
                lambda quiet=quiet: self._version() != quiet, min(QUIET, left)
            ):
                return True

    async def send(self, text: str) -> bool:
        message = {
            "message_id": next(_message_ids),
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": self.uid, "type": "private", "first_name": self.user["first_name"]},
            "from": self.user,
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
        before = self._version()
        self.api.push_update({"message": message})
        return await self._settle(lambda: self._version() > before)

    async def press(self, data: str, screen: ChatMessage) -> str | None:
        query_id = f"crash{next(_query_ids)}"
        self.api.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.user,
                    "chat_instance": f"ci{self.uid}",
                    "data": data,
                    "message": self.api.session.message_json(screen),
                }
            }
        )

        answers = self.api.session.callback_answers
        if not await self._settle(lambda: query_id in answers):
            return None
        return answers[query_id].text or ""

    def button(self, screen: ChatMessage, *starts: str) -> str | None:
        if screen.reply_markup is None:
            return None
        for row in screen.reply_markup.inline_keyboard:
            for b in row:
                if b.callback_data and any(part in b.text for part in starts):
                    return b.callback_data
        return None

    async def sit(self) -> None:
        """Like a person: read the screen, do the next thing, retry when nothing happens."""
        for _step in range(200):
            screen = self.screen()
            text = (screen.text or "") if screen else ""
            if "Testing finished" in text:
                self.finished = True
                return
            options = []
            if screen is not None and screen.reply_markup is not None:
                options = [
                    b.callback_data
                    for row in screen.reply_markup.inline_keyboard
                    for b in row
                    if b.callback_data and b.callback_data.startswith("qa:")
                ]
            if screen is None or screen.deleted:
                await self.send("/tests")
                continue
            if options:
                chosen = AnswerCb.unpack(options[0])
                if chosen.q not in self.acknowledged:
                    said = await self.press(options[0], screen)
                    if said in ("Answer saved.", "Already recorded."):
                        self.acknowledged[chosen.q] = chosen.o
                    continue
            for starts in (("Load test",), ("Take the test", "Continue"), ("OK, start",)):
                data = self.button(screen, *starts)
                if data:
                    await self.press(data, screen)
                    break
            else:
                data = self.button(screen, "Next")
                if data:
                    await self.press(data, screen)
                elif data := self.button(screen, "Yes, finish"):
                    await self.press(data, screen)
                elif data := self.button(screen, "Finish"):
                    await self.press(data, screen)
                else:
                    await self.send("/tests")
        raise AssertionError(f"student {self.uid} never finished: {self.screen()}")


async def _spawn(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=PROJECT_ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )


async def test_sigkill_mid_exam_loses_no_acknowledged_answer(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    db = Database.from_url(url)
    await upgrade(db)
    test_id = await build_university(db, STUDENTS, QUESTIONS)
    api = HttpBotApi()
    env = {
        "BOT_TOKEN": "123456:CRASH-test-token",
        "BOT_API_URL": await api.start(),
        "DATABASE_URL": url,
        "RUN_SCHEDULER": "0",
        # Polling, one process, in-memory dialogues: whatever a local .env says.
        "WEBHOOK_URL": "",
        "REDIS_URL": "",
    }
    log = tmp_path / "bot.log"
    students = [Student(api, i) for i in range(STUDENTS)]
    proc = await _spawn(env, log)
    killed_at: dict[int, dict[int, int]] = {}
    try:
        exam = asyncio.gather(*(s.sit() for s in students))
        total = STUDENTS * QUESTIONS
        # Checked after each request the bot makes (students record an acknowledgement right
        # after the request that carried it; the next one re-checks).
        while not await api.session.wait_until(
            lambda: sum(len(s.acknowledged) for s in students) >= total // 2, 1.0
        ):
            assert proc.returncode is None, log.read_text(errors="replace")[-3000:]
            if exam.done():
                exam.result()  # a student gave up: show why
                raise AssertionError("the exam ended before the kill")
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        killed_at = {s.uid: dict(s.acknowledged) for s in students}
        proc = await _spawn(env, log)
        await asyncio.wait_for(exam, timeout=240)
    finally:
        if proc.returncode is None:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), timeout=30)
        await api.stop()

    assert all(s.finished for s in students)
    # The kill came in the middle: half the answers acknowledged, not all of them.
    assert STUDENTS * QUESTIONS // 2 <= sum(len(a) for a in killed_at.values())
    assert sum(len(a) for a in killed_at.values()) < STUDENTS * QUESTIONS
    written = log.read_text(errors="replace")
    assert written.count("Start polling") == 2
    # The token is the bot's password: it never reaches the log.
    assert env["BOT_TOKEN"] not in written and "CRASH-test-token" not in written
    async with db.read() as session:
        questions = (await session.scalars(select(AttemptQuestion))).all()
        attempts = (await session.scalars(select(Attempt).where(Attempt.test_id == test_id))).all()
        options = (await session.execute(select(QuestionOption))).scalars().all()
        arrivals = dict(
            (
                await session.execute(
                    select(AttemptAnswer.attempt_question_id, func.count()).group_by(
                        AttemptAnswer.attempt_question_id
                    )
                )
            ).all()
        )
    await db.dispose()
    chosen = {q.id: q.chosen for q in questions}
    right: dict[int, list[int]] = {}
    for option in options:
        if option.is_correct:
            right.setdefault(option.question_id, []).append(option.id)
    # Every answer acknowledged before the kill survived it (and those after it, too).
    for student in students:
        for question, option in killed_at[student.uid].items():
            assert chosen[question] == [option], (student.uid, question)
        for question, option in student.acknowledged.items():
            assert chosen[question] == [option], (student.uid, question)
    # A press delivered twice (unconfirmed when the process died) is one answer, not two.
    assert max(arrivals.values()) == 1
    # One attempt each, finished, scored once and consistently with the stored answers.
    assert len(attempts) == STUDENTS
    assert len({a.student_id for a in attempts}) == STUDENTS
    by_attempt: dict[int, list[AttemptQuestion]] = {}
    for question in questions:
        by_attempt.setdefault(question.attempt_id, []).append(question)
    for attempt in attempts:
        assert attempt.status == AttemptStatus.finished
        drawn = by_attempt[attempt.id]
        assert len(drawn) == attempt.total == QUESTIONS
        correct = sum(1 for q in drawn if sorted(q.chosen or []) == sorted(right[q.question_id]))
        assert correct == attempt.easy_correct + attempt.medium_correct + attempt.hard_correct
        assert attempt.score == score_of(correct, attempt.total)
        assert all(q.is_correct is not None for q in drawn)


RECIPIENTS = int(os.environ.get("CRASH_RECIPIENTS", "80"))
FIRST_CHAT = 5_000_000


async def _queue_broadcast(db: Database, recipients: int) -> None:
    """An announcement to `recipients` students with quiet hours off (the test runs at any
    hour), queued in the outbox as the composer does."""
    now = datetime.now(UTC)
    async with db.write() as session:
        users = [
            User(
                login=f"bc{i}",
                password_hash="!unset",
                role=Role.student,
                telegram_id=FIRST_CHAT + i,
                locale="en",
            )
            for i in range(recipients)
        ]
        session.add_all(users)
        await session.flush()
        session.add_all(NotificationSettings(user_id=u.id, quiet_enabled=False) for u in users)
        await session.flush()
        await notify_many(
            session,
            user_ids=[u.id for u in users],
            kind=NoticeKind.announcements,
            template="messages.new",
            params={"kind": "announcement", "sender": "Dean", "subject": "Exams", "message_id": 1},
            now=now,
        )


async def test_sigkill_mid_broadcast_everyone_gets_it_soon_after_the_restart(
    tmp_path: Path,
) -> None:
    """The bot (with its scheduler and delivery worker) is killed while a broadcast is going
    out and started again at once: within 60 s of the restart every recipient has the message,
    and only sends that were in flight at the kill may arrive twice."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'broadcast.db'}"
    db = Database.from_url(url)
    await upgrade(db)
    await _queue_broadcast(db, RECIPIENTS)
    api = HttpBotApi()
    api.send_delay = 0.1  # a network round trip: several sends are in flight at any moment
    for i in range(RECIPIENTS):
        api.session.register_chat(FIRST_CHAT + i, "private", first_name=f"R{i}")
    env = {
        "BOT_TOKEN": "123456:CRASH-broadcast-token",
        "BOT_API_URL": await api.start(),
        "DATABASE_URL": url,
        "RUN_SCHEDULER": "1",
        "WEBHOOK_URL": "",
        "REDIS_URL": "",
    }
    log = tmp_path / "bot.log"
    proc = await _spawn(env, log)
    try:
        # Generous deadlines: the machine may be busy; the 60 s promise is checked below.
        await asyncio.wait_for(
            api.wait_until(lambda: len(api.delivered) >= RECIPIENTS // 3), timeout=120
        )
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        at_kill = len(api.delivered)
        restarted = time.monotonic()
        proc = await _spawn(env, log)
        await asyncio.wait_for(
            api.wait_until(lambda: len(api.delivered) == RECIPIENTS), timeout=120
        )
        took = time.monotonic() - restarted
        print(f"killed at {at_kill}/{RECIPIENTS}; all delivered {took:.1f} s after the restart")
    finally:
        if proc.returncode is None:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), timeout=30)
        await api.stop()

    written = log.read_text(errors="replace")
    assert written.count("Start polling") == 2, written[-3000:]
    # Killed in the middle, not before the first send or after the last.
    assert RECIPIENTS // 3 <= at_kill < RECIPIENTS
    assert took < 60, (took, written[-3000:])
    duplicated = sum(n - 1 for n in api.delivered.values())
    # Each send's answer is recorded before the next one of its slot: at most one unrecorded
    # send per slot of the worker can be repeated.
    assert duplicated <= CONCURRENCY
    async with db.read() as session:
        statuses = list(await session.scalars(select(Delivery.status)))
    await db.dispose()
    assert statuses.count(DeliveryStatus.sent) == RECIPIENTS
