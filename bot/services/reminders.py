"""Reminders: which pushes are due at a given moment, derived from the database alone.

Each function looks at `now`, finds what is due (a test that opened, a test closing within the
hour, a calendar milestone today or tomorrow, a class within someone's chosen lead time, the
morning digest) and queues it through `notify`/`notify_many` with a deterministic dedupe key.
Running a function twice, or again after a restart, queues nothing twice; a reminder that fell
due while the scheduler was down is queued by the next run as long as it is still useful (a
bounded look-back), and only once.

Only people who can receive a push are considered: an account bound to a Telegram chat and not
blocked by the administration.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.quiet import in_quiet_hours
from bot.services import messaging, timetable
from bot.services import testing as testing_svc
from bot.services.notify import NoticeKind, notify, notify_many
from db.models import Group, Student, Teacher, User
from db.models.academic import AcademicCalendar, CalendarEvent, CalendarEventKind, ClassKind
from db.models.delivery import Delivery, NotificationSettings
from db.models.testing import Attempt, OnlineTest, OnlineTestTarget

# A test that opened while the scheduler was down is still announced if it opened this recently
# (and is still open).
OPENING_LOOKBACK = timedelta(hours=24)
# Students who have not started a test are reminded this long before it closes.
CLOSING_LEAD = timedelta(hours=1)
# Calendar reminders go out from this local hour, so nobody is woken at midnight by a
# "tomorrow" notice even with quiet hours off.
CALENDAR_AT = time(9, 0)
# ...and until this hour: a "tomorrow" notice held overnight would arrive on the day itself.
CALENDAR_UNTIL = time(21, 0)
# The morning digest: from DIGEST_AT; a digest missed until DIGEST_UNTIL is no longer sent.
DIGEST_AT = time(8, 0)
DIGEST_UNTIL = time(12, 0)
CLASS_LEAD_CHOICES = (10, 15, 30, 60)
DIGEST_CHUNK = 200


class Milestone:
    """What a calendar reminder is about (params["m"])."""

    opens = "opens"
    closes = "closes"
    deadline = "deadline"
    starts = "starts"


# Which events are reminded, and which of their dates matter.
CALENDAR_KINDS: dict[CalendarEventKind, tuple[str, ...]] = {
    CalendarEventKind.registration: (Milestone.opens, Milestone.closes),
    CalendarEventKind.add_drop: (Milestone.deadline,),
    CalendarEventKind.midterm: (Milestone.starts,),
    CalendarEventKind.session: (Milestone.starts,),
    CalendarEventKind.practice: (Milestone.starts,),
}


def _reachable() -> Any:
    return and_(User.telegram_id.is_not(None), User.is_blocked.is_(False))


def _studying() -> Any:
    """Not a student, or a student still studying (no reminders on academic leave)."""
    return or_(Student.id.is_(None), Student.status == "active")


def names(obj: Any) -> dict[str, str]:
    return {"kk": obj.name_kk, "ru": obj.name_ru, "en": obj.name_en}


def milestones(event: CalendarEvent) -> list[tuple[str, date]]:
    kinds = CALENDAR_KINDS.get(CalendarEventKind(event.kind), ())
    found: list[tuple[str, date]] = []
    for milestone in kinds:
        if milestone == Milestone.closes:
            # A one-day registration is announced once, as opening.
            if event.ends_on > event.starts_on:
                found.append((milestone, event.ends_on))
        elif milestone == Milestone.deadline:
            found.append((milestone, event.ends_on))
        else:
            found.append((milestone, event.starts_on))
    return found


# ---- tests ------------------------------------------------------------------------------------


async def _students_without_attempt(session: AsyncSession, test_id: int) -> list[int]:
    """Accounts of the assigned students who have not started the test at all."""
    group_ids = select(OnlineTestTarget.group_id).where(
        OnlineTestTarget.test_id == test_id, OnlineTestTarget.group_id.is_not(None)
    )
    student_ids = select(OnlineTestTarget.student_id).where(
        OnlineTestTarget.test_id == test_id, OnlineTestTarget.student_id.is_not(None)
    )
    started = exists().where(Attempt.test_id == test_id, Attempt.student_id == Student.id)
    return list(
        await session.scalars(
            select(Student.user_id)
            .join(User, User.id == Student.user_id)
            .where(
                or_(Student.group_id.in_(group_ids), Student.id.in_(student_ids)),
                ~started,
                _reachable(),
                _studying(),
            )
            .distinct()
            .order_by(Student.user_id)
        )
    )


def test_window_params(test: OnlineTest, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "test_id": test.id,
        "name": test.name,
        "discipline": names(test.discipline),
        "opens_at": test.opens_at.isoformat(),
        "closes_at": test.closes_at.isoformat(),
        "minutes": test.time_limit_minutes,
        "tz": tz.key,
    }


async def queue_test_reminders(session: AsyncSession, now: datetime, tz: ZoneInfo) -> int:
    """Tell the assigned students a test has opened; an hour before it closes, remind those who
    have not started it (urgent: a test deadline passes through quiet hours)."""
    queued = 0
    opened = await session.scalars(
        select(OnlineTest)
        .where(
            OnlineTest.opens_at <= now,
            OnlineTest.opens_at > now - OPENING_LOOKBACK,
            OnlineTest.closes_at > now,
        )
        .order_by(OnlineTest.id)
    )
    for test in list(opened):
        # A test created already open was announced by its assignment notice.
        if test.opens_at <= test.created_at:
            continue
        users = await _students_without_attempt(session, test.id)
        if not users:
            continue
        await session.refresh(test, ["discipline"])
        queued += await notify_many(
            session,
            user_ids=users,
            kind=NoticeKind.tests,
            template="reminders.test_opened",
            params=test_window_params(test, tz),
            now=now,
            ref_type="online_test",
            ref_id=test.id,
            dedupe_prefix=f"rem:topen:{test.id}",
        )
    closing = await session.scalars(
        select(OnlineTest)
        .where(
            OnlineTest.closes_at > now,
            OnlineTest.closes_at <= now + CLOSING_LEAD,
            OnlineTest.opens_at <= now,
        )
        .order_by(OnlineTest.id)
    )
    for test in list(closing):
        # A window of an hour or less: the opening notice already said when it closes.
        if test.closes_at - test.opens_at <= CLOSING_LEAD:
            continue
        users = await _students_without_attempt(session, test.id)
        if not users:
            continue
        await session.refresh(test, ["discipline"])
        queued += await notify_many(
            session,
            user_ids=users,
            kind=NoticeKind.tests,
            template="reminders.test_closing",
            params=test_window_params(test, tz),
            now=now,
            ref_type="online_test",
            ref_id=test.id,
            dedupe_prefix=f"rem:tclose:{test.id}",
        )
    return queued


# ---- academic calendar ------------------------------------------------------------------------


def _matches(calendar: AcademicCalendar, group: Group) -> bool:
    return (
        (calendar.programme_id is None or calendar.programme_id == group.programme_id)
        and (calendar.course is None or calendar.course == group.course)
        and (calendar.study_form_id is None or calendar.study_form_id == group.study_form_id)
    )


def _specificity(calendar: AcademicCalendar) -> int:
    return sum(
        value is not None
        for value in (calendar.programme_id, calendar.course, calendar.study_form_id)
    )


async def calendar_of_groups(session: AsyncSession, academic_year: str) -> dict[int, int]:
    """group id -> the id of its calendar in the academic year: the matching calendar with the
    most criteria filled in, the oldest on a tie (as `academic_calendar.calendar_for_student`)."""
    calendars = list(
        await session.scalars(
            select(AcademicCalendar)
            .where(AcademicCalendar.academic_year == academic_year)
            .order_by(AcademicCalendar.id)
        )
    )
    if not calendars:
        return {}
    chosen: dict[int, int] = {}
    for group in await session.scalars(select(Group)):
        best: AcademicCalendar | None = None
        for calendar in calendars:
            if _matches(calendar, group) and (
                best is None or _specificity(calendar) > _specificity(best)
            ):
                best = calendar
        if best is not None:
            chosen[group.id] = best.id
    return chosen


async def _users_of_groups(
    session: AsyncSession, group_ids: Iterable[int], local: datetime
) -> list[int]:
    """Reachable students of the groups who are not in their quiet hours at `local` (they are
    picked up by a later run of the day, once their quiet hours are over)."""
    ids = list(group_ids)
    if not ids:
        return []
    rows = await session.execute(
        select(
            Student.user_id,
            NotificationSettings.quiet_enabled,
            NotificationSettings.quiet_start,
            NotificationSettings.quiet_end,
        )
        .join(User, User.id == Student.user_id)
        .outerjoin(NotificationSettings, NotificationSettings.user_id == User.id)
        .where(Student.group_id.in_(ids), _reachable(), _studying())
        .order_by(Student.user_id)
    )
    minutes = local.hour * 60 + local.minute
    return [
        uid
        for uid, enabled, start, end in rows
        if enabled is False
        or not in_quiet_hours(
            minutes, 22 * 60 if start is None else start, 8 * 60 if end is None else end
        )
    ]


async def queue_calendar_reminders(session: AsyncSession, now: datetime, tz: ZoneInfo) -> int:
    """The day before and on the day of each milestone of a student's own calendar
    (registration opens and closes, the add/drop deadline, midterm weeks, the session, a
    practice), between CALENDAR_AT and CALENDAR_UNTIL local time, to each student outside
    their quiet hours; a run missed in the morning is caught up later that day, once."""
    local = now.astimezone(tz)
    if not CALENDAR_AT <= local.time() < CALENDAR_UNTIL:
        return 0
    today = local.date()
    tomorrow = today + timedelta(days=1)
    days = (today, tomorrow)
    events = list(
        await session.scalars(
            select(CalendarEvent)
            .where(
                CalendarEvent.kind.in_(list(CALENDAR_KINDS)),
                or_(CalendarEvent.starts_on.in_(days), CalendarEvent.ends_on.in_(days)),
            )
            .order_by(CalendarEvent.id)
        )
    )
    if not events:
        return 0
    years = {
        calendar_id: year
        for calendar_id, year in await session.execute(
            select(AcademicCalendar.id, AcademicCalendar.academic_year).where(
                AcademicCalendar.id.in_({e.calendar_id for e in events})
            )
        )
    }
    by_year = {year: await calendar_of_groups(session, year) for year in set(years.values())}
    queued = 0
    for event in events:
        group_calendar = by_year.get(years.get(event.calendar_id, ""), {})
        groups = [g for g, c in group_calendar.items() if c == event.calendar_id]
        for milestone, on_date in milestones(event):
            if on_date not in days:
                continue
            when = "day" if on_date == today else "before"
            users = await _users_of_groups(session, groups, local)
            if not users:
                continue
            queued += await notify_many(
                session,
                user_ids=users,
                kind=NoticeKind.calendar,
                template="reminders.calendar",
                params={
                    "event_id": event.id,
                    "kind": CalendarEventKind(event.kind).value,
                    "name": names(event),
                    "m": milestone,
                    "when": when,
                    "date": on_date.isoformat(),
                    "starts_on": event.starts_on.isoformat(),
                    "ends_on": event.ends_on.isoformat(),
                },
                now=now,
                ref_type="calendar_event",
                ref_id=event.id,
                dedupe_prefix=f"rem:cal:{event.id}:{milestone}:{on_date.isoformat()}:{when}",
            )
    return queued


# ---- classes ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Subscriber:
    user_id: int
    minutes: int
    group_id: int | None
    teacher_id: int | None
    quiet: tuple[bool, int, int]

    def is_quiet(self, local: datetime) -> bool:
        enabled, start, end = self.quiet
        return enabled and in_quiet_hours(local.hour * 60 + local.minute, start, end)


def class_params(item: timetable.ClassItem, minutes: int, *, for_teacher: bool) -> dict[str, Any]:
    slot = item.slot
    return {
        "slot_id": slot.id,
        "date": item.on_date.isoformat(),
        "starts": slot.starts_at.strftime("%H:%M"),
        "ends": slot.ends_at.strftime("%H:%M"),
        "discipline": names(slot.discipline),
        "kind": ClassKind(slot.kind).value,
        "room": slot.room,
        "group": slot.group.code if for_teacher else None,
        "minutes": minutes,
    }


async def queue_class_reminders(session: AsyncSession, now: datetime, tz: ZoneInfo) -> int:
    """A reminder `class_reminder_minutes` before each class (odd/even weeks respected) for
    students and teachers who chose one. Queued from that moment until the class starts, never
    after it (a late "your class starts soon" is noise), and not while the person's quiet
    hours are on: held until morning it would arrive after the class."""
    rows = await session.execute(
        select(
            NotificationSettings.user_id,
            NotificationSettings.class_reminder_minutes,
            NotificationSettings.quiet_enabled,
            NotificationSettings.quiet_start,
            NotificationSettings.quiet_end,
            Student.group_id,
            Teacher.id,
        )
        .join(User, User.id == NotificationSettings.user_id)
        .outerjoin(Student, Student.user_id == User.id)
        .outerjoin(Teacher, Teacher.user_id == User.id)
        .where(NotificationSettings.class_reminder_minutes.is_not(None), _reachable(), _studying())
        .order_by(NotificationSettings.user_id)
    )
    subscribers = [
        _Subscriber(uid, minutes, group_id, teacher_id, (bool(q), int(qs), int(qe)))
        for uid, minutes, q, qs, qe, group_id, teacher_id in rows
        if minutes and minutes > 0 and (group_id is not None or teacher_id is not None)
    ]
    if not subscribers:
        return 0
    local_now = now.astimezone(tz)
    horizon = now + timedelta(minutes=max(s.minutes for s in subscribers))
    first, last = local_now.date(), horizon.astimezone(tz).date()
    group_classes: dict[int, list[timetable.ClassItem]] = {}
    teacher_classes: dict[int, list[timetable.ClassItem]] = {}
    items_by_key: dict[tuple[int, str, bool], timetable.ClassItem] = {}
    minutes_by_key: dict[tuple[int, str, bool, int], list[int]] = defaultdict(list)
    for sub in subscribers:
        if sub.is_quiet(local_now):
            continue
        if sub.group_id is not None:
            if sub.group_id not in group_classes:
                days = await timetable.classes_between(session, first, last, group_id=sub.group_id)
                group_classes[sub.group_id] = [i for items in days.values() for i in items]
            items, for_teacher = group_classes[sub.group_id], False
        else:
            assert sub.teacher_id is not None
            if sub.teacher_id not in teacher_classes:
                days = await timetable.classes_between(
                    session, first, last, teacher_id=sub.teacher_id
                )
                teacher_classes[sub.teacher_id] = [i for items in days.values() for i in items]
            items, for_teacher = teacher_classes[sub.teacher_id], True
        for item in items:
            start = datetime.combine(item.on_date, item.slot.starts_at, tzinfo=tz)
            if now < start <= now + timedelta(minutes=sub.minutes):
                key = (item.slot.id, item.on_date.isoformat(), for_teacher)
                items_by_key[key] = item
                minutes_by_key[(*key, sub.minutes)].append(sub.user_id)
    queued = 0
    for (slot_id, on_date, for_teacher, minutes), users in sorted(minutes_by_key.items()):
        item = items_by_key[(slot_id, on_date, for_teacher)]
        queued += await notify_many(
            session,
            user_ids=users,
            kind=NoticeKind.classes,
            template="reminders.class",
            params=class_params(item, minutes, for_teacher=for_teacher),
            now=now,
            ref_type="timetable_slot",
            ref_id=slot_id,
            dedupe_prefix=f"rem:class:{slot_id}:{on_date}",
        )
    return queued


# ---- the morning digest -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Reader:
    user_id: int
    student_id: int | None
    group_id: int | None
    teacher_id: int | None


def _week_end(today: date) -> date:
    return today + timedelta(days=6 - today.weekday())


async def digest_params(
    session: AsyncSession,
    reader: _Reader,
    now: datetime,
    tz: ZoneInfo,
    *,
    calendars: dict[int, int],
    classes_cache: dict[tuple[str, int], list[dict[str, Any]]],
) -> dict[str, Any]:
    """What one person's digest says: today's classes, open tests, unread messages and this
    week's deadlines (calendar milestones and tests closing), as plain values."""
    today = now.astimezone(tz).date()
    week_end = _week_end(today)
    if reader.group_id is not None:
        cache_key = ("g", reader.group_id)
        filters: dict[str, int] = {"group_id": reader.group_id}
    elif reader.teacher_id is not None:
        cache_key = ("t", reader.teacher_id)
        filters = {"teacher_id": reader.teacher_id}
    else:
        cache_key, filters = ("", 0), {}
    classes: list[dict[str, Any]] = []
    if filters:
        if cache_key not in classes_cache:
            days = await timetable.classes_between(session, today, today, **filters)
            classes_cache[cache_key] = [
                class_params(item, 0, for_teacher=reader.teacher_id is not None)
                for item in days.get(today, [])
            ]
        classes = classes_cache[cache_key]
    tests: list[dict[str, Any]] = []
    deadlines: list[dict[str, Any]] = []
    if reader.student_id is not None:
        week_limit = datetime.combine(week_end + timedelta(days=1), time(0), tzinfo=tz)
        for item in await testing_svc.assigned_tests(session, reader.student_id, now):
            state = item.state(now)
            entry = {
                "name": item.test.name,
                "discipline": names(item.test.discipline),
                "closes_at": item.test.closes_at.isoformat(),
            }
            if state in ("open", "in_progress"):
                tests.append(entry)
            elif state == "upcoming" and item.test.closes_at < week_limit:
                local_day = item.test.closes_at.astimezone(tz).date()
                deadlines.append({"type": "test", "date": local_day.isoformat(), **entry})
        calendar_id = calendars.get(reader.group_id) if reader.group_id is not None else None
        if calendar_id is not None:
            events = await session.scalars(
                select(CalendarEvent)
                .where(
                    CalendarEvent.calendar_id == calendar_id,
                    CalendarEvent.kind.in_(list(CALENDAR_KINDS)),
                    CalendarEvent.ends_on >= today,
                    CalendarEvent.starts_on <= week_end,
                )
                .order_by(CalendarEvent.starts_on, CalendarEvent.id)
            )
            for event in events:
                for milestone, on_date in milestones(event):
                    if today <= on_date <= week_end:
                        deadlines.append(
                            {
                                "type": "calendar",
                                "kind": CalendarEventKind(event.kind).value,
                                "name": names(event),
                                "m": milestone,
                                "date": on_date.isoformat(),
                            }
                        )
        deadlines.sort(key=lambda d: d["date"])
    unread = await messaging.unread_counts(session, reader.user_id, now)
    return {
        "date": today.isoformat(),
        "tz": tz.key,
        "classes": classes,
        "tests": tests,
        "unread": {k: v for k, v in unread.items() if v},
        "deadlines": deadlines,
    }


