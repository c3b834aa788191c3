"""Online testing (§4.6-6): question banks, tests, their assignment, attempts and answers.

The server owns the clock and the answers: an attempt keeps the questions drawn for it (with the
options in the order shown), every answer with the time it arrived, and the counts per difficulty
that make the score, so a result can be recalculated later (appeals) without the chat.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, UTCDateTime, utcnow
from db.models.core import AcademicPeriod, Discipline


class Difficulty(enum.StrEnum):
    easy = "easy"
    medium = "medium"
    hard = "hard"


class QuestionKind(enum.StrEnum):
    single = "single"
    multiple = "multiple"


class ControlKind(enum.StrEnum):
    """The journal column a test's score goes to."""

    current = "current"
    midterm1 = "midterm1"
    midterm2 = "midterm2"
    exam = "exam"


class AttemptStatus(enum.StrEnum):
    open = "open"
    finished = "finished"


class FinishReason(enum.StrEnum):
    submitted = "submitted"  # the student pressed "Finish"
    timeout = "timeout"  # closed by the scheduler after the deadline
    late = "late"  # an answer arrived after deadline + grace


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=16, validate_strings=True)


class QuestionBank(Base):
    """A discipline's pool of questions; a test draws from one bank."""

    __tablename__ = "question_banks"

    id: Mapped[int] = mapped_column(primary_key=True)
    discipline_id: Mapped[int] = mapped_column(
        ForeignKey("disciplines.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    discipline: Mapped[Discipline] = relationship()

    __table_args__ = (
        UniqueConstraint("discipline_id", "name"),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
    )


class Question(Base):
    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_banks.id", ondelete="CASCADE"))
    difficulty: Mapped[Difficulty] = mapped_column(_enum(Difficulty, "question_difficulty"))
    kind: Mapped[QuestionKind] = mapped_column(_enum(QuestionKind, "question_kind"))
    text: Mapped[str] = mapped_column(Text)
    # Normalised text and options, hashed: the same question is not stored twice in a bank.
    fingerprint: Mapped[str] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    options: Mapped[list[QuestionOption]] = relationship(
        back_populates="question", order_by="QuestionOption.position"
    )

    __table_args__ = (
        UniqueConstraint("bank_id", "fingerprint"),
        Index("ix_questions_bank_difficulty", "bank_id", "difficulty"),
    )


class QuestionOption(Base):
    __tablename__ = "question_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    is_correct: Mapped[bool] = mapped_column(Boolean, default=False)

    question: Mapped[Question] = relationship(back_populates="options")

    __table_args__ = (UniqueConstraint("question_id", "position"),)


class OnlineTest(Base):
    """A test: what is drawn, when it may be started, and how it is scored and shown."""

    __tablename__ = "online_tests"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    discipline_id: Mapped[int] = mapped_column(
        ForeignKey("disciplines.id", ondelete="RESTRICT"), index=True
    )
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_banks.id", ondelete="RESTRICT"))
    period_id: Mapped[int | None] = mapped_column(
        ForeignKey("academic_periods.id", ondelete="SET NULL")
    )
    control: Mapped[ControlKind] = mapped_column(_enum(ControlKind, "control_kind"))
    time_limit_minutes: Mapped[int] = mapped_column(Integer)
    easy_count: Mapped[int] = mapped_column(Integer, default=0)
    medium_count: Mapped[int] = mapped_column(Integer, default=0)
    hard_count: Mapped[int] = mapped_column(Integer, default=0)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    attempts_allowed: Mapped[int] = mapped_column(Integer, default=1)
    shuffle_questions: Mapped[bool] = mapped_column(Boolean, default=True)
    shuffle_options: Mapped[bool] = mapped_column(Boolean, default=True)
    # False: the score is shown at once; True: only after the window closes (pushed then).
    results_after_close: Mapped[bool] = mapped_column(Boolean, default=False)
    appeal_window_hours: Mapped[int] = mapped_column(Integer, default=24)
    # When held results were released to the students (set once by the scheduler).
    results_released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    discipline: Mapped[Discipline] = relationship()
    bank: Mapped[QuestionBank] = relationship()
    period: Mapped[AcademicPeriod | None] = relationship()
    targets: Mapped[list[OnlineTestTarget]] = relationship(
        back_populates="test", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("time_limit_minutes > 0", name="time_limit_positive"),
        CheckConstraint(
            "easy_count >= 0 AND medium_count >= 0 AND hard_count >= 0"
            " AND easy_count + medium_count + hard_count > 0",
            name="counts_valid",
        ),
        CheckConstraint("closes_at > opens_at", name="window_ordered"),
        CheckConstraint("attempts_allowed >= 1", name="attempts_positive"),
        CheckConstraint("appeal_window_hours >= 0", name="appeal_window_valid"),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
    )

    @property
    def question_count(self) -> int:
        return self.easy_count + self.medium_count + self.hard_count


class OnlineTestTarget(Base):
    """Who a test is assigned to: a whole group or one student."""

    __tablename__ = "online_test_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    test_id: Mapped[int] = mapped_column(ForeignKey("online_tests.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), index=True
    )
    student_id: Mapped[int | None] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), index=True
    )

    test: Mapped[OnlineTest] = relationship(back_populates="targets")

    __table_args__ = (
        UniqueConstraint("test_id", "group_id"),
        UniqueConstraint("test_id", "student_id"),
        CheckConstraint("(group_id IS NULL) <> (student_id IS NULL)", name="one_target"),
    )


