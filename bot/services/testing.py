"""Online testing: banks, tests, attempts, answers, scoring, results and the journal.

The server owns the clock and the answers. An attempt's deadline is fixed when it starts
(start + time limit, never past the window's end); every answer is checked against the
attempt's owner, its state and that deadline (plus a short grace) with the time the answer
arrived, and recorded idempotently, so a repeated or simultaneous press records one answer.
Correctness stays in the database until the attempt is scored.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.config import Settings, TestingSettings
from bot.services import grading, journal
from bot.services.errors import DomainError
from bot.services.i18n import _
from bot.services.question_import import ImportProblem, ParsedQuestion, ProblemReason
from db.memo import memo_of
from db.models import Discipline, Group, Role, Student, User
from db.models.academic import CurrentMark, Enrolment, TimetableSlot
from db.models.testing import (
    Attempt,
    AttemptAnswer,
    AttemptQuestion,
    AttemptStatus,
    ControlKind,
    Difficulty,
    FinishReason,
    OnlineTest,
    OnlineTestTarget,
    Question,
    QuestionBank,
    QuestionKind,
    QuestionOption,
    TestingRulesText,
)

DEFAULT_GRACE = timedelta(seconds=TestingSettings().grace_seconds)
DIFFICULTIES = (Difficulty.easy, Difficulty.medium, Difficulty.hard)
MAX_TIME_LIMIT_MINUTES = 24 * 60
MAX_QUESTIONS = 200
MAX_ATTEMPTS = 10
# Hours after the results during which a student may appeal: the default, and at most 30 days.
DEFAULT_APPEAL_HOURS = 24
MAX_APPEAL_HOURS = 24 * 30
_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")


def grace_period(settings: Settings) -> timedelta:
    """How late an answer may arrive after the deadline (network delays): TESTING_GRACE_SECONDS
    (Settings.testing, checked at start-up), 30 s unless set."""
    return timedelta(seconds=settings.testing.grace_seconds)


_REFUSALS: dict[str, Callable[[dict[str, Any]], str]] = {
    # What the student reads.
    "not_found": lambda p: _("This button is no longer available."),
    "attempt_finished": lambda p: _("This test attempt is already finished."),
    "attempt_open": lambda p: _("This attempt is still in progress."),
    "not_open_yet": lambda p: _("This test is not open yet."),
    "window_closed": lambda p: _("The window of this test has closed."),
    "no_attempts_left": lambda p: _("You have no attempts left for this test."),
    "choose_something": lambda p: _("Tick at least one option first."),
    "bank_too_small": lambda p: _(
        "The question bank has too few questions of this level: {have} of {wanted}."
    ).format(have=p.get("have", 0), wanted=p.get("wanted", 0)),
    # What the teacher reads.
    "not_your_discipline": lambda p: _("You do not teach this discipline."),
    "bank_name_empty": lambda p: _("The bank name is empty."),
    "bad_name": lambda p: _("The name must be 1 to 200 characters."),
    "bad_time_limit": lambda p: _("The time limit is 1 to 1440 minutes."),
    "bad_counts": lambda p: _("Draw at least one question and at most 200."),
    "bad_window": lambda p: _("The window must end after it starts."),
    "bad_attempts": lambda p: _("Attempts: 1 to 10."),
    "bad_appeal_window": lambda p: _("The appeal window is 0 to {hours} hours.").format(
        hours=MAX_APPEAL_HOURS
    ),
    "no_targets": lambda p: _("Choose at least one group or student."),
}


def refusal(code: str, **params: Any) -> DomainError:
    """A refusal of the testing rules, with the text the student or teacher reads."""

    def message() -> str:
        make = _REFUSALS.get(code)
        return make(params) if make else _("This action is not available.")

    return DomainError(code, message, **params)


def too_few_text(difficulty: str, have: int, wanted: int) -> str:
    """The teacher's answer when a bank cannot fill a test of one difficulty."""
    texts = {
        Difficulty.easy: lambda: _(
            "The bank has too few easy questions: {have}, the test needs {wanted}."
        ),
        Difficulty.medium: lambda: _(
            "The bank has too few medium questions: {have}, the test needs {wanted}."
        ),
        Difficulty.hard: lambda: _(
            "The bank has too few hard questions: {have}, the test needs {wanted}."
        ),
    }
    return texts[Difficulty(difficulty)]().format(have=have, wanted=wanted)


# ---------------------------------------------------------------------------------- banks


def fingerprint(text: str, options: Iterable[str]) -> str:
    """The key under which two questions are the same (text and option set, case and spacing
    ignored), matching the importer's duplicate rule."""

    def norm(value: str) -> str:
        return " ".join(value.split()).casefold()

    key = norm(text) + "\x00" + "\x00".join(sorted(norm(o) for o in options))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(slots=True)
class ImportOutcome:
    added: int = 0
    problems: list[ImportProblem] = field(default_factory=list)


async def get_or_create_bank(
    session: AsyncSession, discipline_id: int, name: str, user_id: int | None, now: datetime
) -> QuestionBank:
    name = " ".join(name.split())[:200]
    if not name:
        raise refusal("bank_name_empty")
    bank = await session.scalar(
        select(QuestionBank).where(
            QuestionBank.discipline_id == discipline_id, QuestionBank.name == name
        )
    )
    if bank is None:
        bank = QuestionBank(
            discipline_id=discipline_id, name=name, created_by_user_id=user_id, created_at=now
        )
        session.add(bank)
        await session.flush()
    return bank


