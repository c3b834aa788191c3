"""What the spreadsheet exports and charts show, read from the database as plain values.

Each loader runs inside a read unit and returns frozen dataclasses of numbers, dates and text,
so the slow part (building the workbook or the picture) runs afterwards, outside the unit and
off the event loop. Who may see what is checked by the caller before it asks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, joinedload

from bot.services import journal as journal_svc
from bot.services.messaging import REF_TYPE as MESSAGE_REF_TYPE
from db.models import Group, Student, User
from db.models.academic import (
    AttendanceMark,
    ClassKind,
    ClassMeeting,
    CurrentMark,
    TimetableSlot,
    WorkKind,
)
from db.models.delivery import Delivery, DeliveryStatus
from db.models.messaging import Message, MessageRecipient
from db.models.services import RequestStatus, ServiceRequest
from db.models.testing import Attempt, AttemptStatus, OnlineTest, OnlineTestTarget

# ---- a group's journal -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarkEntry:
    student_no: str
    name: str
    on_date: date
    work_kind: WorkKind
    value: Decimal


@dataclass(frozen=True, slots=True)
class GroupJournal:
    lines: list[journal_svc.RosterLine]
    marks: list[MarkEntry]


async def group_journal(
    session: AsyncSession, discipline_id: int, group_id: int, period_id: int
) -> GroupJournal:
    """The group's rows in the discipline and every current mark behind the averages."""
    lines = await journal_svc.roster(session, discipline_id, group_id, period_id)
    enrolment_ids = {line.row.enrolment_id: line for line in lines if line.row is not None}
    marks: list[MarkEntry] = []
    if enrolment_ids:
        for mark in await session.scalars(
            select(CurrentMark)
            .where(CurrentMark.enrolment_id.in_(list(enrolment_ids)))
            .order_by(CurrentMark.on_date, CurrentMark.id)
        ):
            line = enrolment_ids[mark.enrolment_id]
            marks.append(
                MarkEntry(
                    student_no=line.student.student_no,
                    name=line.user.full_name or line.user.login,
                    on_date=mark.on_date,
                    work_kind=mark.work_kind,
                    value=mark.value,
                )
            )
    marks.sort(key=lambda m: (m.name, m.on_date))
    return GroupJournal(lines=lines, marks=marks)


# ---- attendance over a date range ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeldClass:
    meeting_id: int
    on_date: date
    starts_at: time
    kind: ClassKind


@dataclass(frozen=True, slots=True)
class AttendanceLine:
    student_no: str
    name: str
    marks: dict[int, bool]
    """Meeting id → present; a class missing here was not marked for the student."""


@dataclass(frozen=True, slots=True)
class AttendanceSheet:
    classes: list[HeldClass]
    lines: list[AttendanceLine]


async def group_attendance(
    session: AsyncSession,
    *,
    discipline_id: int,
    group_id: int,
    start: date,
    end: date,
    teacher_id: int | None,
) -> AttendanceSheet:
    """Classes held (opened for marking) between the dates, inclusive, and each student's marks.

    `teacher_id` limits the classes to that teacher's slots (None: every slot, for staff).
    """
    query = (
        select(ClassMeeting.id, ClassMeeting.on_date, TimetableSlot.starts_at, TimetableSlot.kind)
        .join(TimetableSlot, TimetableSlot.id == ClassMeeting.slot_id)
        .where(
            TimetableSlot.discipline_id == discipline_id,
            TimetableSlot.group_id == group_id,
            ClassMeeting.on_date >= start,
            ClassMeeting.on_date <= end,
        )
        .order_by(ClassMeeting.on_date, TimetableSlot.starts_at, ClassMeeting.id)
    )
    if teacher_id is not None:
        query = query.where(TimetableSlot.teacher_id == teacher_id)
    classes = [HeldClass(*row) for row in await session.execute(query)]
    students = (
        await session.execute(
            select(Student.id, Student.student_no, User)
            .join(User, User.id == Student.user_id)
            .where(Student.group_id == group_id)
            .order_by(User.last_name, User.first_name, Student.id)
        )
    ).all()
    marks: dict[int, dict[int, bool]] = defaultdict(dict)
    if classes:
        for meeting_id, student_id, present in await session.execute(
            select(
                AttendanceMark.meeting_id, AttendanceMark.student_id, AttendanceMark.present
            ).where(AttendanceMark.meeting_id.in_([c.meeting_id for c in classes]))
        ):
            marks[student_id][meeting_id] = present
    lines = [
        AttendanceLine(
            student_no=no, name=user.full_name or user.login, marks=dict(marks.get(sid, {}))
        )
        for sid, no, user in students
    ]
    return AttendanceSheet(classes=classes, lines=lines)


# ---- a test's results ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TestResultLine:
    student_no: str
    name: str
    group: str
    attempt: Attempt | None
    attempts: int


