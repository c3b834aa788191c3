"""Online testing, the student's side, end to end through the real dispatcher."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from aiogram.methods import SendMessage
from sqlalchemy import delete, func, select

from bot.demo.core import DEMO_ACCOUNTS
from bot.keyboards.testing import AnswerCb, QuizCb
from bot.services import testing as svc
from bot.services.question_import import parse_bank
from db.models import Discipline, Student, User
from db.models.academic import Enrolment
from db.models.testing import (
    Attempt,
    AttemptAnswer,
    AttemptQuestion,
    AttemptStatus,
    ControlKind,
    Difficulty,
    FinishReason,
    OnlineTestTarget,
    QuestionKind,
)
from tests.conftest import App

STUDENT = DEMO_ACCOUNTS["student"]
DISCIPLINE = "DBS2201"
BANK = """
<question1>Easy one
<variant>E1 right
<variant>E1 wrong
<variant>E1 wrong too
<question1>Easy two
<variant>E2 right
<variant>E2 wrong
<question3>Hard multi
<variantright>H right A
<variant>H wrong
<variantright>H right B
"""


async def make_test(
    app: App,
    *,
    minutes: int = 10,
    held: bool = False,
    control: ControlKind = ControlKind.midterm2,
    attempts: int = 1,
    closes_in: timedelta = timedelta(days=1),
    name: str = "Control work",
) -> int:
    """A test over a known bank (2 easy single-answer, 1 hard multiple-answer), assigned to
    the demo student's group, with the demo's own test taken away."""
    now = app.clock.now()
    async with app.db.write() as session:
        await session.execute(delete(OnlineTestTarget))
        discipline = await session.scalar(select(Discipline).where(Discipline.code == DISCIPLINE))
        student = await session.scalar(select(Student).join(User).where(User.login == STUDENT[0]))
        bank = await svc.get_or_create_bank(session, discipline.id, "Known", None, now)
        parsed = parse_bank("b.txt", BANK.encode())
        await svc.import_questions(session, bank.id, parsed.questions, Difficulty.medium)
        test = await svc.create_test(
            session,
            svc.TestSpec(
                name=name,
                discipline_id=discipline.id,
                bank_id=bank.id,
                control=control,
                time_limit_minutes=minutes,
                easy_count=2,
                medium_count=0,
                hard_count=1,
                opens_at=now - timedelta(hours=1),
                closes_at=now + closes_in,
                attempts_allowed=attempts,
                results_after_close=held,
            ),
            group_ids=[student.group_id],
            created_by_user_id=None,
            now=now,
            tz=app.settings.tz,
        )
        return test.id


async def start(app: App, name: str = "Control work"):
    client = await app.signed_in(*STUDENT)
    await client.click("Testing")
    await client.click(name)
    await client.click("Take the test")
    await client.click("OK, start")
    return client


async def the_attempt(app: App) -> Attempt:
    async with app.db.read() as session:
        attempt = await session.scalar(select(Attempt).order_by(Attempt.id.desc()).limit(1))
        session.expunge_all()
        return attempt


async def answers(app: App) -> list[AttemptAnswer]:
    async with app.db.read() as session:
        rows = list(await session.scalars(select(AttemptAnswer).order_by(AttemptAnswer.id)))
        session.expunge_all()
        return rows


async def go_to(client, text: str) -> None:
    """Walk the questions with "Next ›" until the one containing `text` is shown."""
    await client.click("All questions")
    await client.click("1")
    for _ in range(5):
        if text in client.last_message().text:
            return
        await client.click("Next ›")
    raise AssertionError(f"no question {text!r}")


async def test_no_tests_assigned(demo_app: App) -> None:
    async with demo_app.db.write() as session:
        await session.execute(delete(OnlineTestTarget))
    client = await demo_app.signed_in(*STUDENT)
    assert "You have a test assigned" not in client.last_message().text
    await client.click("Testing")
    assert "No tests are assigned to you." in client.last_message().text


async def test_full_attempt_with_single_and_multiple_answers(demo_app: App) -> None:
    test_id = await make_test(demo_app)
    client = await demo_app.signed_in(*STUDENT)
    assert "You have a test assigned: Control work, open until" in client.last_message().text
    await client.click("Testing")
    listing = client.last_message().text
    assert "Control work" in listing and "Time limit: 10 min" in listing
    assert "Attempts left: 1 of 1" in listing
    await client.click("Control work")
    await client.click("Rules of testing")
    assert "Confirm answer" in client.last_message().text
    await client.click("« Back")
    await client.click("Take the test")
    assert "Questions: 3. Time limit: 10 min." in client.last_message().text
    await client.click("OK, start")

    screen = client.last_message()
    assert screen.protect_content
    assert "Time left: 00:10:00" in screen.text and "Answered 0 of 3" in screen.text
    assert "Database Systems" in screen.text and "Midterm control 2" in screen.text
    # Nothing on the screen or in the payloads says which option is right.
    assert all(
        "right" not in (b.callback_data or "")
        for r in screen.reply_markup.inline_keyboard
        for b in r
    )

    # A single answer, then changed.
    await go_to(client, "Easy one")
    await client.click("E1 wrong too")
    assert "🔘 B)" in " ".join(client.buttons()) or "🔘" in " ".join(client.buttons())
    assert "Answered 1 of 3" in client.last_message().text
    await client.click("E1 right")
    assert "Answered 1 of 3" in client.last_message().text
    chosen = [b for b in client.buttons() if b.startswith("🔘")]
    assert len(chosen) == 1 and "E1 right" in chosen[0]

    # The multiple-answer question: tick two, confirm.
    await go_to(client, "Hard multi")
    assert "Several answers are correct" in client.last_message().text
    await client.click("H right A")
    assert "Ticked, not yet confirmed" in client.last_message().text
    assert "Answered 1 of 3" in client.last_message().text
    await client.click("H right B")
    await client.click("Confirm answer")
    assert "Answered 2 of 3" in client.last_message().text
    ticked = [b for b in client.buttons() if b.startswith("☑️")]
    assert len(ticked) == 2

    # The grid shows what is answered and jumps.
    await client.click("All questions")
    grid = client.buttons()
    assert sum(1 for b in grid if b.startswith("✅")) == 2
    assert sum(1 for b in grid if b.startswith("⬜️")) == 1
    unanswered = next(b for b in grid if b.startswith("⬜️"))
    await client.click(unanswered)
    assert "Easy two" in client.last_message().text

    # Finishing lists the unanswered question.
    await client.click("Finish")
    position = unanswered.split()[-1]
    assert f"Unanswered questions (1): {position}." in client.last_message().text
    await client.click("Yes, finish")
    result = client.last_message().text
    assert "Testing finished" in result
    assert "Questions: easy 2, medium 0, hard 1" in result
    assert "Correct: easy 1, medium 0, hard 1" in result
    assert "Test score: 66.67" in result
    assert "Midterm control 2: 66.67" in result

    attempt = await the_attempt(demo_app)
    assert attempt.status == AttemptStatus.finished
    assert attempt.finish_reason == FinishReason.submitted
    assert attempt.score == Decimal("66.67")
    assert (attempt.easy_correct, attempt.hard_correct) == (1, 1)
    rows = await answers(demo_app)
    assert len(rows) == 3  # the first choice, its change, the confirmed set
    assert all(r.received_at == demo_app.clock.now() for r in rows)
    async with demo_app.db.read() as session:
        marks = await session.scalar(
            select(Enrolment.midterm2)
            .join(Student, Student.id == Enrolment.student_id)
            .join(User, User.id == Student.user_id)
            .join(Discipline, Discipline.id == Enrolment.discipline_id)
            .where(User.login == STUDENT[0], Discipline.code == DISCIPLINE)
        )
    assert marks == Decimal("66.67")

    # No attempts left now; the test is no longer on the home screen.
    await client.send("/menu")
    assert "You have a test assigned" not in client.last_message().text
    await client.click("Testing")
    assert "No attempts left" in client.last_message().text
    await client.click("Control work")
    assert "Take the test" not in client.buttons()
    assert test_id


async def test_answer_after_deadline_is_refused_and_closes_the_attempt(demo_app: App) -> None:
    await make_test(demo_app, minutes=5)
    client = await start(demo_app)
    await go_to(client, "Easy one")
    # Within the grace an answer still counts.
    demo_app.clock.advance(minutes=5, seconds=20)
    await client.click("E1 right")
    assert len(await answers(demo_app)) == 1
    demo_app.clock.advance(seconds=11)
    await client.click("E1 wrong too")
    assert "after the deadline" in client.last_answer().text
    assert client.last_answer().show_alert
    assert "Testing finished" in client.last_message().text
    rows = await answers(demo_app)
    assert len(rows) == 1
    attempt = await the_attempt(demo_app)
    assert attempt.status == AttemptStatus.finished
    assert attempt.finish_reason == FinishReason.late
    assert attempt.finished_at == attempt.deadline
    assert attempt.easy_correct == 1


async def test_deadline_never_passes_the_window(demo_app: App) -> None:
    await make_test(demo_app, minutes=60, closes_in=timedelta(minutes=20))
    client = await start(demo_app)
    assert "Time left: 00:20:00" in client.last_message().text
    attempt = await the_attempt(demo_app)
    assert attempt.deadline == demo_app.clock.now() + timedelta(minutes=20)


async def test_forged_and_stale_presses_change_nothing(demo_app: App) -> None:
    await make_test(demo_app, attempts=2)
    client = await start(demo_app)
    attempt = await the_attempt(demo_app)
    async with demo_app.db.read() as session:
        aqs = list(
            await session.scalars(
                select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt.id)
            )
        )
        session.expunge_all()
    aq = aqs[0]
    other_aq = aqs[1]

    # An option of another question of the same attempt.
    await client.click_data(AnswerCb(q=aq.id, o=other_aq.option_ids[0], s=1).pack())
    assert client.last_answer().text == "This button is no longer available."
    # A question that does not exist, or belongs to somebody else.
    await client.click_data(AnswerCb(q=999_999, o=1, s=1).pack())
    assert client.last_answer().text == "This button is no longer available."
    await client.click_data(QuizCb(a="q", i=attempt.id + 1000, p=1).pack())
    assert client.last_answer().text == "This button is no longer available."
    await client.click_data(QuizCb(a="view", i=424242).pack())
    assert client.last_answer().text == "This button is no longer available."
    assert await answers(demo_app) == []

    # Someone else's attempt: another student presses this student's payload.
    async with demo_app.db.write() as session:
        other = await session.scalar(
            select(Student).join(User).where(User.login != STUDENT[0]).limit(1)
        )
        other_user = await session.get(User, other.user_id)
        other_user.password_hash = (
            await session.get(
                User, (await session.scalar(select(User.id).where(User.login == STUDENT[0])))
            )
        ).password_hash
        other_login = other_user.login
    intruder = await demo_app.signed_in(other_login, STUDENT[1])
    await intruder.click_data(AnswerCb(q=aq.id, o=aq.option_ids[0], s=1).pack())
    assert intruder.last_answer().text == "This button is no longer available."
    assert await answers(demo_app) == []

    # A press on a question of a finished attempt.
    screen = client.last_message()
    await client.click("Finish")
    await client.click("Yes, finish")
    await client.click_data(AnswerCb(q=aq.id, o=aq.option_ids[0], s=1).pack(), screen.message_id)
    assert client.last_answer().text == "This test attempt is already finished."
    assert await answers(demo_app) == []
    # Finishing twice changes nothing.
    before = await the_attempt(demo_app)
    await client.click_data(QuizCb(a="end", i=attempt.id).pack())
    assert client.last_answer().text == "Already finished."
    after = await the_attempt(demo_app)
    assert (after.finished_at, after.score) == (before.finished_at, before.score)
    # A payload that is not even well-formed.
    await client.click_data("qa:not:numbers")
    assert client.last_answer().text == "This button is no longer available."


async def test_double_press_records_one_answer(demo_app: App) -> None:
    await make_test(demo_app)
    client = await start(demo_app)
    attempt = await the_attempt(demo_app)
    async with demo_app.db.read() as session:
        aq = await session.scalar(
            select(AttemptQuestion)
            .where(
                AttemptQuestion.attempt_id == attempt.id,
                AttemptQuestion.kind == QuestionKind.single,
            )
            .limit(1)
        )
        session.expunge_all()
    payload = AnswerCb(q=aq.id, o=aq.option_ids[0], s=1).pack()
    await asyncio.gather(client.click_data(payload), client.click_data(payload))
    rows = await answers(demo_app)
    assert len(rows) == 1
    assert rows[0].chosen == [aq.option_ids[0]]
    texts = sorted(a.text or "" for a in client.answers()[-2:])
    assert texts == ["Already recorded.", "Answer saved."]


async def test_two_starts_make_one_attempt(demo_app: App) -> None:
    test_id = await make_test(demo_app, attempts=3)
    client = await demo_app.signed_in(*STUDENT)
    await client.click("Testing")
    await client.click("Control work")
    await client.click("Take the test")
    confirm = client.last_message()
    await asyncio.gather(client.click("OK, start", confirm), client.click("OK, start", confirm))
    async with demo_app.db.read() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(Attempt).where(Attempt.test_id == test_id)
            )
            == 1
        )


async def test_restart_mid_test_keeps_answers_and_the_real_time(demo_app: App) -> None:
    await make_test(demo_app, minutes=10)
    client = await start(demo_app)
    await go_to(client, "Easy one")
    await client.click("E1 right")
    demo_app.clock.advance(minutes=4)

    # The process restarts: a new dispatcher with empty memory.
    await demo_app.restart()
    again = demo_app.client(client.user_id)
    await again.send("/start")
    assert "You have a test assigned" in again.last_message().text
    await again.click("Testing")
    assert "In progress: 00:06:00 left" in again.last_message().text
    await again.click("Control work")
    await again.click("Continue the test")
    screen = again.last_message()
    assert screen.protect_content
    assert "Time left: 00:06:00" in screen.text
    assert "Answered 1 of 3" in screen.text
    assert "Easy one" not in screen.text  # the first unanswered question is shown


async def test_results_held_until_the_window_closes(demo_app: App) -> None:
    await make_test(demo_app, held=True, control=ControlKind.exam)
    client = await start(demo_app)
    await client.click("Finish")
    await client.click("Yes, finish")
    text = client.last_message().text
    assert "results will be shown after the test window closes" in text
    assert "Test score" not in text
    attempt = await the_attempt(demo_app)
    assert attempt.score == Decimal("0.00")
    assert attempt.journal_at is None
    sent = [r for r in demo_app.session.requests_of(SendMessage) if "score" in r.text.lower()]
    assert not any("Test score" in r.text for r in sent)


async def test_unanswered_multiple_draft_is_not_an_answer(demo_app: App) -> None:
    await make_test(demo_app)
    client = await start(demo_app)
    await go_to(client, "Hard multi")
    await client.click("H right A")
    await client.click("H right B")
    await client.click("Finish")
    assert "Unanswered questions (3)" in client.last_message().text
    await client.click("Yes, finish")
    assert "Correct: easy 0, medium 0, hard 0" in client.last_message().text