async def import_questions(
    session: AsyncSession,
    bank_id: int,
    questions: Sequence[ParsedQuestion],
    default_difficulty: Difficulty = Difficulty.medium,
    now: datetime | None = None,
) -> ImportOutcome:
    """Store parsed questions; one already in the bank is refused as a duplicate (with its
    line), never stored twice. Each question is stored whole or not at all."""
    outcome = ImportOutcome()
    existing = set(
        await session.scalars(select(Question.fingerprint).where(Question.bank_id == bank_id))
    )
    for parsed in questions:
        key = fingerprint(parsed.text, parsed.options)
        if key in existing:
            excerpt = parsed.text if len(parsed.text) <= 60 else parsed.text[:59] + "…"
            outcome.problems.append(ImportProblem(parsed.line, ProblemReason.duplicate, excerpt))
            continue
        existing.add(key)
        difficulty = (
            Difficulty(parsed.difficulty.value) if parsed.difficulty else default_difficulty
        )
        question = Question(
            bank_id=bank_id,
            difficulty=difficulty,
            kind=QuestionKind(parsed.kind.value),
            text=parsed.text,
            fingerprint=key,
            is_active=True,
        )
        if now is not None:
            question.created_at = now
        question.options = [
            QuestionOption(position=i, text=text, is_correct=i in parsed.correct)
            for i, text in enumerate(parsed.options)
        ]
        session.add(question)
        outcome.added += 1
    await session.flush()
    return outcome


async def bank_counts(session: AsyncSession, bank_id: int) -> dict[Difficulty, int]:
    rows = await session.execute(
        select(Question.difficulty, func.count())
        .where(Question.bank_id == bank_id, Question.is_active.is_(True))
        .group_by(Question.difficulty)
    )
    counts = {d: 0 for d in DIFFICULTIES}
    for difficulty, count in rows:
        counts[Difficulty(difficulty)] = count
    return counts


async def banks_of(session: AsyncSession, discipline_ids: Iterable[int]) -> list[QuestionBank]:
    ids = list(discipline_ids)
    if not ids:
        return []
    return list(
        await session.scalars(
            select(QuestionBank)
            .where(QuestionBank.discipline_id.in_(ids))
            .options(selectinload(QuestionBank.discipline))
            .order_by(QuestionBank.discipline_id, QuestionBank.name)
        )
    )


# ---------------------------------------------------------------------------------- roles


async def manageable_discipline_ids(
    session: AsyncSession, role: Role, teacher_id: int | None
) -> list[int] | None:
    """Disciplines a person may build banks and tests for; None means all of them (staff)."""
    if role in (Role.staff, Role.admin):
        return None
    if role is not Role.teacher or teacher_id is None:
        return []
    taught: set[int] = set()
    for model in (Enrolment, TimetableSlot):
        taught.update(
            await session.scalars(
                select(model.discipline_id).where(model.teacher_id == teacher_id).distinct()
            )
        )
    return sorted(taught)


async def disciplines_for(
    session: AsyncSession, role: Role, teacher_id: int | None
) -> list[Discipline]:
    ids = await manageable_discipline_ids(session, role, teacher_id)
    query = select(Discipline).order_by(Discipline.code)
    if ids is not None:
        query = query.where(Discipline.id.in_(ids))
    return list(await session.scalars(query))


async def check_discipline_rights(
    session: AsyncSession, role: Role, teacher_id: int | None, discipline_id: int
) -> Discipline:
    discipline = await session.get(Discipline, discipline_id)
    if discipline is None:
        raise refusal("not_found")
    ids = await manageable_discipline_ids(session, role, teacher_id)
    if ids is not None and discipline_id not in ids:
        raise refusal("not_your_discipline")
    return discipline


# ---------------------------------------------------------------------------------- tests


@dataclass(slots=True)
class TestSpec:
    """Everything a test is made of; validated by `create_test`."""

    __test__ = False

    name: str
    discipline_id: int
    bank_id: int
    control: ControlKind
    time_limit_minutes: int
    easy_count: int
    medium_count: int
    hard_count: int
    opens_at: datetime
    closes_at: datetime
    attempts_allowed: int = 1
    shuffle_questions: bool = True
    shuffle_options: bool = True
    results_after_close: bool = False
    appeal_window_hours: int = DEFAULT_APPEAL_HOURS
    period_id: int | None = None


async def current_period_id(session: AsyncSession, today: date) -> int | None:
    """The journal's current period, so a test's marks land where the journal shows them."""
    period = await journal.current_period(session, today)
    return period.id if period is not None else None


def validate_spec(spec: TestSpec) -> None:
    name = " ".join(spec.name.split())
    if not name or len(name) > 200:
        raise refusal("bad_name")
    if not 1 <= spec.time_limit_minutes <= MAX_TIME_LIMIT_MINUTES:
        raise refusal("bad_time_limit")
    counts = (spec.easy_count, spec.medium_count, spec.hard_count)
    if min(counts) < 0 or not 0 < sum(counts) <= MAX_QUESTIONS:
        raise refusal("bad_counts")
    if spec.opens_at.tzinfo is None or spec.closes_at.tzinfo is None:
        raise ValueError("test windows are aware datetimes")
    if spec.closes_at <= spec.opens_at:
        raise refusal("bad_window")
    if not 1 <= spec.attempts_allowed <= MAX_ATTEMPTS:
        raise refusal("bad_attempts")
    if not 0 <= spec.appeal_window_hours <= MAX_APPEAL_HOURS:
        raise refusal("bad_appeal_window")


