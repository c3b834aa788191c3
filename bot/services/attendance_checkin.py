"""Attendance check-in by QR code (§12).

A teacher opens the check-in of one of today's classes; the screen shows a QR code of a start
link (`https://t.me/<bot>?start=a_<token>`) that is replaced every `rotate_seconds`, and each
code is accepted for `token_ttl_seconds` only, so a photo passed on to a friend is useless a
minute later. Closing it marks everyone who did not scan as absent (through the journal, which
also sends the absence-limit warning); after that the marks are corrected by hand.

Settings (environment): CHECKIN_ROTATE_SECONDS (30), CHECKIN_TOKEN_TTL_SECONDS (60),
CHECKIN_REFRESH_SECONDS (5: the fastest the teacher's message is edited),
CHECKIN_AUTO_CLOSE_MINUTES (30: after the end of the class a forgotten check-in closes).
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.config import CheckinSettings
from bot.services import journal, timetable
from bot.services.errors import DomainError
from bot.services.i18n import _
from db.models import Student, Teacher, User
from db.models.academic import AttendanceMark, AttendanceSource, ClassMeeting, TimetableSlot
from db.models.attendance_checkin import CheckIn, CheckInToken

START_PREFIX = "a_"
TOKEN_PATTERN = r"^a_[A-Za-z0-9_-]{8,32}$"


def start_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={START_PREFIX}{token}"


def _not_available() -> DomainError:
    return DomainError("checkin.not_available", lambda: _("This check-in is not available."))


# ---- the teacher's side ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TodayClass:
    item: timetable.ClassItem
    checkin: CheckIn | None


async def classes_today(session: AsyncSession, teacher_id: int, today: date) -> list[TodayClass]:
    """The teacher's classes on `today`, each with its check-in if one was opened."""
    days = await timetable.classes_between(session, today, today, teacher_id=teacher_id)
    items = days.get(today, [])
    if not items:
        return []
    found = {
        meeting.slot_id: checkin
        for checkin, meeting in (
            await session.execute(
                select(CheckIn, ClassMeeting)
                .join(ClassMeeting, ClassMeeting.id == CheckIn.meeting_id)
                .where(
                    ClassMeeting.on_date == today,
                    ClassMeeting.slot_id.in_([i.slot.id for i in items]),
                )
            )
        ).all()
    }
    return [TodayClass(item, found.get(item.slot.id)) for item in items]


async def open_checkin(
    session: AsyncSession,
    *,
    teacher_id: int,
    slot_id: int,
    on_date: date,
    now: datetime,
    tz: ZoneInfo,
    config: CheckinSettings,
) -> CheckIn:
    """The check-in of the teacher's class on `on_date`, opened on first call."""
    found = await timetable.slot_on(session, slot_id, on_date)
    if found is None or found[0].teacher_id != teacher_id:
        raise _not_available()
    slot, _period = found
    meeting = await timetable.meeting_for(session, slot.id, on_date)
    await session.flush()
    checkin = await session.scalar(select(CheckIn).where(CheckIn.meeting_id == meeting.id))
    if checkin is not None:
        return checkin
    ends = datetime.combine(on_date, slot.ends_at, tzinfo=tz)
    closes_at = max(ends, now) + timedelta(minutes=config.auto_close_minutes)
    checkin = CheckIn(
        meeting_id=meeting.id, teacher_id=teacher_id, opened_at=now, closes_at=closes_at
    )
    session.add(checkin)
    await session.flush()
    return checkin


async def teacher_checkin(session: AsyncSession, checkin_id: int, teacher_id: int) -> CheckIn:
    """A check-in of this teacher (someone else's, or a forged id, is refused)."""
    checkin = await session.scalar(
        select(CheckIn)
        .where(CheckIn.id == checkin_id)
        .options(
            joinedload(CheckIn.meeting)
            .joinedload(ClassMeeting.slot)
            .joinedload(TimetableSlot.discipline),
            joinedload(CheckIn.meeting)
            .joinedload(ClassMeeting.slot)
            .joinedload(TimetableSlot.group),
        )
    )
    if checkin is None or checkin.meeting.slot.teacher_id != teacher_id:
        raise _not_available()
    return checkin


