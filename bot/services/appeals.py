"""Appeals (§7): file, withdraw and decide appeals of test results; the score follows.

The appeal window of an attempt opens when its result becomes visible (at once, or when held
results are released) and lasts the test's `appeal_window_hours`; zero means the test allows no
appeals. Only wrongly answered questions of the student's own attempt can be filed. A decision
is a conditional update of a pending item, so a double tap or two reviewers at once decide it
once. Accepted questions count as correct: the attempt is scored again with them as overrides,
the journal's mark of the test's kind of control follows, and the student is told the score
before and after.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import journal
from bot.services import testing as testing_svc
from bot.services.errors import DomainError
from bot.services.i18n import _
from bot.services.notify import NoticeKind, notify
from db.models import AcademicPeriod, Discipline, Group, Role, Student, User
from db.models.academic import CurrentMark, Enrolment, WorkKind
from db.models.appeals import Appeal, AppealItem, AppealItemStatus
from db.models.testing import (
    Attempt,
    AttemptQuestion,
    AttemptStatus,
    ControlKind,
    Difficulty,
    OnlineTest,
    Question,
    QuestionOption,
)

COMMENT_LIMIT = 300
DECISION_COMMENT_LIMIT = 500
REMIND_BEFORE = timedelta(hours=3)
COMMISSION_SUB_ROLE = "appeal_commission"


def refuse(code: str) -> DomainError:
    texts = {
        "not_found": lambda: _("This appeal is not available."),
        "no_window": lambda: _("This test does not allow appeals."),
        "window_closed": lambda: _("The appeal window of this test has closed."),
        "nothing_selected": lambda: _("Select at least one question first."),
        "not_wrong": lambda: _("Only wrongly answered questions of your attempt can be appealed."),
        "already_filed": lambda: _("This question has already been appealed."),
        "nothing_to_withdraw": lambda: _("There is nothing undecided to withdraw."),
        "already_decided": lambda: _("This question has already been decided."),
        "not_reviewer": lambda: _("You may not decide appeals of this discipline."),
        "comment_too_long": lambda: _("The comment is too long."),
    }
    return DomainError(f"appeal_{code}", texts[code])


# ----------------------------------------------------------------------------------- window


def window_opens_at(test: OnlineTest, attempt: Attempt) -> datetime | None:
    """When the student could first see the result, so could first appeal; None if not yet."""
    if attempt.status != AttemptStatus.finished or attempt.finished_at is None:
        return None
    if test.results_after_close:
        if test.results_released_at is None:
            return None
        return max(attempt.finished_at, test.results_released_at)
    return attempt.finished_at


def appeal_deadline(test: OnlineTest, attempt: Attempt) -> datetime | None:
    """The end of the attempt's appeal window; None when the test allows no appeals or the
    result is not visible yet."""
    if test.appeal_window_hours <= 0:
        return None
    start = window_opens_at(test, attempt)
    if start is None:
        return None
    return start + timedelta(hours=test.appeal_window_hours)


def window_open(test: OnlineTest, attempt: Attempt, now: datetime) -> bool:
    deadline = appeal_deadline(test, attempt)
    return deadline is not None and now < deadline


def can_offer(test: OnlineTest, attempt: Attempt, now: datetime) -> bool:
    """Whether the result screen should ask "Do you want to file an appeal?": the window is
    open and the attempt has something to appeal."""
    return window_open(test, attempt, now) and attempt.correct < attempt.total


# ----------------------------------------------------------------------------- passed tests


@dataclass(frozen=True, slots=True)
class PassedTest:
    """A row of "Passed tests" (Figure 20)."""

    attempt: Attempt
    test: OnlineTest
    discipline: Discipline
    # Correct answers per difficulty as scored before any appeal decision.
    correct_before: tuple[int, int, int]
    # Correct with appeal: only once a decision was made, else None.
    correct_with_appeal: tuple[int, int, int] | None
    deadline: datetime | None
    pending: int

    @property
    def totals(self) -> tuple[int, int, int]:
        a = self.attempt
        return (a.easy_total, a.medium_total, a.hard_total)


def _visible_clause() -> Any:
    return or_(
        OnlineTest.results_after_close.is_(False), OnlineTest.results_released_at.is_not(None)
    )


async def student_periods(session: AsyncSession, student_id: int) -> list[AcademicPeriod]:
    """Periods in which the student studies or has a finished test, the newest first."""
    tested = (
        select(OnlineTest.period_id)
        .join(Attempt, Attempt.test_id == OnlineTest.id)
        .where(Attempt.student_id == student_id, OnlineTest.period_id.is_not(None))
    )
    enrolled = select(Enrolment.period_id).where(Enrolment.student_id == student_id)
    return list(
        await session.scalars(
            select(AcademicPeriod)
            .where(or_(AcademicPeriod.id.in_(tested), AcademicPeriod.id.in_(enrolled)))
            .order_by(AcademicPeriod.starts_on.desc())
        )
    )


async def passed_tests(
    session: AsyncSession, student_id: int, period: AcademicPeriod, tz: tzinfo
) -> list[PassedTest]:
    """The student's finished attempts with visible results in the period, the newest first.
    A test without a period belongs to the period its attempt was finished in."""
    start = datetime.combine(period.starts_on, time(0, 0), tzinfo=tz)
    end = datetime.combine(period.ends_on + timedelta(days=1), time(0, 0), tzinfo=tz)
    rows = (
        await session.execute(
            select(Attempt, OnlineTest, Discipline, Appeal)
            .join(OnlineTest, OnlineTest.id == Attempt.test_id)
            .join(Discipline, Discipline.id == OnlineTest.discipline_id)
            .outerjoin(Appeal, Appeal.attempt_id == Attempt.id)
            .where(
                Attempt.student_id == student_id,
                Attempt.status == AttemptStatus.finished,
                _visible_clause(),
                or_(
                    OnlineTest.period_id == period.id,
                    and_(
                        OnlineTest.period_id.is_(None),
                        Attempt.finished_at >= start,
                        Attempt.finished_at < end,
                    ),
                ),
            )
            .order_by(Attempt.finished_at.desc(), Attempt.id.desc())
        )
    ).all()
    appeal_ids = [appeal.id for *_rest, appeal in rows if appeal is not None]
    counts: dict[tuple[int, AppealItemStatus], int] = {}
    if appeal_ids:
        for appeal_id, status, n in await session.execute(
            select(AppealItem.appeal_id, AppealItem.status, func.count())
            .where(AppealItem.appeal_id.in_(appeal_ids))
            .group_by(AppealItem.appeal_id, AppealItem.status)
        ):
            counts[(appeal_id, AppealItemStatus(status))] = n
    out = []
    for attempt, test, discipline, appeal in rows:
        now_counts = (attempt.easy_correct, attempt.medium_correct, attempt.hard_correct)
        before, with_appeal, pending = now_counts, None, 0
        if appeal is not None:
            before = (
                appeal.easy_correct_before,
                appeal.medium_correct_before,
                appeal.hard_correct_before,
            )
            decided = counts.get((appeal.id, AppealItemStatus.accepted), 0) + counts.get(
                (appeal.id, AppealItemStatus.rejected), 0
            )
            if decided:
                with_appeal = now_counts
            pending = counts.get((appeal.id, AppealItemStatus.pending), 0)
        out.append(
            PassedTest(
                attempt=attempt,
                test=test,
                discipline=discipline,
                correct_before=before,
                correct_with_appeal=with_appeal,
                deadline=appeal_deadline(test, attempt),
                pending=pending,
            )
        )
    return out


# ------------------------------------------------------------------------- the appeal screen


@dataclass(frozen=True, slots=True)
class WrongQuestion:
    aq_id: int
    position: int
    difficulty: Difficulty
    text: str
    chosen: list[str]  # the student's answer, option texts in the order shown
    correct: list[str]  # the correct options (shown to reviewers only)
    item: AppealItem | None  # the active appeal of this question, if any


@dataclass(frozen=True, slots=True)
class AttemptAppeal:
    attempt: Attempt
    test: OnlineTest
    discipline: Discipline
    deadline: datetime | None
    appeal: Appeal | None
    questions: list[WrongQuestion]

    def is_open(self, now: datetime) -> bool:
        return self.deadline is not None and now < self.deadline

    @property
    def pending(self) -> int:
        return sum(
            1 for q in self.questions if q.item and q.item.status == AppealItemStatus.pending
        )

    @property
    def selectable(self) -> list[WrongQuestion]:
        return [q for q in self.questions if q.item is None]


async def _owned_attempt(
    session: AsyncSession, student_id: int, attempt_id: int
) -> tuple[Attempt, OnlineTest]:
    row = (
        await session.execute(
            select(Attempt, OnlineTest)
            .join(OnlineTest, OnlineTest.id == Attempt.test_id)
            .where(Attempt.id == attempt_id)
        )
    ).first()
    if row is None or row[0].student_id != student_id:
        raise refuse("not_found")
    attempt, test = row
    if window_opens_at(test, attempt) is None:
        raise refuse("not_found")
    return attempt, test


async def _question_rows(
    session: AsyncSession, attempt_id: int, only_wrong: bool
) -> list[WrongQuestion]:
    query = (
        select(AttemptQuestion, Question.text)
        .join(Question, Question.id == AttemptQuestion.question_id)
        .where(AttemptQuestion.attempt_id == attempt_id)
        .order_by(AttemptQuestion.position)
    )
    if only_wrong:
        query = query.where(AttemptQuestion.is_correct.is_not(True))
    rows = (await session.execute(query)).all()
    if not rows:
        return []
    question_ids = [aq.question_id for aq, _text in rows]
    options: dict[int, tuple[str, bool]] = {}
    for oid, text, ok in await session.execute(
        select(QuestionOption.id, QuestionOption.text, QuestionOption.is_correct).where(
            QuestionOption.question_id.in_(question_ids)
        )
    ):
        options[oid] = (text, ok)
    items = {
        item.attempt_question_id: item
        for item in await session.scalars(
            select(AppealItem).where(
                AppealItem.attempt_question_id.in_([aq.id for aq, _text in rows]),
                AppealItem.active_marker.is_not(None),
            )
        )
    }
    out = []
    for aq, text in rows:
        chosen = set(aq.chosen or ())
        out.append(
            WrongQuestion(
                aq_id=aq.id,
                position=aq.position,
                difficulty=Difficulty(aq.difficulty),
                text=text,
                chosen=[options[o][0] for o in aq.option_ids if o in chosen and o in options],
                correct=[options[o][0] for o in aq.option_ids if o in options and options[o][1]],
                item=items.get(aq.id),
            )
        )
    return out


async def attempt_of_question(session: AsyncSession, aq_id: int) -> int:
    attempt_id = await session.scalar(
        select(AttemptQuestion.attempt_id).where(AttemptQuestion.id == aq_id)
    )
    if attempt_id is None:
        raise refuse("not_found")
    return attempt_id


async def attempt_appeal(session: AsyncSession, student_id: int, attempt_id: int) -> AttemptAppeal:
    """The appeal screen of the student's own attempt: the window and the wrong questions
    (including those already appealed, whatever their state now)."""
    attempt, test = await _owned_attempt(session, student_id, attempt_id)
    discipline = await session.get(Discipline, test.discipline_id)
    assert discipline is not None
    appeal = await session.scalar(select(Appeal).where(Appeal.attempt_id == attempt.id))
    questions = await _question_rows(session, attempt.id, only_wrong=True)
    if appeal is not None:
        # An accepted question is correct now but stays on the screen with its decision.
        appealed = {i.attempt_question_id for i in await _active_items(session, appeal.id)}
        listed = {q.aq_id for q in questions}
        if appealed - listed:
            every = await _question_rows(session, attempt.id, only_wrong=False)
            questions = [q for q in every if q.aq_id in listed or q.aq_id in appealed]
    return AttemptAppeal(
        attempt=attempt,
        test=test,
        discipline=discipline,
        deadline=appeal_deadline(test, attempt),
        appeal=appeal,
        questions=questions,
    )


async def _active_items(session: AsyncSession, appeal_id: int) -> list[AppealItem]:
    return list(
        await session.scalars(
            select(AppealItem).where(
                AppealItem.appeal_id == appeal_id, AppealItem.active_marker.is_not(None)
            )
        )
    )


# ---------------------------------------------------------------------------------- filing


def clean_comment(text: str | None, limit: int = COMMENT_LIMIT) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    if len(text) > limit:
        raise refuse("comment_too_long")
    return text or None


async def file_appeal(
    session: AsyncSession,
    student_id: int,
    attempt_id: int,
    selections: Mapping[int, str | None],
    now: datetime,
) -> Appeal:
    """File the selected questions (attempt-question id → optional comment) of the student's
    own attempt while its window is open. Every id must be a wrongly answered question of
    this attempt that is not filed already."""
    attempt, test = await _owned_attempt(session, student_id, attempt_id)
    if appeal_deadline(test, attempt) is None:
        raise refuse("no_window")
    if not window_open(test, attempt, now):
        raise refuse("window_closed")
    if not selections:
        raise refuse("nothing_selected")
    comments = {int(k): clean_comment(v) for k, v in selections.items()}
    aqs = {
        aq.id: aq
        for aq in await session.scalars(
            select(AttemptQuestion).where(
                AttemptQuestion.id.in_(list(comments)), AttemptQuestion.attempt_id == attempt.id
            )
        )
    }
    for aq_id in comments:
        aq = aqs.get(aq_id)
        if aq is None or aq.is_correct is not False:
            raise refuse("not_wrong")
    taken = set(
        await session.scalars(
            select(AppealItem.attempt_question_id).where(
                AppealItem.attempt_question_id.in_(list(comments)),
                AppealItem.active_marker.is_not(None),
            )
        )
    )
    if taken:
        raise refuse("already_filed")
    appeal = await session.scalar(select(Appeal).where(Appeal.attempt_id == attempt.id))
    if appeal is None:
        appeal = Appeal(
            attempt_id=attempt.id,
            student_id=student_id,
            easy_correct_before=attempt.easy_correct,
            medium_correct_before=attempt.medium_correct,
            hard_correct_before=attempt.hard_correct,
            score_before=attempt.score,
            created_at=now,
            updated_at=now,
        )
        session.add(appeal)
        await session.flush()
    appeal.updated_at = now
    for aq_id in sorted(comments):
        session.add(
            AppealItem(
                appeal_id=appeal.id,
                attempt_question_id=aq_id,
                comment=comments[aq_id],
                status=AppealItemStatus.pending,
                active_marker=1,
                filed_at=now,
            )
        )
    try:
        # Two "File" presses at once: the unique (question, active) pair lets one through.
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise refuse("already_filed") from None
    return appeal


async def withdraw(session: AsyncSession, student_id: int, attempt_id: int, now: datetime) -> int:
    """Withdraw every undecided question of the student's appeal of this attempt; returns how
    many were withdrawn. Decided questions stay as decided."""
    await _owned_attempt(session, student_id, attempt_id)
    appeal = await session.scalar(select(Appeal).where(Appeal.attempt_id == attempt_id))
    if appeal is None:
        raise refuse("nothing_to_withdraw")
    result = await session.execute(
        update(AppealItem)
        .where(AppealItem.appeal_id == appeal.id, AppealItem.status == AppealItemStatus.pending)
        .values(status=AppealItemStatus.withdrawn, active_marker=None, withdrawn_at=now)
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if not count:
        raise refuse("nothing_to_withdraw")
    appeal.updated_at = now
    await session.flush()
    return count


# -------------------------------------------------------------------------------- reviewers


@dataclass(frozen=True, slots=True)
class Reviewer:
    user_id: int
    role: Role
    teacher_id: int | None


async def _has_commission_role(session: AsyncSession, user_id: int) -> bool:
    try:
        from bot.services import roles
    except ImportError:  # staff sub-roles are an optional module of the deployment
        return True
    return await roles.has_sub_role(session, user_id, COMMISSION_SUB_ROLE)


async def reviewable_discipline_ids(session: AsyncSession, who: Reviewer) -> list[int] | None:
    """The one rule of who decides appeals: an admin, a staff member of the appeal commission
    (None: every discipline), a teacher for the disciplines they teach."""
    if who.role is Role.admin:
        return None
    if who.role is Role.staff:
        return None if await _has_commission_role(session, who.user_id) else []
    if who.role is Role.teacher:
        ids = await testing_svc.manageable_discipline_ids(session, who.role, who.teacher_id)
        return ids or []
    return []


async def is_reviewer(session: AsyncSession, who: Reviewer) -> bool:
    ids = await reviewable_discipline_ids(session, who)
    return ids is None or bool(ids)


@dataclass(frozen=True, slots=True)
class QueueEntry:
    appeal_id: int
    student_name: str
    group_code: str | None
    test_name: str
    discipline: Discipline
    pending: int
    filed_at: datetime


async def review_queue(session: AsyncSession, who: Reviewer) -> list[QueueEntry]:
    """Appeals with undecided questions that this reviewer may decide, the oldest first."""
    ids = await reviewable_discipline_ids(session, who)
    if ids is not None and not ids:
        return []
    pending = (
        select(
            AppealItem.appeal_id.label("appeal_id"),
            func.count().label("n"),
            func.min(AppealItem.filed_at).label("first"),
        )
        .where(AppealItem.status == AppealItemStatus.pending)
        .group_by(AppealItem.appeal_id)
        .subquery()
    )
    query = (
        select(
            Appeal.id, User, Group.code, OnlineTest.name, Discipline, pending.c.n, pending.c.first
        )
        .join(pending, pending.c.appeal_id == Appeal.id)
        .join(Attempt, Attempt.id == Appeal.attempt_id)
        .join(OnlineTest, OnlineTest.id == Attempt.test_id)
        .join(Discipline, Discipline.id == OnlineTest.discipline_id)
        .join(Student, Student.id == Appeal.student_id)
        .join(User, User.id == Student.user_id)
        .outerjoin(Group, Group.id == Student.group_id)
        .order_by(pending.c.first, Appeal.id)
    )
    if ids is not None:
        query = query.where(OnlineTest.discipline_id.in_(ids))
    return [
        QueueEntry(
            appeal_id=appeal_id,
            student_name=_full_name(user),
            group_code=group_code,
            test_name=test_name,
            discipline=discipline,
            pending=n,
            filed_at=first,
        )
        for appeal_id, user, group_code, test_name, discipline, n, first in await session.execute(
            query
        )
    ]


def _full_name(user: User) -> str:
    return " ".join(p for p in (user.last_name, user.first_name, user.middle_name) if p)


@dataclass(frozen=True, slots=True)
class AppealReview:
    appeal: Appeal
    attempt: Attempt
    test: OnlineTest
    discipline: Discipline
    student_name: str
    group_code: str | None
    questions: list[WrongQuestion]  # the appealed questions, with their items
    deciders: dict[int, str]  # user id → name of who decided


async def _appeal_checked(
    session: AsyncSession, who: Reviewer, appeal_id: int
) -> tuple[Appeal, Attempt, OnlineTest]:
    row = (
        await session.execute(
            select(Appeal, Attempt, OnlineTest)
            .join(Attempt, Attempt.id == Appeal.attempt_id)
            .join(OnlineTest, OnlineTest.id == Attempt.test_id)
            .where(Appeal.id == appeal_id)
        )
    ).first()
    if row is None:
        raise refuse("not_found")
    ids = await reviewable_discipline_ids(session, who)
    if ids is not None and row[2].discipline_id not in ids:
        raise refuse("not_reviewer")
    return row[0], row[1], row[2]


async def appeal_of_item(session: AsyncSession, item_id: int) -> int:
    appeal_id = await session.scalar(select(AppealItem.appeal_id).where(AppealItem.id == item_id))
    if appeal_id is None:
        raise refuse("not_found")
    return appeal_id


async def appeal_review(session: AsyncSession, who: Reviewer, appeal_id: int) -> AppealReview:
    appeal, attempt, test = await _appeal_checked(session, who, appeal_id)
    discipline = await session.get(Discipline, test.discipline_id)
    assert discipline is not None
    user, group_code = (
        await session.execute(
            select(User, Group.code)
            .join(Student, Student.user_id == User.id)
            .outerjoin(Group, Group.id == Student.group_id)
            .where(Student.id == appeal.student_id)
        )
    ).one()
    every = await _question_rows(session, attempt.id, only_wrong=False)
    questions = [q for q in every if q.item is not None and q.item.appeal_id == appeal.id]
    decider_ids = {
        q.item.decided_by_user_id for q in questions if q.item and q.item.decided_by_user_id
    }
    deciders = (
        {
            u.id: _full_name(u)
            for u in await session.scalars(select(User).where(User.id.in_(decider_ids)))
        }
        if decider_ids
        else {}
    )
    return AppealReview(
        appeal=appeal,
        attempt=attempt,
        test=test,
        discipline=discipline,
        student_name=_full_name(user),
        group_code=group_code,
        questions=questions,
        deciders=deciders,
    )


# -------------------------------------------------------------------------------- decisions


@dataclass(frozen=True, slots=True)
class Decision:
    item_id: int
    appeal_id: int
    attempt_id: int
    position: int
    accepted: bool
    score_before: Decimal | None
    score_after: Decimal | None


async def decide(
    session: AsyncSession,
    who: Reviewer,
    item_id: int,
    accept: bool,
    comment: str | None,
    now: datetime,
) -> Decision:
    """Accept or reject one appealed question, once. Accepting scores the attempt again with
    every accepted question counted as correct, and the journal follows the new score."""
    item = await session.get(AppealItem, item_id)
    if item is None:
        raise refuse("not_found")
    appeal, attempt, test = await _appeal_checked(session, who, item.appeal_id)
    note = clean_comment(comment, DECISION_COMMENT_LIMIT)
    result = await session.execute(
        update(AppealItem)
        .where(AppealItem.id == item.id, AppealItem.status == AppealItemStatus.pending)
        .values(
            status=AppealItemStatus.accepted if accept else AppealItemStatus.rejected,
            decided_by_user_id=who.user_id,
            decided_at=now,
            decision_comment=note,
        )
        .execution_options(synchronize_session=False)
    )
    if not int(getattr(result, "rowcount", 0) or 0):
        await session.refresh(item)
        if item.status == AppealItemStatus.withdrawn:
            raise refuse("not_found")
        raise refuse("already_decided")
    await session.refresh(item)
    position = await session.scalar(
        select(AttemptQuestion.position).where(AttemptQuestion.id == item.attempt_question_id)
    )
    score_before = attempt.score
    if accept:
        await recalculate(session, attempt, test, now)
    appeal.updated_at = now
    await session.flush()
    decision = Decision(
        item_id=item.id,
        appeal_id=appeal.id,
        attempt_id=attempt.id,
        position=position or 0,
        accepted=accept,
        score_before=score_before,
        score_after=attempt.score,
    )
    await _notify_student(session, appeal, test, decision, note, now)
    return decision


async def accepted_overrides(session: AsyncSession, attempt_id: int) -> dict[int, bool]:
    return {
        aq_id: True
        for aq_id in await session.scalars(
            select(AppealItem.attempt_question_id)
            .join(Appeal, Appeal.id == AppealItem.appeal_id)
            .where(Appeal.attempt_id == attempt_id, AppealItem.status == AppealItemStatus.accepted)
        )
    }


async def recalculate(
    session: AsyncSession, attempt: Attempt, test: OnlineTest, now: datetime
) -> Attempt:
    """Score the attempt again with accepted appeals counted as correct, then let the journal
    follow the student's best score of the test."""
    await testing_svc.score_attempt(
        session, attempt, await accepted_overrides(session, attempt.id)
    )
    if testing_svc.results_visible(test):
        await follow_journal(session, test, attempt.student_id, now)
    return attempt