async def create_test(
    session: AsyncSession,
    spec: TestSpec,
    *,
    group_ids: Iterable[int] = (),
    student_ids: Iterable[int] = (),
    created_by_user_id: int | None,
    now: datetime,
    tz: Any = None,
) -> OnlineTest:
    """Create and assign a test after checking the bank holds enough questions per level."""
    validate_spec(spec)
    bank = await session.get(QuestionBank, spec.bank_id)
    if bank is None or bank.discipline_id != spec.discipline_id:
        raise refusal("not_found")
    counts = await bank_counts(session, bank.id)
    wanted = dict(
        zip(DIFFICULTIES, (spec.easy_count, spec.medium_count, spec.hard_count), strict=True)
    )
    short = {d: (n, counts[d]) for d, n in wanted.items() if n > counts[d]}
    if short:
        d, (n, have) = next(iter(short.items()))
        raise DomainError(
            "bank_too_small",
            lambda: too_few_text(d.value, have, n),
            difficulty=d.value,
            wanted=n,
            have=have,
        )
    groups = sorted(set(group_ids))
    students = sorted(set(student_ids))
    if not groups and not students:
        raise refusal("no_targets")
    if groups and len(groups) != await session.scalar(
        select(func.count()).select_from(Group).where(Group.id.in_(groups))
    ):
        raise refusal("not_found")
    if students and len(students) != await session.scalar(
        select(func.count()).select_from(Student).where(Student.id.in_(students))
    ):
        raise refusal("not_found")
    period_id = spec.period_id
    if period_id is None:
        local = spec.opens_at.astimezone(tz) if tz is not None else spec.opens_at
        period_id = await current_period_id(session, local.date())
    test = OnlineTest(
        name=" ".join(spec.name.split()),
        discipline_id=spec.discipline_id,
        bank_id=spec.bank_id,
        period_id=period_id,
        control=spec.control,
        time_limit_minutes=spec.time_limit_minutes,
        easy_count=spec.easy_count,
        medium_count=spec.medium_count,
        hard_count=spec.hard_count,
        opens_at=spec.opens_at,
        closes_at=spec.closes_at,
        attempts_allowed=spec.attempts_allowed,
        shuffle_questions=spec.shuffle_questions,
        shuffle_options=spec.shuffle_options,
        results_after_close=spec.results_after_close,
        appeal_window_hours=spec.appeal_window_hours,
        created_by_user_id=created_by_user_id,
        created_at=now,
    )
    test.targets = [OnlineTestTarget(group_id=g) for g in groups] + [
        OnlineTestTarget(student_id=s) for s in students
    ]
    session.add(test)
    await session.flush()
    return test


async def assigned_user_ids(session: AsyncSession, test_id: int) -> list[int]:
    """Accounts of everyone a test is assigned to (for notices)."""
    group_ids = select(OnlineTestTarget.group_id).where(
        OnlineTestTarget.test_id == test_id, OnlineTestTarget.group_id.is_not(None)
    )
    student_ids = select(OnlineTestTarget.student_id).where(
        OnlineTestTarget.test_id == test_id, OnlineTestTarget.student_id.is_not(None)
    )
    return list(
        await session.scalars(
            select(Student.user_id)
            .where(or_(Student.group_id.in_(group_ids), Student.id.in_(student_ids)))
            .distinct()
        )
    )


# --------------------------------------------------------------------------------- student


def _assigned_clause(student_id: int, group_id: int) -> Any:
    return OnlineTest.id.in_(
        select(OnlineTestTarget.test_id).where(
            or_(OnlineTestTarget.student_id == student_id, OnlineTestTarget.group_id == group_id)
        )
    )


@dataclass(frozen=True, slots=True)
class AssignedTest:
    test: OnlineTest
    attempts_used: int
    open_attempt_id: int | None
    open_deadline: datetime | None

    @property
    def attempts_left(self) -> int:
        return max(self.test.attempts_allowed - self.attempts_used, 0)

    def state(self, now: datetime) -> str:
        if self.open_attempt_id is not None:
            return "in_progress"
        if now < self.test.opens_at:
            return "upcoming"
        if now >= self.test.closes_at:
            return "closed"
        return "open" if self.attempts_left > 0 else "used_up"


async def _group_of(session: AsyncSession, student_id: int) -> int:
    group_id = await session.scalar(select(Student.group_id).where(Student.id == student_id))
    if group_id is None:
        raise refusal("not_found")
    return group_id


async def assigned_tests(
    session: AsyncSession, student_id: int, now: datetime, *, include_closed: bool = False
) -> list[AssignedTest]:
    """Tests assigned to the student (directly or through the group) that are not over yet,
    or that still hold an open attempt."""
    group_id = await _group_of(session, student_id)
    query = (
        select(OnlineTest)
        .where(_assigned_clause(student_id, group_id))
        .options(selectinload(OnlineTest.discipline))
        .order_by(OnlineTest.closes_at, OnlineTest.id)
    )
    if not include_closed:
        open_tests = select(Attempt.test_id).where(
            Attempt.student_id == student_id, Attempt.status == AttemptStatus.open
        )
        query = query.where(or_(OnlineTest.closes_at > now, OnlineTest.id.in_(open_tests)))
    tests = list(await session.scalars(query))
    if not tests:
        return []
    rows = await session.execute(
        select(Attempt.test_id, Attempt.id, Attempt.status, Attempt.deadline).where(
            Attempt.student_id == student_id, Attempt.test_id.in_([t.id for t in tests])
        )
    )
    used: dict[int, int] = {}
    open_: dict[int, tuple[int, datetime]] = {}
    for test_id, attempt_id, status, deadline in rows:
        used[test_id] = used.get(test_id, 0) + 1
        if status == AttemptStatus.open:
            open_[test_id] = (attempt_id, deadline)
    return [
        AssignedTest(
            test=t,
            attempts_used=used.get(t.id, 0),
            open_attempt_id=open_.get(t.id, (None, None))[0],
            open_deadline=open_.get(t.id, (None, None))[1],
        )
        for t in tests
    ]