def digest_is_empty(params: dict[str, Any]) -> bool:
    return not (params["classes"] or params["tests"] or params["unread"] or params["deadlines"])


async def digest_readers(session: AsyncSession, day: date) -> list[_Reader]:
    """People who asked for the digest and have not had today's yet."""
    prefix = f"rem:digest:{day.isoformat()}:"
    done = {
        key
        for key in await session.scalars(
            select(Delivery.dedupe_key).where(Delivery.dedupe_key.like(f"{prefix}%"))
        )
    }
    rows = await session.execute(
        select(User.id, Student.id, Student.group_id, Teacher.id)
        .join(NotificationSettings, NotificationSettings.user_id == User.id)
        .outerjoin(Student, Student.user_id == User.id)
        .outerjoin(Teacher, Teacher.user_id == User.id)
        .where(NotificationSettings.digest_enabled.is_(True), _reachable(), _studying())
        .order_by(User.id)
    )
    return [
        _Reader(uid, sid, gid, tid)
        for uid, sid, gid, tid in rows
        if f"{prefix}{uid}" not in done and (sid is not None or tid is not None)
    ]


async def queue_digests(
    session: AsyncSession,
    readers: list[_Reader],
    now: datetime,
    tz: ZoneInfo,
    *,
    calendars: dict[int, int],
    classes_cache: dict[tuple[str, int], list[dict[str, Any]]],
) -> int:
    """Queue today's digest for each reader; an empty digest (nothing today, nothing due this
    week, nothing unread) is not sent."""
    today = now.astimezone(tz).date()
    queued = 0
    for reader in readers:
        params = await digest_params(
            session, reader, now, tz, calendars=calendars, classes_cache=classes_cache
        )
        if digest_is_empty(params):
            continue
        queued += await notify(
            session,
            user_id=reader.user_id,
            kind=NoticeKind.digest,
            template="reminders.digest",
            params=params,
            now=now,
            dedupe_key=f"rem:digest:{today.isoformat()}:{reader.user_id}",
        )
    return queued