async def load_checkin(session: AsyncSession, checkin_id: int) -> CheckIn | None:
    return await session.scalar(
        select(CheckIn)
        .where(CheckIn.id == checkin_id)
        .options(
            joinedload(CheckIn.meeting)
            .joinedload(ClassMeeting.slot)
            .joinedload(TimetableSlot.discipline),
            joinedload(CheckIn.meeting)
            .joinedload(ClassMeeting.slot)
            .joinedload(TimetableSlot.group),
        )
    )


async def issue_token(
    session: AsyncSession, checkin: CheckIn, now: datetime, config: CheckinSettings
) -> str:
    """A fresh code for the screen; older codes stay valid until they expire."""
    token = secrets.token_urlsafe(12)
    session.add(
        CheckInToken(
            checkin_id=checkin.id,
            token=token,
            issued_at=now,
            expires_at=now + timedelta(seconds=config.token_ttl_seconds),
        )
    )
    await session.flush()
    return token


async def latest_token(session: AsyncSession, checkin_id: int) -> CheckInToken | None:
    return await session.scalar(
        select(CheckInToken)
        .where(CheckInToken.checkin_id == checkin_id)
        .order_by(CheckInToken.issued_at.desc(), CheckInToken.id.desc())
        .limit(1)
    )


async def token_for_screen(
    session: AsyncSession, checkin: CheckIn, now: datetime, config: CheckinSettings
) -> str:
    """The code to show now: the latest one while it is young enough, else a new one."""
    latest = await latest_token(session, checkin.id)
    rotate = timedelta(seconds=config.rotate_seconds)
    if latest is not None and now - latest.issued_at < rotate:
        return latest.token
    return await issue_token(session, checkin, now, config)


@dataclass(frozen=True, slots=True)
class Counts:
    present: int
    total: int


async def counts(session: AsyncSession, checkin: CheckIn) -> Counts:
    group_id = checkin.meeting.slot.group_id
    total = await session.scalar(
        select(func.count()).select_from(Student).where(Student.group_id == group_id)
    )
    present = await session.scalar(
        select(func.count())
        .select_from(AttendanceMark)
        .join(Student, Student.id == AttendanceMark.student_id)
        .where(
            AttendanceMark.meeting_id == checkin.meeting_id,
            AttendanceMark.present.is_(True),
            Student.group_id == group_id,
        )
    )
    return Counts(present=int(present or 0), total=int(total or 0))


async def close_checkin(session: AsyncSession, checkin: CheckIn, now: datetime) -> int:
    """Close it: students without a mark are absent (the journal may warn them). Returns how
    many were marked absent; closing twice changes nothing."""
    if checkin.closed_at is not None:
        return 0
    checkin.closed_at = now
    group_id = checkin.meeting.slot.group_id
    marked = await journal.meeting_marks(session, checkin.meeting_id)
    students = list(await session.scalars(select(Student.id).where(Student.group_id == group_id)))
    absent = 0
    for student_id in students:
        if student_id in marked:
            continue
        await journal.mark_attendance(
            session,
            meeting_id=checkin.meeting_id,
            student_id=student_id,
            present=False,
            source=AttendanceSource.qr.value,
            now=now,
        )
        absent += 1
    await session.flush()
    return absent


async def purge_old_tokens(session: AsyncSession, now: datetime) -> int:
    """Codes of check-ins closed over a day ago: kept until then so a late scan hears "closed"
    rather than "expired"."""
    closed = select(CheckIn.id).where(
        CheckIn.closed_at.is_not(None), CheckIn.closed_at < now - timedelta(days=1)
    )
    result = await session.execute(delete(CheckInToken).where(CheckInToken.checkin_id.in_(closed)))
    return int(result.rowcount or 0)


@dataclass(frozen=True, slots=True)
class RosterEntry:
    student_id: int
    name: str
    present: bool | None


