"""QR check-in (§12): a teacher opens it for one class meeting; students scan short-lived codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, UTCDateTime, utcnow
from db.models.academic import ClassMeeting


class CheckIn(Base):
    """The check-in of one class meeting; closed once, after which marks are final (and
    corrected by hand). `chat_id`/`message_id` point at the teacher's QR message, which is
    edited in place as codes rotate and students arrive."""

    __tablename__ = "attendance_checkins"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("class_meetings.id", ondelete="CASCADE"), unique=True
    )
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teachers.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Closed by the server at this moment if the teacher forgets.
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(Integer)
    # What the teacher's message shows now, so unchanged states are not re-sent.
    shown_token: Mapped[str | None] = mapped_column(String(32))
    shown_present: Mapped[int] = mapped_column(Integer, default=-1)
    shown_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    meeting: Mapped[ClassMeeting] = relationship()


class CheckInToken(Base):
    """One code shown on the screen; valid for its check-in until `expires_at`."""

    __tablename__ = "attendance_checkin_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(
        ForeignKey("attendance_checkins.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(String(32), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