def digest_due(now: datetime, tz: ZoneInfo) -> bool:
    return DIGEST_AT <= now.astimezone(tz).time() < DIGEST_UNTIL


# ---- a person's choices -----------------------------------------------------------------------

# The kinds a person switches on and off in the list; `classes` and `digest` have their own
# settings (a lead time, a toggle) and `account` cannot be switched off.
SWITCHABLE_KINDS: tuple[NoticeKind, ...] = (
    NoticeKind.grades,
    NoticeKind.tests,
    NoticeKind.appeals,
    NoticeKind.calendar,
    NoticeKind.letters,
    NoticeKind.tasks,
    NoticeKind.announcements,
    NoticeKind.classroom,
    NoticeKind.services,
    NoticeKind.attendance,
)


@dataclass(frozen=True, slots=True)
class Preferences:
    disabled: frozenset[str]
    quiet_enabled: bool
    quiet_start: int
    quiet_end: int
    class_minutes: int | None
    digest: bool


DEFAULT_PREFERENCES = Preferences(frozenset(), True, 22 * 60, 8 * 60, None, False)


def _as_preferences(row: NotificationSettings | None) -> Preferences:
    if row is None:
        return DEFAULT_PREFERENCES
    return Preferences(
        disabled=frozenset(row.disabled_kinds or ()),
        quiet_enabled=bool(row.quiet_enabled),
        quiet_start=int(row.quiet_start),
        quiet_end=int(row.quiet_end),
        class_minutes=row.class_reminder_minutes,
        digest=bool(row.digest_enabled),
    )