async def follow_journal(
    session: AsyncSession, test: OnlineTest, student_id: int, now: datetime
) -> None:
    """Make the journal carry the student's best score of the test after a recalculation.

    A midterm or exam is a column (the testing module's sync sets it). Current control is one
    "test" mark per test: the mark it added is replaced by one with the new value on the same
    date, so the current average counts the test once."""
    if test.period_id is None:
        return
    if test.control != ControlKind.current:
        await testing_svc.sync_journal(session, test, student_id, now)
        return
    best = await testing_svc.best_score(session, test.id, student_id)
    if best is None:
        return
    carried = await session.scalar(
        select(func.min(Attempt.journal_at)).where(
            Attempt.test_id == test.id,
            Attempt.student_id == student_id,
            Attempt.journal_at.is_not(None),
        )
    )
    if carried is None:
        await testing_svc.sync_journal(session, test, student_id, now)
        return
    old = await session.scalar(
        select(CurrentMark)
        .join(Enrolment, Enrolment.id == CurrentMark.enrolment_id)
        .where(
            Enrolment.student_id == student_id,
            Enrolment.discipline_id == test.discipline_id,
            Enrolment.period_id == test.period_id,
            CurrentMark.source == "test",
            CurrentMark.work_kind == WorkKind.test,
            CurrentMark.created_at == carried,
        )
        .limit(1)
    )
    if old is not None and old.value == best:
        return
    on_date = old.on_date if old is not None else now.date()
    if old is not None:
        await session.delete(old)
        await session.flush()
    await journal.add_current_mark(
        session,
        student_id=student_id,
        discipline_id=test.discipline_id,
        period_id=test.period_id,
        value=best,
        work_kind=WorkKind.test.value,
        on_date=on_date,
        now=now,
        author_user_id=test.created_by_user_id,
        source="test",
    )
    # The attempts' journal time names the mark that carries the test (found above next time).
    await session.execute(
        update(Attempt)
        .where(
            Attempt.test_id == test.id,
            Attempt.student_id == student_id,
            Attempt.journal_at.is_not(None),
        )
        .values(journal_at=now)
        .execution_options(synchronize_session=False)
    )