async def assigned_test(
    session: AsyncSession, student_id: int, test_id: int, now: datetime
) -> AssignedTest:
    """One test, only if it is assigned to this student (a forged id gets `not_found`)."""
    for item in await assigned_tests(session, student_id, now, include_closed=True):
        if item.test.id == test_id:
            return item
    raise refusal("not_found")


async def open_tests_for_home(
    session: AsyncSession, student_id: int, now: datetime
) -> list[OnlineTest]:
    """Tests the student can start or continue right now."""
    items = await assigned_tests(session, student_id, now)
    return [i.test for i in items if i.state(now) in ("open", "in_progress")]


def _draw(
    rng: random.Random, pools: Mapping[Difficulty, list[int]], test: OnlineTest
) -> list[tuple[int, Difficulty]]:
    drawn: list[tuple[int, Difficulty]] = []
    wanted = {
        Difficulty.easy: test.easy_count,
        Difficulty.medium: test.medium_count,
        Difficulty.hard: test.hard_count,
    }
    for difficulty in DIFFICULTIES:
        pool = sorted(pools.get(difficulty, []))
        n = wanted[difficulty]
        if n > len(pool):
            raise refusal("bank_too_small", difficulty=difficulty.value, wanted=n, have=len(pool))
        drawn.extend((qid, difficulty) for qid in rng.sample(pool, n))
    if test.shuffle_questions:
        rng.shuffle(drawn)
    return drawn


async def start_attempt(
    session: AsyncSession, student_id: int, test_id: int, now: datetime
) -> tuple[Attempt, bool]:
    """Start an attempt (or return the open one). Returns (attempt, created)."""
    item = await assigned_test(session, student_id, test_id, now)
    test = item.test
    if item.open_attempt_id is not None:
        attempt = await session.get(Attempt, item.open_attempt_id)
        assert attempt is not None
        return attempt, False
    if now < test.opens_at:
        raise refusal("not_open_yet")
    if now >= test.closes_at:
        raise refusal("window_closed")
    if item.attempts_left <= 0:
        raise refusal("no_attempts_left")

    seed = secrets.randbits(62)
    rng = random.Random(seed)
    pools: dict[Difficulty, list[int]] = {d: [] for d in DIFFICULTIES}
    for qid, difficulty in await session.execute(
        select(Question.id, Question.difficulty).where(
            Question.bank_id == test.bank_id, Question.is_active.is_(True)
        )
    ):
        pools[Difficulty(difficulty)].append(qid)
    drawn = _draw(rng, pools, test)
    ids = [qid for qid, _ in drawn]
    options: dict[int, list[int]] = {qid: [] for qid in ids}
    kinds: dict[int, QuestionKind] = {}
    for qid, oid in await session.execute(
        select(QuestionOption.question_id, QuestionOption.id)
        .where(QuestionOption.question_id.in_(ids))
        .order_by(QuestionOption.question_id, QuestionOption.position)
    ):
        options[qid].append(oid)
    for qid, kind in await session.execute(
        select(Question.id, Question.kind).where(Question.id.in_(ids))
    ):
        kinds[qid] = QuestionKind(kind)

    deadline = min(now + timedelta(minutes=test.time_limit_minutes), test.closes_at)
    totals = {d: sum(1 for _, dd in drawn if dd is d) for d in DIFFICULTIES}
    attempt = Attempt(
        test_id=test.id,
        student_id=student_id,
        number=item.attempts_used + 1,
        open_marker=1,
        status=AttemptStatus.open,
        seed=seed,
        started_at=now,
        deadline=deadline,
        total=len(drawn),
        easy_total=totals[Difficulty.easy],
        medium_total=totals[Difficulty.medium],
        hard_total=totals[Difficulty.hard],
    )
    questions = []
    for position, (qid, difficulty) in enumerate(drawn, start=1):
        order = list(options[qid])
        if test.shuffle_options:
            rng.shuffle(order)
        questions.append(
            AttemptQuestion(
                position=position,
                question_id=qid,
                difficulty=difficulty,
                kind=kinds[qid],
                option_ids=order,
            )
        )
    attempt.questions = questions
    try:
        async with session.begin_nested():
            session.add(attempt)
    except IntegrityError:
        # Another start won the race (PostgreSQL; SQLite serialises writers): use that one.
        existing = await session.scalar(
            select(Attempt).where(
                Attempt.test_id == test.id,
                Attempt.student_id == student_id,
                Attempt.status == AttemptStatus.open,
            )
        )
        if existing is None:
            raise refusal("no_attempts_left") from None
        return existing, False
    return attempt, True


# How long a test's name, kind, time limit and its discipline's names are kept in memory for
# the question screen: they change seldom, and an edit made by another process shows after this.
HEADER_TTL_S = 300.0


@dataclass(frozen=True, slots=True)
class DisciplineName:
    """A discipline's names, detached from any session (kept in the memo)."""

    name_kk: str
    name_ru: str
    name_en: str

    def name(self, locale: str) -> str:
        value = getattr(self, f"name_{locale}", None)
        return value or self.name_ru or self.name_en or self.name_kk


@dataclass(frozen=True, slots=True)
class _TestHeader:
    name: str
    control: ControlKind
    time_limit_minutes: int
    discipline: DisciplineName


@dataclass(frozen=True, slots=True)
class _QuestionTexts:
    text: str
    options: dict[int, str]


@dataclass(frozen=True, slots=True)
class QuestionScreen:
    """What a question screen shows; never the correct options."""

    attempt_id: int
    test_name: str
    discipline: DisciplineName
    control: ControlKind
    time_limit_minutes: int
    deadline: datetime
    position: int
    total: int
    answered: int
    attempt_question_id: int
    kind: QuestionKind
    text: str
    options: list[tuple[int, str]]
    chosen: frozenset[int]
    draft: frozenset[int] | None
    answered_positions: frozenset[int]