async def test_results(session: AsyncSession, test_id: int) -> list[TestResultLine]:
    """Every assigned student with their latest attempt and how many they have used."""
    group_ids = select(OnlineTestTarget.group_id).where(
        OnlineTestTarget.test_id == test_id, OnlineTestTarget.group_id.is_not(None)
    )
    student_ids = select(OnlineTestTarget.student_id).where(
        OnlineTestTarget.test_id == test_id, OnlineTestTarget.student_id.is_not(None)
    )
    students = (
        await session.execute(
            select(Student.id, Student.student_no, User, Group.code)
            .join(User, User.id == Student.user_id)
            .join(Group, Group.id == Student.group_id)
            .where(Student.group_id.in_(group_ids) | Student.id.in_(student_ids))
            .order_by(Group.code, User.last_name, User.first_name, Student.id)
        )
    ).all()
    latest: dict[int, Attempt] = {}
    counts: dict[int, int] = defaultdict(int)
    for attempt in await session.scalars(
        select(Attempt).where(Attempt.test_id == test_id).order_by(Attempt.number)
    ):
        latest[attempt.student_id] = attempt
        counts[attempt.student_id] += 1
    return [
        TestResultLine(
            student_no=no,
            name=user.full_name or user.login,
            group=code,
            attempt=latest.get(sid),
            attempts=counts.get(sid, 0),
        )
        for sid, no, user, code in students
    ]


def finished(line: TestResultLine) -> bool:
    return line.attempt is not None and line.attempt.status == AttemptStatus.finished


async def online_test(session: AsyncSession, test_id: int) -> OnlineTest | None:
    return await session.scalar(
        select(OnlineTest)
        .where(OnlineTest.id == test_id)
        .options(joinedload(OnlineTest.discipline))
    )


# ---- an announcement's delivery report -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryLine:
    name: str
    login: str
    group: str | None
    status: DeliveryStatus | None
    """None when nothing was queued: the person turned announcements off."""
    sent_at: datetime | None
    read_at: datetime | None
    error: str | None


async def delivery_report(session: AsyncSession, message: Message) -> list[DeliveryLine]:
    """One line per recipient of the announcement: the push's fate and whether they read it."""
    pushes: dict[int, Delivery] = {}
    for delivery in await session.scalars(
        select(Delivery)
        .where(Delivery.ref_type == MESSAGE_REF_TYPE, Delivery.ref_id == message.id)
        .order_by(Delivery.id)
    ):
        pushes[delivery.user_id] = delivery
    student = aliased(Student)
    rows = await session.execute(
        select(MessageRecipient.user_id, MessageRecipient.read_at, User, Group.code)
        .join(User, User.id == MessageRecipient.user_id)
        .outerjoin(student, student.user_id == User.id)
        .outerjoin(Group, Group.id == student.group_id)
        .where(MessageRecipient.message_id == message.id)
        .order_by(Group.code, User.last_name, User.first_name, User.id)
    )
    lines = []
    for user_id, read_at, user, group_code in rows:
        push = pushes.get(user_id)
        lines.append(
            DeliveryLine(
                name=user.full_name or user.login,
                login=user.login,
                group=group_code,
                status=push.status if push is not None else None,
                sent_at=push.sent_at if push is not None else None,
                read_at=read_at,
                error=push.last_error if push is not None else None,
            )
        )
    return lines


# ---- the requests queue ----------------------------------------------------------------------


async def requests_queue(
    session: AsyncSession, service_id: int | None, limit: int = 10_000
) -> list[ServiceRequest]:
    """Every request (of one service, or of all), open ones first, the longest waiting first."""
    order = {status: index for index, status in enumerate(RequestStatus)}
    query = (
        select(ServiceRequest)
        .options(
            joinedload(ServiceRequest.service),
            joinedload(ServiceRequest.student).joinedload(Student.user),
            joinedload(ServiceRequest.student).joinedload(Student.group),
            joinedload(ServiceRequest.assignee),
        )
        .order_by(ServiceRequest.submitted_at, ServiceRequest.id)
        .limit(limit)
    )
    if service_id:
        query = query.where(ServiceRequest.service_id == service_id)
    requests = list(await session.scalars(query))
    requests.sort(key=lambda r: order.get(r.status, len(order)))
    return requests


# ---- averages of a group, for the distribution chart -----------------------------------------


async def group_averages(
    session: AsyncSession, discipline_id: int, group_id: int, period_id: int
) -> tuple[list[Decimal], int]:
    """Current averages of the enrolled students, and how many have no current mark yet."""
    lines = await journal_svc.roster(session, discipline_id, group_id, period_id)
    averages = [line.row.current for line in lines if line.row and line.row.current is not None]
    without = sum(1 for line in lines if line.row is not None and line.row.current is None)
    return averages, without


__all__ = [
    "AttendanceLine",
    "AttendanceSheet",
    "DeliveryLine",
    "GroupJournal",
    "HeldClass",
    "MarkEntry",
    "TestResultLine",
    "delivery_report",
    "finished",
    "group_attendance",
    "group_averages",
    "group_journal",
    "online_test",
    "requests_queue",
    "test_results",
]