def _names(test: OnlineTest, discipline: Discipline) -> dict[str, Any]:
    return {
        "name": test.name,
        "discipline_kk": discipline.name_kk,
        "discipline_ru": discipline.name_ru,
        "discipline_en": discipline.name_en,
    }


def _score(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


async def _notify_student(
    session: AsyncSession,
    appeal: Appeal,
    test: OnlineTest,
    decision: Decision,
    comment: str | None,
    now: datetime,
) -> None:
    user_id = await testing_svc.student_user_id(session, appeal.student_id)
    discipline = await session.get(Discipline, test.discipline_id)
    if user_id is None or discipline is None:
        return
    await notify(
        session,
        user_id=user_id,
        kind=NoticeKind.appeals,
        template="appeals.decided",
        params={
            **_names(test, discipline),
            "attempt_id": decision.attempt_id,
            "position": decision.position,
            "accepted": decision.accepted,
            "comment": comment,
            "before": _score(decision.score_before),
            "after": _score(decision.score_after),
        },
        now=now,
        dedupe_key=f"appeal-decided:{decision.item_id}",
        ref_type="appeal",
        ref_id=appeal.id,
    )


# ---------------------------------------------------------------------------------- reminder


@dataclass(frozen=True, slots=True)
class ClosingWindow:
    attempt: Attempt
    test: OnlineTest
    discipline: Discipline
    user_id: int
    deadline: datetime


async def windows_closing(
    session: AsyncSession, now: datetime, before: timedelta = REMIND_BEFORE
) -> list[ClosingWindow]:
    """Attempts with a wrong answer not appealed yet whose appeal window closes within
    `before` from now (and is still open)."""
    appealed = (
        select(AppealItem.id)
        .where(
            AppealItem.attempt_question_id == AttemptQuestion.id,
            AppealItem.active_marker.is_not(None),
        )
        .exists()
    )
    unappealed = (
        select(AttemptQuestion.id)
        .where(
            AttemptQuestion.attempt_id == Attempt.id,
            AttemptQuestion.is_correct.is_not(True),
            ~appealed,
        )
        .exists()
    )
    rows: list[Any] = []
    # Per window length (a handful of values), only attempts whose window may start in the
    # slice that ends within `before` from now: no interval arithmetic in SQL, no full scan.
    for hours in await session.scalars(
        select(OnlineTest.appeal_window_hours).where(OnlineTest.appeal_window_hours > 0).distinct()
    ):
        low = now - timedelta(hours=hours)
        high = low + before
        rows += (
            await session.execute(
                select(Attempt, OnlineTest, Discipline, Student.user_id)
                .join(OnlineTest, OnlineTest.id == Attempt.test_id)
                .join(Discipline, Discipline.id == OnlineTest.discipline_id)
                .join(Student, Student.id == Attempt.student_id)
                .where(
                    Attempt.status == AttemptStatus.finished,
                    OnlineTest.appeal_window_hours == hours,
                    _visible_clause(),
                    or_(
                        and_(Attempt.finished_at > low, Attempt.finished_at <= high),
                        and_(
                            OnlineTest.results_released_at > low,
                            OnlineTest.results_released_at <= high,
                        ),
                    ),
                    unappealed,
                )
                .order_by(Attempt.id)
            )
        ).all()
    out = []
    for attempt, test, discipline, user_id in rows:
        deadline = appeal_deadline(test, attempt)
        if deadline is not None and now < deadline <= now + before:
            out.append(ClosingWindow(attempt, test, discipline, user_id, deadline))
    return out


async def remind_closing(session: AsyncSession, now: datetime, tz: tzinfo) -> int:
    """Queue one reminder per attempt whose window is about to close; returns how many were
    queued now (a re-run queues nothing twice)."""
    queued = 0
    for window in await windows_closing(session, now):
        if await notify(
            session,
            user_id=window.user_id,
            kind=NoticeKind.appeals,
            template="appeals.closing",
            params={
                **_names(window.test, window.discipline),
                "attempt_id": window.attempt.id,
                "deadline": window.deadline.isoformat(),
                "tz": str(tz),
            },
            now=now,
            dedupe_key=f"appeal-closing:{window.attempt.id}",
            ref_type="attempt",
            ref_id=window.attempt.id,
        ):
            queued += 1
    return queued


def page_of(items: Sequence[Any], page: int, size: int) -> tuple[list[Any], int, int]:
    """The items of a 0-based page (clamped), the page and the number of pages."""
    pages = max((len(items) + size - 1) // size, 1)
    page = min(max(page, 0), pages - 1)
    return list(items[page * size : (page + 1) * size]), page, pages
