"""The demo's appeals: two finished tests of the demo student in Database Systems.

One was written yesterday with two wrong answers and its appeal window still open; the other,
a week ago, was appealed and decided by the teacher (one question accepted, one rejected), so
"Passed tests" shows both the plain and the "correct with appeal" columns.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.demo.context import DemoContext
from bot.demo.core import DEMO_ACCOUNTS
from bot.demo.testing import BANK_NAME, DISCIPLINE
from bot.services import journal
from bot.services import testing as testing_svc
from db.models import Discipline, Student, User
from db.models.appeals import Appeal, AppealItem, AppealItemStatus
from db.models.testing import (
    Attempt,
    AttemptQuestion,
    AttemptStatus,
    ControlKind,
    Difficulty,
    FinishReason,
    OnlineTest,
    OnlineTestTarget,
    Question,
    QuestionBank,
)

OPEN_TEST = "Ағымдағы бақылау: SQL негіздері"
DECIDED_TEST = "Ағымдағы бақылау: транзакциялар"


async def _questions(session: AsyncSession, bank_id: int) -> dict[Difficulty, list[Question]]:
    rows = await session.scalars(
        select(Question)
        .where(Question.bank_id == bank_id, Question.is_active.is_(True))
        .options(selectinload(Question.options))
        .order_by(Question.id)
    )
    out: dict[Difficulty, list[Question]] = {d: [] for d in Difficulty}
    for q in rows:
        out[Difficulty(q.difficulty)].append(q)
    return out


async def _finished_attempt(
    session: AsyncSession,
    test: OnlineTest,
    student_id: int,
    picks: list[tuple[Question, bool]],
    finished: datetime,
) -> tuple[Attempt, list[AttemptQuestion]]:
    """An attempt answered as told (right or a wrong option per question), then scored."""
    attempt = Attempt(
        test_id=test.id,
        student_id=student_id,
        number=1,
        open_marker=None,
        status=AttemptStatus.finished,
        finish_reason=FinishReason.submitted,
        seed=1,
        started_at=finished - timedelta(minutes=12),
        deadline=finished + timedelta(minutes=18),
        finished_at=finished,
        total=len(picks),
    )
    session.add(attempt)
    await session.flush()
    aqs = []
    for position, (question, right) in enumerate(picks, start=1):
        correct = [o.id for o in question.options if o.is_correct]
        wrong = [o.id for o in question.options if not o.is_correct]
        chosen = sorted(correct) if right or not wrong else [wrong[0]]
        aq = AttemptQuestion(
            attempt_id=attempt.id,
            position=position,
            question_id=question.id,
            difficulty=question.difficulty,
            kind=question.kind,
            option_ids=[o.id for o in question.options],
            chosen=chosen,
            answered_at=finished - timedelta(minutes=len(picks) - position + 1),
        )
        session.add(aq)
        aqs.append(aq)
    await session.flush()
    await testing_svc.score_attempt(session, attempt)
    return attempt, aqs


def _test(
    name: str, discipline_id: int, bank_id: int, period_id: int | None, opens: datetime, hours: int
) -> OnlineTest:
    return OnlineTest(
        name=name,
        discipline_id=discipline_id,
        bank_id=bank_id,
        period_id=period_id,
        control=ControlKind.current,
        time_limit_minutes=30,
        easy_count=3,
        medium_count=1,
        hard_count=1,
        opens_at=opens,
        closes_at=opens + timedelta(hours=3),
        attempts_allowed=1,
        results_after_close=False,
        appeal_window_hours=hours,
    )


async def seed(session: AsyncSession, ctx: DemoContext) -> None:
    if await session.scalar(select(OnlineTest.id).where(OnlineTest.name == OPEN_TEST)):
        return
    discipline = await session.scalar(select(Discipline).where(Discipline.code == DISCIPLINE))
    student = await session.scalar(
        select(Student).join(User).where(User.login == DEMO_ACCOUNTS["student"][0])
    )
    teacher = await session.scalar(select(User).where(User.login == DEMO_ACCOUNTS["teacher"][0]))
    if discipline is None or student is None:
        return
    bank = await session.scalar(
        select(QuestionBank).where(
            QuestionBank.discipline_id == discipline.id, QuestionBank.name == BANK_NAME
        )
    )
    if bank is None:
        return
    pool = await _questions(session, bank.id)
    if len(pool[Difficulty.easy]) < 3 or not pool[Difficulty.medium] or not pool[Difficulty.hard]:
        return
    period = await journal.current_period(session, ctx.today)
    period_id = period.id if period is not None else None
    yesterday = datetime.combine(ctx.today - timedelta(days=1), time(10, 0), tzinfo=ctx.tz)
    week_ago = datetime.combine(ctx.today - timedelta(days=7), time(10, 0), tzinfo=ctx.tz)
    easy, medium, hard = pool[Difficulty.easy], pool[Difficulty.medium], pool[Difficulty.hard]

    open_test = _test(OPEN_TEST, discipline.id, bank.id, period_id, yesterday, 72)
    decided_test = _test(DECIDED_TEST, discipline.id, bank.id, period_id, week_ago, 48)
    for test in (open_test, decided_test):
        test.created_by_user_id = teacher.id if teacher else None
        test.targets.append(OnlineTestTarget(student_id=student.id))
        session.add(test)
    await session.flush()

    await _finished_attempt(
        session,
        open_test,
        student.id,
        [(easy[0], True), (easy[1], False), (easy[2], True), (medium[0], False), (hard[0], True)],
        yesterday + timedelta(minutes=20),
    )

    finished = week_ago + timedelta(minutes=25)
    attempt, aqs = await _finished_attempt(
        session,
        decided_test,
        student.id,
        [
            (easy[-1], False),
            (easy[1], True),
            (easy[2], True),
            (medium[-1], False),
            (hard[-1], True),
        ],
        finished,
    )
    appeal = Appeal(
        attempt_id=attempt.id,
        student_id=student.id,
        easy_correct_before=attempt.easy_correct,
        medium_correct_before=attempt.medium_correct,
        hard_correct_before=attempt.hard_correct,
        score_before=attempt.score,
        created_at=finished + timedelta(hours=2),
        updated_at=finished + timedelta(days=1),
    )
    session.add(appeal)
    await session.flush()
    decided_at = finished + timedelta(days=1)
    verdicts = (
        (aqs[0], AppealItemStatus.accepted, "Сұрақтың тұжырымы екі жауапқа да мүмкіндік береді."),
        (aqs[3], AppealItemStatus.rejected, "Дұрыс жауап — дәрісте талқыланған нұсқа."),
    )
    for aq, status, note in verdicts:
        session.add(
            AppealItem(
                appeal_id=appeal.id,
                attempt_question_id=aq.id,
                active_marker=1,
                comment="Менің жауабым да дұрыс деп ойлаймын.",
                status=status,
                filed_at=finished + timedelta(hours=2),
                decided_by_user_id=teacher.id if teacher else None,
                decided_at=decided_at,
                decision_comment=note,
            )
        )
    await session.flush()
    await testing_svc.score_attempt(session, attempt, {aqs[0].id: True})
