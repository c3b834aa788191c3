"""Virtual classrooms (§10.1): one per group, discipline, period and kind of class, with the
teacher's materials, a conversation and each member's own state."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, UTCDateTime, utcnow
from db.models.academic import ClassKind
from db.models.core import AcademicPeriod, Discipline, Group, Teacher


class MaterialKind(enum.StrEnum):
    document = "document"
    photo = "photo"
    link = "link"


class Classroom(Base):
    """Made from the timetable: the classes of one kind that a group has in a discipline."""

    __tablename__ = "classrooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("academic_periods.id", ondelete="CASCADE"))
    discipline_id: Mapped[int] = mapped_column(
        ForeignKey("disciplines.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ClassKind] = mapped_column(
        Enum(
            ClassKind,
            name="classroom_kind",
            native_enum=False,
            length=16,
            validate_strings=True,
            values_callable=lambda members: [m.value for m in members],
        )
    )
    teacher_id: Mapped[int | None] = mapped_column(
        ForeignKey("teachers.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    period: Mapped[AcademicPeriod] = relationship()
    discipline: Mapped[Discipline] = relationship()
    group: Mapped[Group] = relationship()
    teacher: Mapped[Teacher | None] = relationship()

    __table_args__ = (UniqueConstraint("period_id", "discipline_id", "group_id", "kind"),)


class ClassroomMember(Base):
    """A member's own state in a classroom: when they last looked in, whether they are muted.

    Membership itself follows the group and the timetable; this row exists once the member
    opens the classroom or the teacher mutes them.
    """

    __tablename__ = "classroom_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    classroom_id: Mapped[int] = mapped_column(ForeignKey("classrooms.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    last_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    muted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("classroom_id", "user_id"),)


class ClassroomMaterial(Base):
    """A file, photo or link the teacher put under a topic (or week) of the course."""

    __tablename__ = "classroom_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    classroom_id: Mapped[int] = mapped_column(ForeignKey("classrooms.id", ondelete="CASCADE"))
    week: Mapped[int | None] = mapped_column(Integer)
    topic: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[MaterialKind] = mapped_column(
        Enum(MaterialKind, name="material_kind", native_enum=False, length=16)
    )
    file_id: Mapped[str | None] = mapped_column(String(255))
    file_name: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(String(1000))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_classroom_materials_room_time", "classroom_id", "created_at"),
        CheckConstraint("week IS NULL OR week BETWEEN 1 AND 30", name="week_range"),
    )


class ClassroomPost(Base):
    """A message of the classroom conversation, delivered to every other member's chat."""

    __tablename__ = "classroom_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    classroom_id: Mapped[int] = mapped_column(ForeignKey("classrooms.id", ondelete="CASCADE"))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_classroom_posts_room_time", "classroom_id", "created_at"),)