async def _owned_open_attempt(session: AsyncSession, student_id: int, attempt_id: int) -> Attempt:
    attempt = await session.get(Attempt, attempt_id)
    if attempt is None or attempt.student_id != student_id:
        raise refusal("not_found")
    if attempt.status != AttemptStatus.open:
        raise refusal("attempt_finished", attempt_id=attempt.id)
    return attempt


async def question_screen(
    session: AsyncSession,
    student_id: int,
    attempt_id: int,
    position: int,
    after: AnswerResult | None = None,
) -> QuestionScreen:
    """`after`: the press recorded in this same unit, whose attempt (checked then) and
    questions are reused instead of read again."""
    if after is not None and after.attempt is not None and after.attempt.id == attempt_id:
        return await _screen(session, after.attempt, position, after.aqs)
    attempt = await _owned_open_attempt(session, student_id, attempt_id)
    return await _screen(session, attempt, position)


async def _test_header(session: AsyncSession, test_id: int) -> _TestHeader:
    memo = memo_of(session)
    key = ("test_header", test_id)
    header = memo.get(key) if memo is not None else None
    if header is None:
        name, control, minutes, discipline = (
            await session.execute(
                select(
                    OnlineTest.name, OnlineTest.control, OnlineTest.time_limit_minutes, Discipline
                )
                .join(Discipline, Discipline.id == OnlineTest.discipline_id)
                .where(OnlineTest.id == test_id)
            )
        ).one()
        header = _TestHeader(
            name,
            ControlKind(control),
            minutes,
            DisciplineName(discipline.name_kk, discipline.name_ru, discipline.name_en),
        )
        if memo is not None:
            memo.put(key, header, HEADER_TTL_S)
    return header


async def _question_texts(session: AsyncSession, question_id: int) -> _QuestionTexts:
    """A question's text and its options' texts: immutable once imported, so kept for good."""
    memo = memo_of(session)
    key = ("question", question_id)
    texts = memo.get(key) if memo is not None else None
    if texts is None:
        question_text = ""
        options: dict[int, str] = {}
        for option_id, option_text, text in await session.execute(
            select(QuestionOption.id, QuestionOption.text, Question.text)
            .join(Question, Question.id == QuestionOption.question_id)
            .where(QuestionOption.question_id == question_id)
        ):
            options[option_id] = option_text
            question_text = text
        texts = _QuestionTexts(question_text, options)
        if memo is not None:
            memo.put(key, texts)
    return texts


async def _screen(
    session: AsyncSession,
    attempt: Attempt,
    position: int,
    aqs: Sequence[AttemptQuestion] | None = None,
) -> QuestionScreen:
    """The screen of `position`; `aqs` are the attempt's questions when already loaded in this
    unit. One query for the attempt's questions at most: the texts come from the memo."""
    position = min(max(position, 1), attempt.total)
    if aqs is None:
        aqs = list(
            await session.scalars(
                select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt.id)
            )
        )
    answered_positions = frozenset(a.position for a in aqs if a.chosen)
    aq = next((a for a in aqs if a.position == position), None)
    if aq is None:
        raise refusal("not_found")
    header = await _test_header(session, attempt.test_id)
    texts = await _question_texts(session, aq.question_id)
    return QuestionScreen(
        attempt_id=attempt.id,
        test_name=header.name,
        discipline=header.discipline,
        control=header.control,
        time_limit_minutes=header.time_limit_minutes,
        deadline=attempt.deadline,
        position=position,
        total=attempt.total,
        answered=len(answered_positions),
        attempt_question_id=aq.id,
        kind=aq.kind,
        text=texts.text,
        options=[(oid, texts.options.get(oid, "")) for oid in aq.option_ids],
        chosen=frozenset(aq.chosen or ()),
        draft=frozenset(aq.draft) if aq.draft is not None else None,
        answered_positions=answered_positions,
    )


@dataclass(frozen=True, slots=True)
class AnswerResult:
    """What a press did: `recorded` (or ticked), `unchanged` (a repeated press) or `late` (it
    arrived after the deadline plus grace: refused, and the attempt is now closed)."""

    attempt_id: int
    position: int
    status: str
    # The attempt and its questions as this unit loaded (and changed) them, for the screen
    # shown next; kept referenced here, or the session's weak identity map lets them go and
    # the screen would read them again.
    attempt: Attempt | None = field(default=None, compare=False, repr=False)
    aqs: tuple[AttemptQuestion, ...] = field(default=(), compare=False, repr=False)

    @property
    def late(self) -> bool:
        return self.status == "late"


async def _aq_for_press(
    session: AsyncSession, student_id: int, aq_id: int
) -> tuple[AttemptQuestion, Attempt, tuple[AttemptQuestion, ...]]:
    """The pressed question, its attempt and all the attempt's questions, in one query: the
    screen shown after the press needs the others' answered state."""
    attempt_of = (
        select(AttemptQuestion.attempt_id).where(AttemptQuestion.id == aq_id).scalar_subquery()
    )
    rows = (
        await session.execute(
            select(AttemptQuestion, Attempt)
            .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
            .where(AttemptQuestion.attempt_id == attempt_of)
        )
    ).all()
    aqs = tuple(row[0] for row in rows)
    aq = next((a for a in aqs if a.id == aq_id), None)
    if aq is None or rows[0][1].student_id != student_id:
        raise refusal("not_found")
    attempt = rows[0][1]
    if attempt.status != AttemptStatus.open:
        raise refusal("attempt_finished", attempt_id=attempt.id)
    return aq, attempt, aqs


def is_late(attempt: Attempt, now: datetime, grace: timedelta = DEFAULT_GRACE) -> bool:
    return now > attempt.deadline + grace


