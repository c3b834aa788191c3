"""Administration: staff sub-roles and the audit log of staff actions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow


class SubRole(enum.StrEnum):
    """What a staff member does; one person may hold several."""

    registrar = "registrar"
    service_centre = "service_centre"
    deans_office = "deans_office"
    appeal_commission = "appeal_commission"


class StaffRole(Base):
    __tablename__ = "staff_roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sub_role: Mapped[SubRole] = mapped_column(
        Enum(SubRole, name="staff_sub_role", native_enum=False, length=32, validate_strings=True)
    )

    __table_args__ = (UniqueConstraint("user_id", "sub_role"),)


class AuditEntry(Base):
    """Who did what to what, and when; kept even when the actor's account is deleted."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # The actor's login at the time, so the log still reads after a rename or a deletion.
    actor_login: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_audit_log_created_at", "created_at"),)
