"""The university's structure and its people: the tables every module builds on."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, TimestampMixin, UTCDateTime, utcnow


class Role(enum.StrEnum):
    student = "student"
    teacher = "teacher"
    staff = "staff"
    admin = "admin"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as VARCHAR plus a CHECK on every backend: portable, and adding a member later is a
    # plain migration instead of a PostgreSQL ALTER TYPE.
    return Enum(cls, name=name, native_enum=False, length=32, validate_strings=True)


class LocalizedNameMixin:
    """Catalogue names kept in the three languages of the university."""

    name_kk: Mapped[str] = mapped_column(String(300))
    name_ru: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))

    def name(self, locale: str) -> str:
        value = getattr(self, f"name_{locale}", None)
        return value or self.name_ru or self.name_en or self.name_kk


class User(TimestampMixin, Base):
    """An account of the AIS; bound to at most one Telegram account at a time."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"), default=Role.student)
    last_name: Mapped[str] = mapped_column(String(100), default="")
    first_name: Mapped[str] = mapped_column(String(100), default="")
    middle_name: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str | None] = mapped_column(String(5))
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    is_blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    student: Mapped[Student | None] = relationship(back_populates="user", uselist=False)
    teacher: Mapped[Teacher | None] = relationship(back_populates="user", uselist=False)

    __table_args__ = (CheckConstraint("length(login) > 0", name="login_not_empty"),)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @property
    def short_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.login


class SignInAttempt(Base):
    """Every sign-in try, for the brute-force lock and for the audit trail."""

    __tablename__ = "sign_in_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64))
    telegram_id: Mapped[int] = mapped_column(BigInteger)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_sign_in_attempts_login_time", "login", "created_at"),
        Index("ix_sign_in_attempts_tg_time", "telegram_id", "created_at"),
    )


class SignInLock(Base):
    """The failure counter and temporary ban of one login or one Telegram account.

    One row per (scope, key), locked (`SELECT ... FOR UPDATE`) by the write unit that counts an
    attempt, so parallel attempts are counted one after the other on every engine. A login's row
    also remembers the Telegram account that last signed in to it successfully: a ban of the login
    caused by others' failures does not apply to that account.
    """

    __tablename__ = "sign_in_locks"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))  # "login" or "tg"
    key: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    window_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    trusted_telegram_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_sign_in_locks_scope_key", "scope", "key", unique=True),)


class Faculty(LocalizedNameMixin, Base):
    __tablename__ = "faculties"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    dean: Mapped[str | None] = mapped_column(String(200))

    programmes: Mapped[list[Programme]] = relationship(back_populates="faculty")


class Programme(LocalizedNameMixin, Base):
    """An educational programme (specialty), e.g. 6B06101 Information systems."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    faculty_id: Mapped[int] = mapped_column(ForeignKey("faculties.id", ondelete="RESTRICT"))
    degree: Mapped[str] = mapped_column(String(16), default="bachelor")
    duration_years: Mapped[int] = mapped_column(Integer, default=4)

    faculty: Mapped[Faculty] = relationship(back_populates="programmes")


class StudyForm(LocalizedNameMixin, Base):
    """Form of study: full-time, part-time, distance, shortened..."""

    __tablename__ = "study_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)


class Group(Base):
    """An academic group of one programme, one form of study and one year of study."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="RESTRICT"))
    study_form_id: Mapped[int] = mapped_column(ForeignKey("study_forms.id", ondelete="RESTRICT"))
    course: Mapped[int] = mapped_column(Integer)
    admission_year: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(5), default="kk")

    programme: Mapped[Programme] = relationship()
    study_form: Mapped[StudyForm] = relationship()
    students: Mapped[list[Student]] = relationship(back_populates="group")

    __table_args__ = (CheckConstraint("course BETWEEN 1 AND 7", name="course_range"),)


class Teacher(Base):
    __tablename__ = "teachers"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    department: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[str | None] = mapped_column(String(200))
    academic_degree: Mapped[str | None] = mapped_column(String(100))

    user: Mapped[User] = relationship(back_populates="teacher")


class Student(Base):
    """The personal data of the profile screen."""

    __tablename__ = "students"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    student_no: Mapped[str] = mapped_column(String(32), unique=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="RESTRICT"), index=True)
    advisor_id: Mapped[int | None] = mapped_column(ForeignKey("teachers.id", ondelete="SET NULL"))
    birth_date: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(1))
    iin: Mapped[str | None] = mapped_column(String(12))
    citizenship: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(Text)
    admission_year: Mapped[int] = mapped_column(Integer)
    funding: Mapped[str] = mapped_column(String(16), default="grant")
    status: Mapped[str] = mapped_column(String(16), default="active")

    user: Mapped[User] = relationship(back_populates="student")
    group: Mapped[Group] = relationship(back_populates="students")
    advisor: Mapped[Teacher | None] = relationship()


class Discipline(LocalizedNameMixin, Base):
    __tablename__ = "disciplines"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    credits: Mapped[int] = mapped_column(Integer)
    department: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (CheckConstraint("credits > 0", name="credits_positive"),)


class AcademicPeriod(Base):
    """A term of an academic year ("2025-2026", term 1), with its dates."""

    __tablename__ = "academic_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    academic_year: Mapped[str] = mapped_column(String(9))
    term: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)

    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="dates_ordered"),)
