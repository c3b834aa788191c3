"""Transcripts issued as official documents: numbered, QR-verifiable, revocable.

A certificate of study is issued through a service-centre request (`IssuedDocument`); a
transcript is issued to the student on demand, so it has its own registry. Both answer the same
verification link (`t.me/<bot>?start=v_<token>`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, UTCDateTime
from db.models.core import Student


class IssuedTranscript(Base):
    """One issued transcript; `fingerprint` identifies its content, so an unchanged record is
    answered with the same document instead of a new number."""

    __tablename__ = "issued_transcripts"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(40), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    locale: Mapped[str] = mapped_column(String(5))
    fingerprint: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issue_date: Mapped[date] = mapped_column(Date)
    # The holder's name as printed, and the masked form verification shows ("Ә*** Қ***").
    holder_name: Mapped[str] = mapped_column(String(320))
    holder_masked: Mapped[str] = mapped_column(String(64))
    # The PDF itself (the original, byte for byte); empty while it is being rendered.
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    file_id: Mapped[str | None] = mapped_column(String(255))
    file_name: Mapped[str] = mapped_column(String(255))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    student: Mapped[Student] = relationship()

    __table_args__ = (Index("ix_issued_transcripts_student", "student_id", "fingerprint"),)