async def _refuse_late(
    session: AsyncSession, attempt: Attempt, aq: AttemptQuestion, now: datetime
) -> AnswerResult:
    await finish_attempt(session, attempt, now, FinishReason.late)
    return AnswerResult(attempt.id, aq.position, "late")


def _record(session: AsyncSession, aq: AttemptQuestion, chosen: list[int], now: datetime) -> None:
    aq.chosen = chosen
    aq.draft = None
    aq.answered_at = now
    session.add(AttemptAnswer(attempt_question_id=aq.id, chosen=chosen, received_at=now))


async def choose_option(
    session: AsyncSession,
    student_id: int,
    aq_id: int,
    option_id: int,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
    *,
    selected: bool = True,
) -> AnswerResult:
    """A single-answer choice, or ticking (`selected`) / unticking an option of a
    multiple-answer question. Idempotent: the same press twice changes nothing."""
    aq, attempt, aqs = await _aq_for_press(session, student_id, aq_id)
    if option_id not in aq.option_ids:
        raise refusal("not_found")
    if aq.kind == QuestionKind.single and not selected:
        raise refusal("not_found")
    if is_late(attempt, now, grace):
        return await _refuse_late(session, attempt, aq, now)
    if aq.kind == QuestionKind.single:
        if aq.chosen == [option_id]:
            return AnswerResult(attempt.id, aq.position, "unchanged")
        _record(session, aq, [option_id], now)
        await session.flush()
        return AnswerResult(attempt.id, aq.position, "recorded", attempt, aqs)
    current = set(aq.draft if aq.draft is not None else (aq.chosen or []))
    wanted = current | {option_id} if selected else current - {option_id}
    if aq.draft is not None and wanted == current:
        return AnswerResult(attempt.id, aq.position, "unchanged")
    aq.draft = sorted(wanted)
    await session.flush()
    return AnswerResult(attempt.id, aq.position, "recorded", attempt, aqs)


async def confirm_multiple(
    session: AsyncSession,
    student_id: int,
    aq_id: int,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
) -> AnswerResult:
    """Record the ticked options of a multiple-answer question as its answer."""
    aq, attempt, aqs = await _aq_for_press(session, student_id, aq_id)
    if aq.kind != QuestionKind.multiple:
        raise refusal("not_found")
    if is_late(attempt, now, grace):
        return await _refuse_late(session, attempt, aq, now)
    draft = sorted(aq.draft if aq.draft is not None else (aq.chosen or []))
    if not draft:
        raise refusal("choose_something")
    if aq.chosen == draft:
        if aq.draft is not None:
            aq.draft = None
            await session.flush()
        return AnswerResult(attempt.id, aq.position, "unchanged")
    _record(session, aq, draft, now)
    await session.flush()
    return AnswerResult(attempt.id, aq.position, "recorded", attempt, aqs)


async def unanswered_positions(
    session: AsyncSession, student_id: int, attempt_id: int
) -> list[int]:
    attempt = await _owned_open_attempt(session, student_id, attempt_id)
    return list(
        await session.scalars(
            select(AttemptQuestion.position)
            .where(AttemptQuestion.attempt_id == attempt.id, AttemptQuestion.chosen.is_(None))
            .order_by(AttemptQuestion.position)
        )
    )


async def first_unanswered(session: AsyncSession, attempt_id: int) -> int:
    position = await session.scalar(
        select(AttemptQuestion.position)
        .where(AttemptQuestion.attempt_id == attempt_id, AttemptQuestion.chosen.is_(None))
        .order_by(AttemptQuestion.position)
        .limit(1)
    )
    return position or 1


# -------------------------------------------------------------------------------- scoring


def score_of(correct: int, total: int) -> Decimal:
    """Test score = 100 × correct / total, two decimals half up."""
    if total <= 0:
        return Decimal(0)
    return (_HUNDRED * correct / total).quantize(_CENT, rounding=ROUND_HALF_UP)


async def score_attempt(
    session: AsyncSession, attempt: Attempt, overrides: Mapping[int, bool] | None = None
) -> Attempt:
    """(Re)compute each question's correctness from the bank's current correct options, the
    counts per difficulty and the score. `overrides` maps attempt-question ids to a decided
    correctness (an accepted appeal), which wins over the comparison."""
    overrides = overrides or {}
    aqs = list(
        await session.scalars(
            select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt.id)
        )
    )
    correct_sets: dict[int, set[int]] = {aq.question_id: set() for aq in aqs}
    for qid, oid in await session.execute(
        select(QuestionOption.question_id, QuestionOption.id).where(
            QuestionOption.question_id.in_(list(correct_sets)),
            QuestionOption.is_correct.is_(True),
        )
    ):
        correct_sets[qid].add(oid)
    per = {d: 0 for d in DIFFICULTIES}
    tot = {d: 0 for d in DIFFICULTIES}
    for aq in aqs:
        if aq.id in overrides:
            ok = overrides[aq.id]
        else:
            # A multiple-answer question counts only when the chosen set is the correct set.
            ok = bool(aq.chosen) and set(aq.chosen or ()) == correct_sets[aq.question_id]
        aq.is_correct = ok
        difficulty = Difficulty(aq.difficulty)
        tot[difficulty] += 1
        per[difficulty] += int(ok)
    attempt.total = len(aqs)
    attempt.easy_total, attempt.medium_total, attempt.hard_total = (tot[d] for d in DIFFICULTIES)
    attempt.easy_correct, attempt.medium_correct, attempt.hard_correct = (
        per[d] for d in DIFFICULTIES
    )
    attempt.score = score_of(sum(per.values()), len(aqs))
    await session.flush()
    return attempt