async def preferences(session: AsyncSession, user_id: int) -> Preferences:
    return _as_preferences(await session.get(NotificationSettings, user_id))


async def _row(session: AsyncSession, user_id: int) -> NotificationSettings:
    row = await session.get(NotificationSettings, user_id)
    if row is not None:
        return row
    d = DEFAULT_PREFERENCES
    row = NotificationSettings(
        user_id=user_id,
        disabled_kinds=[],
        quiet_enabled=d.quiet_enabled,
        quiet_start=d.quiet_start,
        quiet_end=d.quiet_end,
        class_reminder_minutes=None,
        digest_enabled=False,
    )
    # Two taps racing to create the row (possible on PostgreSQL): the loser reads the winner's.
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        existing = await session.get(NotificationSettings, user_id)
        if existing is None:
            raise
        return existing
    return row


class PreferenceError(ValueError):
    """A value no screen offers (a forged button)."""


async def set_kind(
    session: AsyncSession, user_id: int, kind: NoticeKind, enabled: bool
) -> Preferences:
    if kind not in SWITCHABLE_KINDS:
        raise PreferenceError(kind)
    row = await _row(session, user_id)
    disabled = set(row.disabled_kinds or ())
    if enabled:
        disabled.discard(kind.value)
    else:
        disabled.add(kind.value)
    # A new list object: JSON columns notice assignment, not in-place changes.
    row.disabled_kinds = sorted(disabled)
    return _as_preferences(row)


