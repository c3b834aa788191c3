"""Academic records: enrolments and marks, the timetable and attendance, academic calendars,
practices and the final attestation."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, UTCDateTime, utcnow
from db.models.core import AcademicPeriod, Discipline, Group, LocalizedNameMixin, Student, Teacher

MARK = Numeric(5, 2)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        length=16,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


class ClassKind(enum.StrEnum):
    lecture = "lecture"
    practice = "practice"
    lab = "lab"
    srs = "srs"  # СӨЖ / СРО: independent work
    srop = "srop"  # СОӨЖ / СРОП: independent work with the teacher


class WeekParity(enum.StrEnum):
    all = "all"
    odd = "odd"  # numerator
    even = "even"  # denominator


class WorkKind(enum.StrEnum):
    """What a current mark was given for."""

    lecture = "lecture"
    practice = "practice"
    lab = "lab"
    srs = "srs"
    srop = "srop"
    test = "test"


class AttendanceSource(enum.StrEnum):
    teacher = "teacher"
    qr = "qr"
    import_ = "import"


class CalendarEventKind(enum.StrEnum):
    semester = "semester"  # semester start/end
    add_drop = "add_drop"
    registration = "registration"
    midterm = "midterm"
    session = "session"
    practice = "practice"
    grading = "grading"  # final-grading period
    holiday = "holiday"
    vacation = "vacation"


class AttestationKind(enum.StrEnum):
    state_exam = "state_exam"
    thesis = "thesis"


class Enrolment(Base):
    """A student's discipline in one academic period, with its control marks."""

    __tablename__ = "enrolments"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    discipline_id: Mapped[int] = mapped_column(
        ForeignKey("disciplines.id", ondelete="RESTRICT"), index=True
    )
    period_id: Mapped[int] = mapped_column(
        ForeignKey("academic_periods.id", ondelete="RESTRICT"), index=True
    )
    teacher_id: Mapped[int | None] = mapped_column(
        ForeignKey("teachers.id", ondelete="SET NULL"), index=True
    )
    midterm1: Mapped[Decimal | None] = mapped_column(MARK)
    midterm2: Mapped[Decimal | None] = mapped_column(MARK)
    exam: Mapped[Decimal | None] = mapped_column(MARK)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    student: Mapped[Student] = relationship()
    discipline: Mapped[Discipline] = relationship()
    period: Mapped[AcademicPeriod] = relationship()
    teacher: Mapped[Teacher | None] = relationship()

    __table_args__ = (
        UniqueConstraint("student_id", "discipline_id", "period_id"),
        CheckConstraint("midterm1 IS NULL OR midterm1 BETWEEN 0 AND 100", name="midterm1_range"),
        CheckConstraint("midterm2 IS NULL OR midterm2 BETWEEN 0 AND 100", name="midterm2_range"),
        CheckConstraint("exam IS NULL OR exam BETWEEN 0 AND 100", name="exam_range"),
    )


class CurrentMark(Base):
    """A mark of the current (weekly) control: a practice, a lab, an independent work..."""

    __tablename__ = "current_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"), index=True
    )
    on_date: Mapped[date] = mapped_column(Date)
    work_kind: Mapped[WorkKind] = mapped_column(_enum(WorkKind, "work_kind"))
    value: Mapped[Decimal] = mapped_column(MARK)
    source: Mapped[str] = mapped_column(String(16), default="staff")
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (CheckConstraint("value BETWEEN 0 AND 100", name="value_range"),)


class TimetableSlot(Base):
    """A weekly class of a group: every week, or only odd (numerator) or even weeks."""

    __tablename__ = "timetable_slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    discipline_id: Mapped[int] = mapped_column(ForeignKey("disciplines.id", ondelete="RESTRICT"))
    teacher_id: Mapped[int | None] = mapped_column(
        ForeignKey("teachers.id", ondelete="SET NULL"), index=True
    )
    period_id: Mapped[int] = mapped_column(ForeignKey("academic_periods.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)
    kind: Mapped[ClassKind] = mapped_column(_enum(ClassKind, "class_kind"))
    room: Mapped[str | None] = mapped_column(String(64))
    week_parity: Mapped[WeekParity] = mapped_column(
        _enum(WeekParity, "week_parity"), default=WeekParity.all
    )

    group: Mapped[Group] = relationship()
    discipline: Mapped[Discipline] = relationship()
    teacher: Mapped[Teacher | None] = relationship()

    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("ends_at > starts_at", name="times_ordered"),
        Index("ix_timetable_slots_group_period", "group_id", "period_id"),
    )


class ClassMeeting(Base):
    """One occurrence of a timetable slot on a date: what attendance is recorded against."""

    __tablename__ = "class_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("timetable_slots.id", ondelete="CASCADE"))
    on_date: Mapped[date] = mapped_column(Date)

    slot: Mapped[TimetableSlot] = relationship()

    __table_args__ = (UniqueConstraint("slot_id", "on_date"),)


class AttendanceMark(Base):
    __tablename__ = "attendance_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("class_meetings.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), index=True
    )
    present: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[AttendanceSource] = mapped_column(_enum(AttendanceSource, "attendance_source"))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("meeting_id", "student_id"),)


class AcademicCalendar(LocalizedNameMixin, Base):
    """An academic calendar of one academic year, assigned by programme, year of study and form
    of study; an empty criterion matches every value (a university-wide calendar)."""

    __tablename__ = "academic_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True)
    academic_year: Mapped[str] = mapped_column(String(9), index=True)
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE")
    )
    course: Mapped[int | None] = mapped_column(Integer)
    study_form_id: Mapped[int | None] = mapped_column(
        ForeignKey("study_forms.id", ondelete="CASCADE")
    )

    events: Mapped[list[CalendarEvent]] = relationship(
        back_populates="calendar", order_by="CalendarEvent.starts_on"
    )


class CalendarEvent(LocalizedNameMixin, Base):
    __tablename__ = "calendar_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("academic_calendars.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[CalendarEventKind] = mapped_column(_enum(CalendarEventKind, "calendar_event"))
    term: Mapped[int | None] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)

    calendar: Mapped[AcademicCalendar] = relationship(back_populates="events")

    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="dates_ordered"),)


class Practice(LocalizedNameMixin, Base):
    """A professional practice of a student (its kind in `name_*`), with its mark."""

    __tablename__ = "practices"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), index=True
    )
    period_id: Mapped[int | None] = mapped_column(
        ForeignKey("academic_periods.id", ondelete="SET NULL")
    )
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    credits: Mapped[int] = mapped_column(Integer)
    percent: Mapped[Decimal | None] = mapped_column(MARK)

    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
        CheckConstraint("percent IS NULL OR percent BETWEEN 0 AND 100", name="percent_range"),
    )


class FinalAttestation(Base):
    """A state exam or the degree work (thesis) of the final attestation."""

    __tablename__ = "final_attestations"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[AttestationKind] = mapped_column(_enum(AttestationKind, "attestation_kind"))
    title: Mapped[str] = mapped_column(String(500))
    protocol: Mapped[str | None] = mapped_column(String(100))
    credits: Mapped[int] = mapped_column(Integer)
    percent: Mapped[Decimal | None] = mapped_column(MARK)

    __table_args__ = (
        CheckConstraint("percent IS NULL OR percent BETWEEN 0 AND 100", name="percent_range"),
    )