async def finish_attempt(
    session: AsyncSession, attempt: Attempt, now: datetime, reason: FinishReason
) -> Attempt:
    """Close and score an open attempt; the score goes to the journal unless the test holds
    results until its window closes. Finishing a finished attempt changes nothing."""
    if attempt.status != AttemptStatus.open:
        return attempt
    # Drafts of a multiple-answer question were never confirmed: they are not answers.
    await session.execute(
        update(AttemptQuestion)
        .where(AttemptQuestion.attempt_id == attempt.id, AttemptQuestion.draft.is_not(None))
        .values(draft=None)
    )
    attempt.status = AttemptStatus.finished
    attempt.open_marker = None
    attempt.finish_reason = reason
    attempt.finished_at = min(now, attempt.deadline)
    await score_attempt(session, attempt)
    test = await session.get(OnlineTest, attempt.test_id)
    assert test is not None
    if not test.results_after_close or test.results_released_at is not None:
        await sync_journal(session, test, attempt.student_id, now)
    return attempt


async def finish_by_student(
    session: AsyncSession,
    student_id: int,
    attempt_id: int,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
) -> tuple[Attempt, bool]:
    """The student's "Finish". Returns (attempt, finished_now); a repeated press returns the
    already finished attempt with False."""
    attempt = await session.get(Attempt, attempt_id)
    if attempt is None or attempt.student_id != student_id:
        raise refusal("not_found")
    if attempt.status != AttemptStatus.open:
        return attempt, False
    reason = FinishReason.submitted if now <= attempt.deadline + grace else FinishReason.late
    await finish_attempt(session, attempt, now, reason)
    return attempt, True


def results_visible(test: OnlineTest) -> bool:
    return not test.results_after_close or test.results_released_at is not None


# ------------------------------------------------------------------------------- journal


JOURNAL_CONTROLS = {
    ControlKind.midterm1: "midterm1",
    ControlKind.midterm2: "midterm2",
    ControlKind.exam: "exam",
}


async def best_score(session: AsyncSession, test_id: int, student_id: int) -> Decimal | None:
    return await session.scalar(
        select(func.max(Attempt.score)).where(
            Attempt.test_id == test_id,
            Attempt.student_id == student_id,
            Attempt.status == AttemptStatus.finished,
        )
    )


async def sync_journal(
    session: AsyncSession, test: OnlineTest, student_id: int, now: datetime
) -> Decimal | None:
    """Put the student's best score of the test into the journal column of its kind of
    control (a "test" current mark for current control). Safe to call again: it writes the
    same value, and marks the attempts as carried to the journal."""
    score = await best_score(session, test.id, student_id)
    if score is None or test.period_id is None:
        return score
    if test.control in JOURNAL_CONTROLS:
        await journal.set_control_mark(
            session,
            student_id=student_id,
            discipline_id=test.discipline_id,
            period_id=test.period_id,
            control=JOURNAL_CONTROLS[test.control],
            value=score,
            now=now,
            author_user_id=test.created_by_user_id,
            source="test",
        )
    else:
        already = await session.scalar(
            select(func.count())
            .select_from(Attempt)
            .where(
                Attempt.test_id == test.id,
                Attempt.student_id == student_id,
                Attempt.journal_at.is_not(None),
            )
        )
        # A current mark is a new row per test, not a column: add it once per test.
        if not already:
            await journal.add_current_mark(
                session,
                student_id=student_id,
                discipline_id=test.discipline_id,
                period_id=test.period_id,
                value=score,
                work_kind="test",
                on_date=now.date(),
                now=now,
                author_user_id=test.created_by_user_id,
                source="test",
            )
    await session.execute(
        update(Attempt)
        .where(
            Attempt.test_id == test.id,
            Attempt.student_id == student_id,
            Attempt.status == AttemptStatus.finished,
            Attempt.journal_at.is_(None),
        )
        .values(journal_at=now)
    )
    return score


@dataclass(frozen=True, slots=True)
class FinalRow:
    """The student's final-grades row of a discipline (§6, Figure 17)."""

    current: Decimal | None
    midterm1: Decimal | None
    midterm2: Decimal | None
    admission: Decimal | None
    exam: Decimal | None
    final: Decimal | None
    letter: str | None


async def final_row(
    session: AsyncSession, student_id: int, discipline_id: int, period_id: int | None
) -> FinalRow | None:
    enrolment_model = Enrolment
    query = select(enrolment_model).where(
        enrolment_model.student_id == student_id,
        enrolment_model.discipline_id == discipline_id,
    )
    if period_id is not None:
        query = query.where(enrolment_model.period_id == period_id)
    enrolment = await session.scalar(query.limit(1))
    if enrolment is None:
        return None
    marks = list(
        await session.scalars(
            select(CurrentMark.value).where(CurrentMark.enrolment_id == enrolment.id)
        )
    )
    current = grading.current_average(marks)
    result = grading.outcome(enrolment.midterm1, enrolment.midterm2, enrolment.exam)
    letter = result.letter_grade.letter if result.letter_grade is not None else None
    return FinalRow(
        current=current,
        midterm1=enrolment.midterm1,
        midterm2=enrolment.midterm2,
        admission=result.admission,
        exam=enrolment.exam,
        final=result.final,
        letter=letter,
    )


# ------------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class ResultView:
    attempt: Attempt
    test: OnlineTest
    discipline: Discipline
    visible: bool
    final: FinalRow | None


async def result_view(session: AsyncSession, student_id: int, attempt_id: int) -> ResultView:
    attempt = await session.get(Attempt, attempt_id)
    if attempt is None or attempt.student_id != student_id:
        raise refusal("not_found")
    if attempt.status != AttemptStatus.finished:
        raise refusal("attempt_open")
    test = await session.get(OnlineTest, attempt.test_id)
    assert test is not None
    discipline = await session.get(Discipline, test.discipline_id)
    assert discipline is not None
    visible = results_visible(test)
    final = await final_row(session, student_id, test.discipline_id, test.period_id)
    return ResultView(attempt, test, discipline, visible, final if visible else None)