async def set_class_minutes(
    session: AsyncSession, user_id: int, minutes: int | None
) -> Preferences:
    if minutes is not None and minutes not in CLASS_LEAD_CHOICES:
        raise PreferenceError(minutes)
    row = await _row(session, user_id)
    row.class_reminder_minutes = minutes
    if minutes is not None:
        row.disabled_kinds = sorted(set(row.disabled_kinds or ()) - {NoticeKind.classes.value})
    return _as_preferences(row)


async def set_digest(session: AsyncSession, user_id: int, enabled: bool) -> Preferences:
    row = await _row(session, user_id)
    row.digest_enabled = enabled
    if enabled:
        row.disabled_kinds = sorted(set(row.disabled_kinds or ()) - {NoticeKind.digest.value})
    return _as_preferences(row)


async def set_quiet(
    session: AsyncSession,
    user_id: int,
    *,
    enabled: bool | None = None,
    start_hour: int | None = None,
    end_hour: int | None = None,
) -> Preferences:
    """Quiet hours on/off and their bounds (whole hours); start and end must differ."""
    for hour in (start_hour, end_hour):
        if hour is not None and not 0 <= hour <= 23:
            raise PreferenceError(hour)
    row = await _row(session, user_id)
    start = row.quiet_start if start_hour is None else start_hour * 60
    end = row.quiet_end if end_hour is None else end_hour * 60
    if start == end:
        raise PreferenceError("empty quiet period")
    row.quiet_start, row.quiet_end = start, end
    if enabled is not None:
        row.quiet_enabled = enabled
    return _as_preferences(row)