async def roster(session: AsyncSession, checkin: CheckIn) -> list[RosterEntry]:
    marks = await journal.meeting_marks(session, checkin.meeting_id)
    rows = await session.execute(
        select(Student.id, User)
        .join(User, User.id == Student.user_id)
        .where(Student.group_id == checkin.meeting.slot.group_id)
        .order_by(User.last_name, User.first_name, Student.id)
    )
    return [RosterEntry(sid, user.full_name, marks.get(sid)) for sid, user in rows.all()]


async def correct(session: AsyncSession, checkin: CheckIn, student_id: int, now: datetime) -> bool:
    """Flip one student's mark after the check-in is closed; returns the new presence."""
    if checkin.closed_at is None:
        raise DomainError(
            "checkin.still_open",
            lambda: _("Close the check-in first; then marks can be corrected by hand."),
        )
    student = await session.get(Student, student_id)
    if student is None or student.group_id != checkin.meeting.slot.group_id:
        raise _not_available()
    marks = await journal.meeting_marks(session, checkin.meeting_id)
    present = not marks.get(student_id, False)
    await journal.mark_attendance(
        session,
        meeting_id=checkin.meeting_id,
        student_id=student_id,
        present=present,
        source=AttendanceSource.teacher.value,
        now=now,
    )
    return present


# ---- the student's side ----------------------------------------------------------------------


class ScanStatus(enum.StrEnum):
    marked = "marked"
    already = "already"
    expired = "expired"
    closed = "closed"
    other_group = "other_group"
    not_student = "not_student"


@dataclass(frozen=True, slots=True)
class ScanResult:
    status: ScanStatus
    discipline: dict[str, str] | None = None
    group_code: str | None = None


async def scan(
    session: AsyncSession, *, token: str, student_id: int | None, now: datetime
) -> ScanResult:
    """A student scanned `a_<token>`: mark them present if the code is live and the class is
    theirs. Unknown codes read as expired: a guessed code reveals nothing."""
    if student_id is None:
        return ScanResult(ScanStatus.not_student)
    row = await session.scalar(select(CheckInToken).where(CheckInToken.token == token[:32]))
    checkin = await load_checkin(session, row.checkin_id) if row is not None else None
    if row is None or checkin is None:
        return ScanResult(ScanStatus.expired)
    slot = checkin.meeting.slot
    names = {
        "kk": slot.discipline.name_kk,
        "ru": slot.discipline.name_ru,
        "en": slot.discipline.name_en,
    }
    if checkin.closed_at is not None or now >= checkin.closes_at:
        return ScanResult(ScanStatus.closed, names, slot.group.code)
    if now >= row.expires_at:
        return ScanResult(ScanStatus.expired, names, slot.group.code)
    group_id = await session.scalar(select(Student.group_id).where(Student.id == student_id))
    if group_id != slot.group_id:
        return ScanResult(ScanStatus.other_group, names, slot.group.code)
    changed = await journal.mark_attendance(
        session,
        meeting_id=checkin.meeting_id,
        student_id=student_id,
        present=True,
        source=AttendanceSource.qr.value,
        now=now,
    )
    return ScanResult(ScanStatus.marked if changed else ScanStatus.already, names, slot.group.code)


# ---- the job's side --------------------------------------------------------------------------


async def open_checkins(session: AsyncSession) -> list[CheckIn]:
    return list(
        await session.scalars(
            select(CheckIn)
            .where(CheckIn.closed_at.is_(None))
            .options(
                joinedload(CheckIn.meeting)
                .joinedload(ClassMeeting.slot)
                .joinedload(TimetableSlot.discipline),
                joinedload(CheckIn.meeting)
                .joinedload(ClassMeeting.slot)
                .joinedload(TimetableSlot.group),
            )
        )
    )


async def teacher_user_id(session: AsyncSession, teacher_id: int | None) -> int | None:
    if teacher_id is None:
        return None
    return await session.scalar(select(Teacher.user_id).where(Teacher.id == teacher_id))