class Attempt(Base):
    """One sitting of a test by a student, with the deadline fixed when it starts."""

    __tablename__ = "test_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    test_id: Mapped[int] = mapped_column(ForeignKey("online_tests.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    # 1 while open, NULL once finished: unique with (test, student), so the database itself
    # refuses a second open attempt (NULLs never collide, on SQLite and PostgreSQL alike).
    open_marker: Mapped[int | None] = mapped_column(Integer, default=1)
    status: Mapped[AttemptStatus] = mapped_column(
        _enum(AttemptStatus, "attempt_status"), default=AttemptStatus.open
    )
    finish_reason: Mapped[FinishReason | None] = mapped_column(
        _enum(FinishReason, "attempt_finish_reason")
    )
    seed: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    total: Mapped[int] = mapped_column(Integer, default=0)
    easy_total: Mapped[int] = mapped_column(Integer, default=0)
    medium_total: Mapped[int] = mapped_column(Integer, default=0)
    hard_total: Mapped[int] = mapped_column(Integer, default=0)
    easy_correct: Mapped[int] = mapped_column(Integer, default=0)
    medium_correct: Mapped[int] = mapped_column(Integer, default=0)
    hard_correct: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    # Set when the score has gone to the journal (a test-kind column of the discipline).
    journal_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    test: Mapped[OnlineTest] = relationship()
    questions: Mapped[list[AttemptQuestion]] = relationship(
        back_populates="attempt", order_by="AttemptQuestion.position"
    )

    __table_args__ = (
        UniqueConstraint("test_id", "student_id", "number"),
        UniqueConstraint("test_id", "student_id", "open_marker"),
        Index("ix_test_attempts_status_deadline", "status", "deadline"),
        CheckConstraint("open_marker IS NULL OR open_marker = 1", name="open_marker_one"),
    )

    @property
    def correct(self) -> int:
        return self.easy_correct + self.medium_correct + self.hard_correct


class AttemptQuestion(Base):
    """A question as drawn for one attempt: its place, the options in the order shown, the
    chosen options and, once scored, whether the choice was right."""

    __tablename__ = "attempt_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("test_attempts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"))
    difficulty: Mapped[Difficulty] = mapped_column(_enum(Difficulty, "attempt_q_difficulty"))
    kind: Mapped[QuestionKind] = mapped_column(_enum(QuestionKind, "attempt_q_kind"))
    option_ids: Mapped[list[int]] = mapped_column(JSON)
    # The recorded answer (sorted option ids); NULL while unanswered.
    chosen: Mapped[list[int] | None] = mapped_column(JSON(none_as_null=True))
    # Options ticked on a multiple-answer question but not yet confirmed.
    draft: Mapped[list[int] | None] = mapped_column(JSON(none_as_null=True))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_correct: Mapped[bool | None] = mapped_column(Boolean)

    attempt: Mapped[Attempt] = relationship(back_populates="questions")
    question: Mapped[Question] = relationship()

    __table_args__ = (
        UniqueConstraint("attempt_id", "position"),
        UniqueConstraint("attempt_id", "question_id"),
    )


class AttemptAnswer(Base):
    """Every accepted answer as it arrived (the audit trail; the latest one counts)."""

    __tablename__ = "attempt_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_question_id: Mapped[int] = mapped_column(
        ForeignKey("attempt_questions.id", ondelete="CASCADE"), index=True
    )
    chosen: Mapped[list[int]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TestingRulesText(Base):
    """The rules of taking a test shown to students, per language (editable by staff)."""

    __test__ = False  # not a pytest class, despite the name
    __tablename__ = "testing_rules"

    locale: Mapped[str] = mapped_column(String(5), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
