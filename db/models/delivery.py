"""The durable outbox: one row per notification per person, and each person's settings."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Enum, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow


class NoticeKind(enum.StrEnum):
    """What a notification is about; each kind can be switched off by the person."""

    grades = "grades"
    tests = "tests"
    appeals = "appeals"
    calendar = "calendar"
    classes = "classes"
    digest = "digest"
    letters = "letters"
    tasks = "tasks"
    announcements = "announcements"
    classroom = "classroom"
    services = "services"
    attendance = "attendance"
    account = "account"


class DeliveryStatus(enum.StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    blocked = "blocked"
    skipped = "skipped"


class Delivery(Base):
    """A notification waiting for, or done with, its trip to one person's chat.

    Rendered only when sent, in the recipient's language of that moment; `ref_type`/`ref_id`
    let the module that queued it find the Telegram message later (to edit it on expiry).
    """

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    template: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, name="delivery_status", native_enum=False, length=16),
        default=DeliveryStatus.pending,
    )
    not_before: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    ref_type: Mapped[str | None] = mapped_column(String(32))
    ref_id: Mapped[int | None] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(Integer, index=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The worker (scheduler lease holder id) that claimed the row: its claims are released the
    # moment another holder takes over, so a dead claimant strands nothing.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    # Put back because of the person's quiet hours: changing them recomputes `not_before`.
    held_quiet: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_deliveries_status_not_before", "status", "not_before"),
        Index("ix_deliveries_ref", "ref_type", "ref_id"),
    )


class NotificationSettings(Base):
    """A person's choices about pushes; no row means the defaults."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    disabled_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    quiet_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Minutes after local midnight; the quiet period may wrap past midnight (22:00-08:00).
    quiet_start: Mapped[int] = mapped_column(Integer, default=22 * 60)
    quiet_end: Mapped[int] = mapped_column(Integer, default=8 * 60)
    class_reminder_minutes: Mapped[int | None] = mapped_column(Integer)
    digest_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    bot_blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SchedulerLease(Base):
    """Who runs the scheduler against this database: exactly one holder at a time."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