async def latest_finished_attempt(
    session: AsyncSession, student_id: int, test_id: int
) -> Attempt | None:
    return await session.scalar(
        select(Attempt)
        .where(
            Attempt.student_id == student_id,
            Attempt.test_id == test_id,
            Attempt.status == AttemptStatus.finished,
        )
        .order_by(Attempt.number.desc())
        .limit(1)
    )


# ---------------------------------------------------------------------------------- jobs


async def close_overdue(
    session: AsyncSession, now: datetime, grace: timedelta = DEFAULT_GRACE, limit: int = 500
) -> list[Attempt]:
    """Finish and score attempts whose deadline (plus grace) has passed."""
    attempts = list(
        await session.scalars(
            select(Attempt)
            .where(Attempt.status == AttemptStatus.open, Attempt.deadline < now - grace)
            .order_by(Attempt.deadline)
            .limit(limit)
        )
    )
    for attempt in attempts:
        await finish_attempt(session, attempt, now, FinishReason.timeout)
    return attempts


async def tests_to_release(
    session: AsyncSession, now: datetime, grace: timedelta = DEFAULT_GRACE
) -> list[OnlineTest]:
    """Tests with held results whose window (plus grace) has closed and not released yet."""
    return list(
        await session.scalars(
            select(OnlineTest)
            .where(
                OnlineTest.results_after_close.is_(True),
                OnlineTest.results_released_at.is_(None),
                OnlineTest.closes_at < now - grace,
            )
            .options(selectinload(OnlineTest.discipline))
            .order_by(OnlineTest.closes_at)
        )
    )


async def release_results(
    session: AsyncSession, test: OnlineTest, now: datetime
) -> list[tuple[int, Attempt]]:
    """Release a test's held results: write every student's best score to the journal and
    return (user id, latest finished attempt) for each student to notify."""
    for attempt in await session.scalars(
        select(Attempt).where(Attempt.test_id == test.id, Attempt.status == AttemptStatus.open)
    ):
        await finish_attempt(session, attempt, now, FinishReason.timeout)
    test.results_released_at = now
    latest = (
        select(Attempt.student_id, func.max(Attempt.number).label("n"))
        .where(Attempt.test_id == test.id, Attempt.status == AttemptStatus.finished)
        .group_by(Attempt.student_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(Student.user_id, Attempt)
            .join(
                latest,
                and_(Attempt.student_id == latest.c.student_id, Attempt.number == latest.c.n),
            )
            .join(Student, Student.id == Attempt.student_id)
            .where(Attempt.test_id == test.id)
        )
    ).all()
    out = []
    for user_id, attempt in rows:
        await sync_journal(session, test, attempt.student_id, now)
        out.append((user_id, attempt))
    await session.flush()
    return out


async def student_user_id(session: AsyncSession, student_id: int) -> int | None:
    return await session.scalar(select(Student.user_id).where(Student.id == student_id))


# ------------------------------------------------------------------------------ overview


async def tests_overview(
    session: AsyncSession, discipline_ids: list[int] | None, limit: int = 50
) -> list[OnlineTest]:
    query = (
        select(OnlineTest)
        .options(selectinload(OnlineTest.discipline))
        .order_by(OnlineTest.closes_at.desc(), OnlineTest.id.desc())
        .limit(limit)
    )
    if discipline_ids is not None:
        query = query.where(OnlineTest.discipline_id.in_(discipline_ids))
    return list(await session.scalars(query))


async def results_of_test(
    session: AsyncSession, test_id: int
) -> list[tuple[Student, User, Attempt | None]]:
    """Every assigned student with their latest attempt (None if not started)."""
    group_ids = select(OnlineTestTarget.group_id).where(
        OnlineTestTarget.test_id == test_id, OnlineTestTarget.group_id.is_not(None)
    )
    student_ids = select(OnlineTestTarget.student_id).where(
        OnlineTestTarget.test_id == test_id, OnlineTestTarget.student_id.is_not(None)
    )
    students = (
        await session.execute(
            select(Student, User)
            .join(User, User.id == Student.user_id)
            .where(or_(Student.group_id.in_(group_ids), Student.id.in_(student_ids)))
            .order_by(User.last_name, User.first_name, Student.id)
        )
    ).all()
    latest: dict[int, Attempt] = {}
    for attempt in await session.scalars(
        select(Attempt).where(Attempt.test_id == test_id).order_by(Attempt.number)
    ):
        latest[attempt.student_id] = attempt
    return [(s, u, latest.get(s.id)) for s, u in students]


# --------------------------------------------------------------------------------- rules


async def rules_text(session: AsyncSession, locale: str) -> str | None:
    """The rules in `locale` as configured by staff; None means "use the built-in text"."""
    row = await session.get(TestingRulesText, locale)
    return row.text if row is not None else None


async def set_rules_text(
    session: AsyncSession, locale: str, text: str, user_id: int | None, now: datetime
) -> None:
    row = await session.get(TestingRulesText, locale)
    if row is None:
        session.add(
            TestingRulesText(locale=locale, text=text, updated_by_user_id=user_id, updated_at=now)
        )
    else:
        row.text = text
        row.updated_by_user_id = user_id
        row.updated_at = now
    await session.flush()


async def clear_rules_text(session: AsyncSession, locale: str) -> None:
    row = await session.get(TestingRulesText, locale)
    if row is not None:
        await session.delete(row)
        await session.flush()
