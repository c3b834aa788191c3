"""Appeals (§7): a student contests wrongly answered questions of a finished test attempt.

One appeal per attempt gathers the questions filed (the student may file more questions later,
while the window is open). Each question is decided on its own, once, by a reviewer; accepted
questions count as correct ("correct with appeal") when the attempt is scored again.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Enum,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, UTCDateTime, utcnow


class AppealItemStatus(enum.StrEnum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"
    withdrawn = "withdrawn"


class Appeal(Base):
    """The appeal of one attempt, with the result as it stood before any decision (the
    "correct answers" columns of the passed-tests table keep showing it)."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("test_attempts.id", ondelete="CASCADE"), unique=True
    )
    student_id: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), index=True
    )
    easy_correct_before: Mapped[int] = mapped_column(Integer)
    medium_correct_before: Mapped[int] = mapped_column(Integer)
    hard_correct_before: Mapped[int] = mapped_column(Integer)
    score_before: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    items: Mapped[list[AppealItem]] = relationship(
        back_populates="appeal", order_by="AppealItem.id"
    )


class AppealItem(Base):
    """One contested question: the student's comment, then the decision (who, when, why)."""

    __tablename__ = "appeal_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(
        ForeignKey("appeals.id", ondelete="CASCADE"), index=True
    )
    attempt_question_id: Mapped[int] = mapped_column(
        ForeignKey("attempt_questions.id", ondelete="CASCADE")
    )
    # 1 while filed or decided, NULL once withdrawn: unique with the question, so the database
    # itself refuses filing the same question twice, yet a withdrawn one may be filed again.
    active_marker: Mapped[int | None] = mapped_column(Integer, default=1)
    comment: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[AppealItemStatus] = mapped_column(
        Enum(
            AppealItemStatus,
            name="appeal_item_status",
            native_enum=False,
            length=16,
            validate_strings=True,
        ),
        default=AppealItemStatus.pending,
    )
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_comment: Mapped[str | None] = mapped_column(String(500))

    appeal: Mapped[Appeal] = relationship(back_populates="items")

    __table_args__ = (
        UniqueConstraint("attempt_question_id", "active_marker"),
        CheckConstraint("active_marker IS NULL OR active_marker = 1", name="active_marker_one"),
    )
