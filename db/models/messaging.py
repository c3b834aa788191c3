"""Messages (§8): letters, tasks and announcements, their attachments and their recipients."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, UTCDateTime, utcnow


class MessageKind(enum.StrEnum):
    letter = "letter"
    task = "task"
    announcement = "announcement"


class TaskStatus(enum.StrEnum):
    """Set by the sender of a task."""

    open = "open"
    closed = "closed"


class TaskState(enum.StrEnum):
    """Set by each recipient of a task."""

    received = "received"
    in_progress = "in_progress"
    done = "done"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=32, validate_strings=True)


class Message(Base):
    """One letter, task or announcement; it leaves every mailbox at `expires_at`."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MessageKind] = mapped_column(_enum(MessageKind, "message_kind"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    # The recipients as the sender chose them: [[target kind, id], ...], shown back to the sender.
    audience: Mapped[list[Any]] = mapped_column(JSON, default=list)
    recipients_count: Mapped[int] = mapped_column(Integer, default=0)
    task_status: Mapped[TaskStatus | None] = mapped_column(_enum(TaskStatus, "task_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set once every pushed notification of an expired message has been edited.
    expiry_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last delivery (by id) whose chat message the expiry job has already edited.
    expiry_cursor: Mapped[int] = mapped_column(Integer, default=0)
    # When the sender of an announcement was told that its broadcast finished.
    summary_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # One per composition dialogue: a double tap on "Send" cannot send the draft twice.
    draft_token: Mapped[str] = mapped_column(String(32))

    attachments: Mapped[list[MessageAttachment]] = relationship(
        back_populates="message",
        order_by="MessageAttachment.position",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        Index("ix_messages_sender_token", "sender_id", "draft_token", unique=True),
        Index("ix_messages_sender_kind_created", "sender_id", "kind", "created_at"),
        Index("ix_messages_expires_at", "expires_at"),
    )


class MessageAttachment(Base):
    """A document or photo kept by its Telegram file id (the bot re-sends it, never stores it)."""

    __tablename__ = "message_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    media: Mapped[str] = mapped_column(String(16))  # "document" or "photo"
    file_id: Mapped[str] = mapped_column(String(255))
    file_name: Mapped[str | None] = mapped_column(String(255))

    message: Mapped[Message] = relationship(back_populates="attachments")


class MessageRecipient(Base):
    """A message in one person's inbox: read receipt and, for a task, the execution status."""

    __tablename__ = "message_recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    task_state: Mapped[TaskState | None] = mapped_column(_enum(TaskState, "task_state"))
    reply: Mapped[str | None] = mapped_column(Text)
    state_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    message: Mapped[Message] = relationship()

    __table_args__ = (
        Index("ix_message_recipients_message_user", "message_id", "user_id", unique=True),
        Index("ix_message_recipients_user_message", "user_id", "message_id"),
    )
