"""Messages (§8): who may write to whom, composing and sending, mailboxes, tasks and expiry.

Recipients are chosen as targets (a person, a group, a faculty, ...); they are resolved to people
on the server at send time, with the sender's rights checked again, so a forged target never
reaches anyone. Each recipient gets a row (read receipt, task status) and one push through the
durable outbox.

Who teaches whom: a teacher teaches a group when a timetable slot or an enrolment links them.
A teacher with no such record at all (the timetable is not loaded yet) may address any group, and
a student whose group has no such record may write to any teacher: nobody is locked out by
missing data, and the rule tightens by itself once the timetable exists.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from sqlalchemy import Select, and_, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.auth import Viewer
from bot.services.errors import DomainError
from bot.services.notify import NoticeKind, notify, notify_many
from db.models import Faculty, Group, Programme, Role, Student, StudyForm, Teacher, User
from db.models.academic import Enrolment, TimetableSlot
from db.models.delivery import Delivery, DeliveryStatus
from db.models.messaging import (
    Message,
    MessageAttachment,
    MessageKind,
    MessageRecipient,
    TaskState,
    TaskStatus,
)

SUBJECT_MAX = 200
BODY_MAX = 4000
REPLY_MAX = 1000
ATTACHMENTS_MAX = 10
EXPIRY_MAX_DAYS = 30
TARGETS_MAX = 20
SEARCH_LIMIT = 10
REF_TYPE = "message"
TEMPLATE_NEW = "messages.new"
TEMPLATE_DONE = "messages.broadcast_done"
_CHUNK = 500

NOTICE_KIND = {
    MessageKind.letter: NoticeKind.letters,
    MessageKind.task: NoticeKind.tasks,
    MessageKind.announcement: NoticeKind.announcements,
}


class Target(enum.StrEnum):
    """A kind of recipient (§8.3); the value goes into callback data, so it is short."""

    person = "u"
    everyone = "all"
    teachers = "tch"
    students = "stu"
    faculty = "fac"
    programme = "prg"
    course = "crs"
    stream = "str"
    group = "grp"
    form = "frm"


# Targets that need no choice from a list.
WHOLE_TARGETS = frozenset({Target.everyone, Target.teachers, Target.students})
_BROADCAST = (
    Target.everyone,
    Target.teachers,
    Target.students,
    Target.faculty,
    Target.programme,
    Target.course,
    Target.stream,
    Target.group,
    Target.form,
)


def allowed_kinds(role: Role) -> tuple[MessageKind, ...]:
    if role in (Role.staff, Role.admin):
        return (MessageKind.letter, MessageKind.task, MessageKind.announcement)
    if role == Role.teacher:
        return (MessageKind.letter, MessageKind.task)
    return (MessageKind.letter,)


def allowed_targets(role: Role, kind: MessageKind) -> tuple[Target, ...]:
    if kind not in allowed_kinds(role):
        return ()
    if role in (Role.staff, Role.admin):
        if kind == MessageKind.announcement:
            return _BROADCAST
        return (Target.person, *_BROADCAST)
    if role == Role.teacher:
        return (Target.person, Target.group, Target.stream)
    return (Target.person, Target.group)


def stream_ref(programme_id: int, course: int) -> int:
    """A lecture stream: every group of one programme in one year of study."""
    return programme_id * 10 + course


def split_stream(ref: int) -> tuple[int, int]:
    return ref // 10, ref % 10


# ---- refusals --------------------------------------------------------------------------------


def _refuse(code: str, message: Any) -> DomainError:
    return DomainError(code, message)


def not_available() -> DomainError:
    return _refuse("not_available", lambda: _("This message is not available."))


# ---- checking what the sender typed ----------------------------------------------------------


def check_subject(text: str | None) -> str:
    subject = " ".join((text or "").split())
    if not subject:
        raise _refuse("subject_empty", lambda: _("The subject is mandatory. Type the subject:"))
    if len(subject) > SUBJECT_MAX:
        raise _refuse(
            "subject_long",
            lambda: _("The subject is too long: at most {n} characters.").format(n=SUBJECT_MAX),
        )
    return subject


def check_body(text: str | None) -> str:
    body = (text or "").strip()
    if len(body) > BODY_MAX:
        raise _refuse(
            "body_long",
            lambda: _(
                "The text is too long: {length} characters, at most {n} are allowed. "
                "Shorten it or attach it as a document."
            ).format(length=len(body), n=BODY_MAX),
        )
    return body


def check_reply(text: str | None) -> str:
    reply = (text or "").strip()
    if not reply:
        raise _refuse("reply_empty", lambda: _("Type the reply as a text message."))
    if len(reply) > REPLY_MAX:
        raise _refuse(
            "reply_long",
            lambda: _("The reply is too long: at most {n} characters.").format(n=REPLY_MAX),
        )
    return reply


def local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def latest_expiry(now: datetime, tz: ZoneInfo) -> date:
    return local_today(now, tz) + timedelta(days=EXPIRY_MAX_DAYS)


def expiry_moment(expires_on: date, tz: ZoneInfo) -> datetime:
    """A message is readable through the whole of its expiry day, in the university's time."""
    return datetime.combine(expires_on + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)


def last_day(expires_at: datetime, tz: ZoneInfo) -> date:
    """The last local day on which a message is still readable."""
    return (expires_at - timedelta(microseconds=1)).astimezone(tz).date()


_DATE_FORMATS = ("%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y")


def parse_expiry(text: str, now: datetime, tz: ZoneInfo) -> date:
    """A typed expiry: a date (25.12.2026, 2026-12-25) or a number of days from today."""
    raw = (text or "").strip()
    today = local_today(now, tz)
    value: date | None = None
    if raw.isdigit() and len(raw) <= 3:
        value = today + timedelta(days=int(raw))
    else:
        for fmt in _DATE_FORMATS:
            try:
                value = datetime.strptime(raw, fmt).date()
                break
            except ValueError:
                continue
    if value is None:
        raise _refuse(
            "expiry_format",
            lambda: _(
                "I could not read this date. Type it as DD.MM.YYYY (for example {example}) "
                "or as a number of days."
            ).format(example=(today + timedelta(days=7)).strftime("%d.%m.%Y")),
        )
    return check_expiry(value, now, tz)


def check_expiry(value: date, now: datetime, tz: ZoneInfo) -> date:
    today = local_today(now, tz)
    last = latest_expiry(now, tz)
    if value < today:
        raise _refuse(
            "expiry_past", lambda: _("The expiry date cannot be in the past. Choose another date.")
        )
    if value > last:
        raise _refuse(
            "expiry_far",
            lambda: _(
                "A message can be kept at most {n} days: choose a date no later than {date}."
            ).format(n=EXPIRY_MAX_DAYS, date=last.strftime("%d.%m.%Y")),
        )
    return value


# ---- who is who ------------------------------------------------------------------------------


async def _taught_group_ids(session: AsyncSession, teacher_id: int | None) -> set[int] | None:
    """Groups the teacher teaches; None when there is no teaching record for them at all."""
    if teacher_id is None:
        return None
    ids = set(
        await session.scalars(
            select(TimetableSlot.group_id).where(TimetableSlot.teacher_id == teacher_id)
        )
    )
    ids.update(
        await session.scalars(
            select(Student.group_id)
            .join(Enrolment, Enrolment.student_id == Student.id)
            .where(Enrolment.teacher_id == teacher_id)
        )
    )
    return ids or None


async def _student_group_id(session: AsyncSession, student_id: int | None) -> int | None:
    if student_id is None:
        return None
    return await session.scalar(select(Student.group_id).where(Student.id == student_id))


async def _student_contacts(session: AsyncSession, viewer: Viewer, now: datetime) -> set[int]:
    """The people a student may write to: their teachers, group-mates, and anyone who sent
    them a letter or a task (so it can always be answered; an announcement does not count)."""
    group_id = await _student_group_id(session, viewer.student_id)
    contacts: set[int] = set()
    if group_id is not None:
        contacts.update(
            await session.scalars(
                select(Student.user_id).where(
                    Student.group_id == group_id, Student.status == "active"
                )
            )
        )
        teacher_ids = set(
            await session.scalars(
                select(TimetableSlot.teacher_id).where(
                    TimetableSlot.group_id == group_id, TimetableSlot.teacher_id.is_not(None)
                )
            )
        )
        teacher_ids.update(
            await session.scalars(
                select(Enrolment.teacher_id).where(
                    Enrolment.student_id == viewer.student_id, Enrolment.teacher_id.is_not(None)
                )
            )
        )
        advisor = await session.scalar(
            select(Student.advisor_id).where(Student.id == viewer.student_id)
        )
        has_timetable = bool(teacher_ids)
        if advisor is not None:
            teacher_ids.add(advisor)
        if has_timetable:
            contacts.update(
                await session.scalars(select(Teacher.user_id).where(Teacher.id.in_(teacher_ids)))
            )
        else:
            contacts.update(
                await session.scalars(select(User.id).where(User.role == Role.teacher))
            )
    else:
        contacts.update(await session.scalars(select(User.id).where(User.role == Role.teacher)))
    contacts.update(
        await session.scalars(
            select(Message.sender_id)
            .join(MessageRecipient, MessageRecipient.message_id == Message.id)
            .where(
                MessageRecipient.user_id == viewer.user_id,
                Message.kind != MessageKind.announcement,
                Message.expires_at > now,
            )
        )
    )
    contacts.discard(viewer.user_id)
    return contacts


def _active_users() -> Any:
    return User.is_blocked.is_(False)


def person_label(user: User, group_code: str | None) -> str:
    name = user.full_name or user.login
    return f"{name} · {group_code}" if group_code else name


async def _people_labels(
    session: AsyncSession, query: Select[Any], limit: int | None = None, offset: int = 0
) -> list[tuple[int, str]]:
    query = query.order_by(User.last_name, User.first_name, User.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    rows = await session.execute(query)
    return [(user.id, person_label(user, code)) for user, code in rows]


def _people_query() -> Select[Any]:
    return (
        select(User, Group.code)
        .outerjoin(Student, Student.user_id == User.id)
        .outerjoin(Group, Group.id == Student.group_id)
        .where(_active_users())
    )


def _like_variants(word: str) -> set[str]:
    return {word, word.lower(), word.upper(), word.capitalize()}


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_people(
    session: AsyncSession, viewer: Viewer, text: str, now: datetime, limit: int = SEARCH_LIMIT
) -> list[tuple[int, str]]:
    """People found by name or login, case-insensitively in any alphabet, whom the viewer may
    write to.

    SQLite folds case for Latin letters only, so the query is matched in its usual spellings
    (as typed, lower, upper, capitalised) and the candidates are confirmed in Python.
    """
    words = [w for w in (text or "").split() if w][:4]
    words = [w[:64] for w in words]
    if not words:
        return []
    columns = (User.last_name, User.first_name, User.middle_name, User.login)
    query = _people_query().where(User.id != viewer.user_id)
    for word in words:
        patterns = [f"%{_escape_like(v)}%" for v in _like_variants(word)]
        query = query.where(
            or_(*(column.like(p, escape="\\") for column in columns for p in patterns))
        )
    if viewer.role == Role.student:
        allowed = await _student_contacts(session, viewer, now)
        query = query.where(User.id.in_(allowed or {-1}))
    rows = await session.execute(query.order_by(User.last_name, User.first_name).limit(200))
    found: list[tuple[int, str]] = []
    folded = [w.casefold() for w in words]
    for user, code in rows:
        haystack = " ".join(
            p for p in (user.last_name, user.first_name, user.middle_name or "", user.login)
        ).casefold()
        if all(w in haystack for w in folded):
            found.append((user.id, person_label(user, code)))
        if len(found) >= limit:
            break
    return found


# ---- the lists to choose from ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Option:
    ref: int
    label: str


async def target_options(
    session: AsyncSession,
    viewer: Viewer,
    target: Target,
    locale: str,
    now: datetime,
    page: int = 0,
    per_page: int = 10,
) -> tuple[list[Option], int]:
    """One page of the things a target can be (groups, faculties...) and the total count."""
    options: list[Option]
    if target == Target.person:
        if viewer.role != Role.student:
            return [], 0
        allowed = await _student_contacts(session, viewer, now)
        people = await _people_labels(session, _people_query().where(User.id.in_(allowed or {-1})))
        options = [Option(uid, label) for uid, label in people]
    elif target == Target.group:
        query = select(Group).order_by(Group.code)
        if viewer.role == Role.student:
            query = query.where(Group.id == (await _student_group_id(session, viewer.student_id)))
        elif viewer.role == Role.teacher:
            taught = await _taught_group_ids(session, viewer.teacher_id)
            if taught is not None:
                query = query.where(Group.id.in_(taught))
        options = [Option(g.id, g.code) for g in await session.scalars(query)]
    elif target == Target.faculty:
        rows = await session.scalars(select(Faculty).order_by(Faculty.code))
        options = [Option(f.id, f.name(locale)) for f in rows]
    elif target == Target.programme:
        rows = await session.scalars(select(Programme).order_by(Programme.code))
        options = [Option(p.id, f"{p.code} {p.name(locale)}") for p in rows]
    elif target == Target.form:
        rows = await session.scalars(select(StudyForm).order_by(StudyForm.id))
        options = [Option(f.id, f.name(locale)) for f in rows]
    elif target == Target.course:
        courses = await session.scalars(select(Group.course).distinct().order_by(Group.course))
        options = [Option(c, str(c)) for c in courses]
    elif target == Target.stream:
        query = (
            select(Programme, Group.course)
            .join(Group, Group.programme_id == Programme.id)
            .distinct()
            .order_by(Programme.code, Group.course)
        )
        if viewer.role == Role.teacher:
            taught = await _taught_group_ids(session, viewer.teacher_id)
            if taught is not None:
                query = query.where(Group.id.in_(taught))
        options = [
            Option(stream_ref(p.id, course), f"{p.code} {p.name(locale)} · {course}")
            for p, course in await session.execute(query)
        ]
    else:
        options = []
    total = len(options)
    return options[page * per_page : (page + 1) * per_page], total


async def check_target(
    session: AsyncSession,
    viewer: Viewer,
    kind: MessageKind,
    target: Target,
    ref: int,
    now: datetime,
) -> None:
    """Raise unless the viewer may address this target with this kind of message."""
    if target not in allowed_targets(viewer.role, kind):
        raise _refuse(
            "target_role", lambda: _("You cannot send this kind of message to these recipients.")
        )
    if target in WHOLE_TARGETS:
        if ref != 0:
            raise _refuse("target_missing", lambda: _("These recipients no longer exist."))
        return
    exists: object = None
    if target == Target.person:
        exists = await session.scalar(select(User.id).where(User.id == ref, _active_users()))
        if exists is not None and ref == viewer.user_id:
            raise _refuse("target_self", lambda: _("You cannot write to yourself."))
        if exists is not None and viewer.role == Role.student:
            if ref not in await _student_contacts(session, viewer, now):
                raise _refuse(
                    "target_person",
                    lambda: _("Students may write only to their teachers and group-mates."),
                )
    elif target == Target.group:
        exists = await session.scalar(select(Group.id).where(Group.id == ref))
        if exists is not None and viewer.role == Role.student:
            if ref != await _student_group_id(session, viewer.student_id):
                raise _refuse(
                    "target_group", lambda: _("Students may write only to their own group.")
                )
        if exists is not None and viewer.role == Role.teacher:
            taught = await _taught_group_ids(session, viewer.teacher_id)
            if taught is not None and ref not in taught:
                raise _refuse(
                    "target_group", lambda: _("You can write only to the groups you teach.")
                )
    elif target == Target.stream:
        programme_id, course = split_stream(ref)
        query = select(Group.id).where(Group.programme_id == programme_id, Group.course == course)
        groups = set(await session.scalars(query))
        exists = groups or None
        if groups and viewer.role == Role.teacher:
            taught = await _taught_group_ids(session, viewer.teacher_id)
            if taught is not None and not groups & taught:
                raise _refuse(
                    "target_group", lambda: _("You can write only to the groups you teach.")
                )
    elif target == Target.faculty:
        exists = await session.get(Faculty, ref)
    elif target == Target.programme:
        exists = await session.get(Programme, ref)
    elif target == Target.form:
        exists = await session.get(StudyForm, ref)
    elif target == Target.course:
        exists = await session.scalar(select(Group.id).where(Group.course == ref).limit(1))
    if exists is None:
        raise _refuse("target_missing", lambda: _("These recipients no longer exist."))


def _students_of(condition: Any) -> Select[Any]:
    return (
        select(Student.user_id)
        .join(User, User.id == Student.user_id)
        .join(Group, Group.id == Student.group_id)
        .join(Programme, Programme.id == Group.programme_id)
        .where(condition, Student.status == "active", _active_users())
    )


def _target_query(target: Target, ref: int) -> Select[Any]:
    if target == Target.person:
        return select(User.id).where(User.id == ref, _active_users())
    if target == Target.everyone:
        return select(User.id).where(_active_users())
    if target == Target.teachers:
        return select(User.id).where(User.role == Role.teacher, _active_users())
    if target == Target.students:
        return _students_of(True)
    if target == Target.faculty:
        return _students_of(Programme.faculty_id == ref)
    if target == Target.programme:
        return _students_of(Group.programme_id == ref)
    if target == Target.course:
        return _students_of(Group.course == ref)
    if target == Target.group:
        return _students_of(Group.id == ref)
    if target == Target.form:
        return _students_of(Group.study_form_id == ref)
    programme_id, course = split_stream(ref)
    return _students_of(and_(Group.programme_id == programme_id, Group.course == course))


async def resolve_recipients(
    session: AsyncSession,
    viewer: Viewer,
    kind: MessageKind,
    targets: Iterable[tuple[str, int]],
    now: datetime,
) -> list[int]:
    """Every person the targets reach (the sender excluded), after checking each target."""
    people: dict[int, None] = {}
    for raw_target, ref in targets:
        try:
            target = Target(raw_target)
        except ValueError:
            raise _refuse(
                "target_missing", lambda: _("These recipients no longer exist.")
            ) from None
        await check_target(session, viewer, kind, target, int(ref), now)
        for uid in await session.scalars(_target_query(target, int(ref))):
            people.setdefault(uid, None)
    people.pop(viewer.user_id, None)
    return list(people)


async def target_label(session: AsyncSession, target: Target, ref: int, locale: str) -> str:
    """The name of one chosen target (a group code, a faculty name...), without its kind."""
    if target == Target.person:
        row = (await session.execute(_people_query().where(User.id == ref))).first()
        return person_label(row[0], row[1]) if row else "—"
    if target == Target.group:
        return await session.scalar(select(Group.code).where(Group.id == ref)) or "—"
    if target == Target.faculty:
        faculty = await session.get(Faculty, ref)
        return faculty.name(locale) if faculty else "—"
    if target == Target.programme:
        programme = await session.get(Programme, ref)
        return f"{programme.code} {programme.name(locale)}" if programme else "—"
    if target == Target.form:
        form = await session.get(StudyForm, ref)
        return form.name(locale) if form else "—"
    if target == Target.stream:
        programme_id, course = split_stream(ref)
        programme = await session.get(Programme, programme_id)
        return f"{programme.code} {programme.name(locale)} · {course}" if programme else "—"
    if target == Target.course:
        return str(ref)
    return ""


# ---- sending ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Draft:
    """What the composition dialogue collects; JSON-friendly so it can live in FSM storage."""

    kind: MessageKind
    token: str = field(default_factory=lambda: secrets.token_hex(8))
    subject: str = ""
    body: str = ""
    attachments: list[tuple[str, str, str | None]] = field(default_factory=list)
    expires_on: date | None = None
    targets: list[tuple[str, int]] = field(default_factory=list)
    reply_to: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "token": self.token,
            "subject": self.subject,
            "body": self.body,
            "attachments": [list(a) for a in self.attachments],
            "expires_on": self.expires_on.isoformat() if self.expires_on else None,
            "targets": [list(t) for t in self.targets],
            "reply_to": self.reply_to,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Draft:
        expires = data.get("expires_on")
        return cls(
            kind=MessageKind(data["kind"]),
            token=str(data["token"]),
            subject=str(data.get("subject") or ""),
            body=str(data.get("body") or ""),
            attachments=[
                (str(a[0]), str(a[1]), a[2] if a[2] is None else str(a[2]))
                for a in data.get("attachments") or []
            ],
            expires_on=date.fromisoformat(expires) if expires else None,
            targets=[(str(t[0]), int(t[1])) for t in data.get("targets") or []],
            reply_to=data.get("reply_to"),
        )


@dataclass(frozen=True, slots=True)
class Sent:
    message_id: int
    recipients: int
    already: bool = False


async def send_message(
    session: AsyncSession, viewer: Viewer, draft: Draft, now: datetime, tz: ZoneInfo
) -> Sent:
    """Store the message and its recipients and queue one push per recipient.

    Everything is checked again here: the dialogue's checks only spare the sender a surprise.
    Sending the same draft twice (a double tap) returns the first message.
    """
    existing = await session.scalar(
        select(Message).where(
            Message.sender_id == viewer.user_id, Message.draft_token == draft.token
        )
    )
    if existing is not None:
        return Sent(existing.id, existing.recipients_count, already=True)
    if draft.kind not in allowed_kinds(viewer.role):
        if draft.kind == MessageKind.announcement:
            raise _refuse("kind_role", lambda: _("Only staff can publish announcements."))
        raise _refuse("kind_role", lambda: _("Only teachers and staff can assign tasks."))
    subject = check_subject(draft.subject)
    body = check_body(draft.body)
    if draft.expires_on is None:
        raise _refuse("expiry_missing", lambda: _("The expiry date is mandatory."))
    expires_on = check_expiry(draft.expires_on, now, tz)
    if len(draft.attachments) > ATTACHMENTS_MAX:
        raise _refuse(
            "attachments_many",
            lambda: _("At most {n} attachments per message.").format(n=ATTACHMENTS_MAX),
        )
    if not draft.targets:
        raise _refuse("no_targets", lambda: _("Choose at least one recipient."))
    if len(draft.targets) > TARGETS_MAX:
        raise _refuse(
            "targets_many",
            lambda: _("At most {n} recipients can be chosen.").format(n=TARGETS_MAX),
        )
    recipients = await resolve_recipients(session, viewer, draft.kind, draft.targets, now)
    if not recipients:
        raise _refuse("nobody", lambda: _("Nobody matches the chosen recipients."))

    message = Message(
        kind=draft.kind,
        sender_id=viewer.user_id,
        subject=subject,
        body=body,
        audience=[list(t) for t in draft.targets],
        recipients_count=len(recipients),
        task_status=TaskStatus.open if draft.kind == MessageKind.task else None,
        created_at=now,
        expires_at=expiry_moment(expires_on, tz),
        draft_token=draft.token,
    )
    message.attachments = [
        MessageAttachment(position=i, media=media, file_id=file_id, file_name=name)
        for i, (media, file_id, name) in enumerate(draft.attachments)
    ]
    try:
        async with session.begin_nested():
            session.add(message)
    except IntegrityError:
        # The same draft committed by a concurrent tap (PostgreSQL): that one wins.
        existing = await session.scalar(
            select(Message).where(
                Message.sender_id == viewer.user_id, Message.draft_token == draft.token
            )
        )
        if existing is None:
            raise
        return Sent(existing.id, existing.recipients_count, already=True)

    state = TaskState.received if draft.kind == MessageKind.task else None
    rows = [{"message_id": message.id, "user_id": uid, "task_state": state} for uid in recipients]
    for start in range(0, len(rows), 1000):
        await session.execute(insert(MessageRecipient), rows[start : start + 1000])
    await notify_many(
        session,
        user_ids=recipients,
        kind=NOTICE_KIND[draft.kind],
        template=TEMPLATE_NEW,
        params={
            "message_id": message.id,
            "kind": draft.kind.value,
            "subject": subject,
            "sender": viewer.full_name or viewer.login,
            "attachments": len(draft.attachments),
        },
        now=now,
        ref_type=REF_TYPE,
        ref_id=message.id,
        batch_id=message.id if draft.kind == MessageKind.announcement else None,
    )
    return Sent(message.id, len(recipients))


# ---- mailboxes -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MailItem:
    message_id: int
    kind: MessageKind
    subject: str
    created_at: datetime
    other: str  # the sender in an inbox, the number of recipients in an outbox
    unread: bool = False
    recipients: int = 0
    read: int = 0
    task_state: TaskState | None = None
    task_status: TaskStatus | None = None


async def unread_counts(session: AsyncSession, user_id: int, now: datetime) -> dict[str, int]:
    rows = await session.execute(
        select(Message.kind, func.count())
        .join(MessageRecipient, MessageRecipient.message_id == Message.id)
        .where(
            MessageRecipient.user_id == user_id,
            MessageRecipient.read_at.is_(None),
            Message.expires_at > now,
        )
        .group_by(Message.kind)
    )
    counts = {kind.value: 0 for kind in MessageKind}
    counts.update({MessageKind(kind).value: n for kind, n in rows})
    return counts


def _inbox_query(user_id: int, now: datetime) -> Select[Any]:
    return (
        select(Message, MessageRecipient, User)
        .join(MessageRecipient, MessageRecipient.message_id == Message.id)
        .join(User, User.id == Message.sender_id)
        .where(MessageRecipient.user_id == user_id, Message.expires_at > now)
    )


def _inbox_item(message: Message, mine: MessageRecipient, sender: User) -> MailItem:
    return MailItem(
        message_id=message.id,
        kind=message.kind,
        subject=message.subject,
        created_at=message.created_at,
        other=sender.full_name or sender.login,
        unread=mine.read_at is None,
        task_state=mine.task_state,
        task_status=message.task_status,
    )


async def latest_inbox(
    session: AsyncSession, user_id: int, now: datetime, limit: int = 5
) -> list[MailItem]:
    rows = await session.execute(
        _inbox_query(user_id, now)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
    )
    return [_inbox_item(*row) for row in rows]


async def inbox(
    session: AsyncSession,
    user_id: int,
    kind: MessageKind,
    now: datetime,
    page: int,
    per_page: int,
) -> tuple[list[MailItem], int]:
    base = _inbox_query(user_id, now).where(Message.kind == kind)
    total = await session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = await session.execute(
        base.order_by(Message.created_at.desc(), Message.id.desc())
        .offset(page * per_page)
        .limit(per_page)
    )
    return [_inbox_item(*row) for row in rows], total


async def outbox(
    session: AsyncSession,
    user_id: int,
    kind: MessageKind,
    now: datetime,
    page: int,
    per_page: int,
) -> tuple[list[MailItem], int]:
    base = select(Message).where(
        Message.sender_id == user_id, Message.kind == kind, Message.expires_at > now
    )
    total = await session.scalar(select(func.count()).select_from(base.subquery())) or 0
    messages = list(
        await session.scalars(
            base.order_by(Message.created_at.desc(), Message.id.desc())
            .offset(page * per_page)
            .limit(per_page)
        )
    )
    read = await _read_counts(session, [m.id for m in messages])
    return [
        MailItem(
            message_id=m.id,
            kind=m.kind,
            subject=m.subject,
            created_at=m.created_at,
            other="",
            recipients=m.recipients_count,
            read=read.get(m.id, 0),
            task_status=m.task_status,
        )
        for m in messages
    ], total


async def _read_counts(session: AsyncSession, message_ids: Sequence[int]) -> dict[int, int]:
    if not message_ids:
        return {}
    rows = await session.execute(
        select(MessageRecipient.message_id, func.count())
        .where(MessageRecipient.message_id.in_(message_ids), MessageRecipient.read_at.is_not(None))
        .group_by(MessageRecipient.message_id)
    )
    return {mid: n for mid, n in rows}


# ---- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageInfo:
    """A message detached from its session, safe to render after the unit has ended."""

    id: int
    kind: MessageKind
    sender_id: int
    subject: str
    body: str
    task_status: TaskStatus | None
    created_at: datetime
    expires_at: datetime
    recipients_count: int

    @classmethod
    def of(cls, m: Message) -> MessageInfo:
        return cls(
            m.id,
            m.kind,
            m.sender_id,
            m.subject,
            m.body,
            m.task_status,
            m.created_at,
            m.expires_at,
            m.recipients_count,
        )


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    media: str
    file_id: str
    file_name: str | None


@dataclass(frozen=True, slots=True)
class CopyInfo:
    """The viewer's own copy of a received message."""

    read_at: datetime | None
    task_state: TaskState | None
    reply: str | None


@dataclass(frozen=True, slots=True)
class MessageView:
    message: MessageInfo
    sender_name: str
    attachments: list[AttachmentInfo]
    mine: CopyInfo | None  # the viewer's copy when the viewer is a recipient
    is_sender: bool
    read: int = 0
    task_counts: dict[str, int] = field(default_factory=dict)


async def _load(session: AsyncSession, message_id: int, now: datetime) -> Message:
    message = await session.get(Message, message_id)
    if message is None:
        raise not_available()
    if message.expires_at <= now:
        raise _refuse(
            "expired", lambda: _("This message has expired and is no longer in the mailbox.")
        )
    return message


async def open_message(
    session: AsyncSession, user_id: int, message_id: int, now: datetime, *, mark_read: bool
) -> MessageView:
    """The message for its sender or one of its recipients (marked read for a recipient)."""
    message = await _load(session, message_id, now)
    mine = await session.scalar(
        select(MessageRecipient).where(
            MessageRecipient.message_id == message_id, MessageRecipient.user_id == user_id
        )
    )
    is_sender = message.sender_id == user_id
    if mine is None and not is_sender:
        raise not_available()
    if mine is not None and mark_read and mine.read_at is None:
        mine.read_at = now
        await session.flush()
    sender = await session.get(User, message.sender_id)
    assert sender is not None
    attachments = [
        AttachmentInfo(a.media, a.file_id, a.file_name)
        for a in await session.scalars(
            select(MessageAttachment)
            .where(MessageAttachment.message_id == message_id)
            .order_by(MessageAttachment.position)
        )
    ]
    read = 0
    counts: dict[str, int] = {}
    if is_sender:
        read = (await _read_counts(session, [message_id])).get(message_id, 0)
        if message.kind == MessageKind.task:
            rows = await session.execute(
                select(MessageRecipient.task_state, func.count())
                .where(MessageRecipient.message_id == message_id)
                .group_by(MessageRecipient.task_state)
            )
            counts = {TaskState(state).value: n for state, n in rows if state is not None}
    copy = CopyInfo(mine.read_at, mine.task_state, mine.reply) if mine is not None else None
    return MessageView(
        MessageInfo.of(message),
        sender.full_name or sender.login,
        attachments,
        copy,
        is_sender,
        read,
        counts,
    )


@dataclass(frozen=True, slots=True)
class RecipientRow:
    name: str
    read_at: datetime | None
    task_state: TaskState | None
    reply: str | None
    changed_at: datetime | None


async def recipient_rows(
    session: AsyncSession,
    sender_id: int,
    message_id: int,
    now: datetime,
    page: int,
    per_page: int,
) -> tuple[MessageInfo, list[RecipientRow], int]:
    """The sender's view of who read (and, for a task, who is where), unread or behind first."""
    message = await _load(session, message_id, now)
    if message.sender_id != sender_id:
        raise not_available()
    base = select(MessageRecipient, User).join(User, User.id == MessageRecipient.user_id)
    base = base.where(MessageRecipient.message_id == message_id)
    total = await session.scalar(
        select(func.count()).where(MessageRecipient.message_id == message_id)
    )
    order_state = case(
        (MessageRecipient.task_state == TaskState.done, 2),
        (MessageRecipient.task_state == TaskState.in_progress, 1),
        else_=0,
    )
    rows = await session.execute(
        base.order_by(
            order_state,
            MessageRecipient.read_at.is_not(None),
            User.last_name,
            User.first_name,
            User.id,
        )
        .offset(page * per_page)
        .limit(per_page)
    )
    result = [
        RecipientRow(
            name=user.full_name or user.login,
            read_at=r.read_at,
            task_state=r.task_state,
            reply=r.reply,
            changed_at=r.state_changed_at,
        )
        for r, user in rows
    ]
    return MessageInfo.of(message), result, total or 0


class BoardStatus(enum.StrEnum):
    """Where a recipient of a task is, as the task board shows it."""

    no_telegram = "no_telegram"  # not started, and no Telegram account to reach them
    received = "received"
    in_progress = "in_progress"
    done = "done"


BOARD_ORDER = (
    BoardStatus.no_telegram,
    BoardStatus.received,
    BoardStatus.in_progress,
    BoardStatus.done,
)


@dataclass(frozen=True, slots=True)
class BoardRow:
    name: str
    status: BoardStatus
    read_at: datetime | None
    reply: str | None


@dataclass(frozen=True, slots=True)
class TaskBoard:
    message: MessageInfo
    counts: dict[BoardStatus, int]
    rows: list[BoardRow]
    shown: int  # recipients matching the filter

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _board_status(state: TaskState | None, has_telegram: bool) -> BoardStatus:
    if state == TaskState.done:
        return BoardStatus.done
    if state == TaskState.in_progress:
        return BoardStatus.in_progress
    return BoardStatus.received if has_telegram else BoardStatus.no_telegram


def _board_filter(status: BoardStatus) -> Any:
    started = MessageRecipient.task_state.in_((TaskState.in_progress, TaskState.done))
    if status == BoardStatus.done:
        return MessageRecipient.task_state == TaskState.done
    if status == BoardStatus.in_progress:
        return MessageRecipient.task_state == TaskState.in_progress
    not_started = or_(MessageRecipient.task_state.is_(None), ~started)
    if status == BoardStatus.no_telegram:
        return and_(not_started, User.telegram_id.is_(None))
    return and_(not_started, User.telegram_id.is_not(None))


async def task_board(
    session: AsyncSession,
    sender_id: int,
    message_id: int,
    now: datetime,
    status: BoardStatus | None,
    page: int,
    per_page: int,
) -> TaskBoard:
    """The sender's "who is where" of a task: totals per status, then the recipients (of one
    status when `status` is given), those behind first."""
    message = await _load(session, message_id, now)
    if message.sender_id != sender_id or message.kind != MessageKind.task:
        raise not_available()
    mine = MessageRecipient.message_id == message_id
    no_telegram = User.telegram_id.is_(None)
    counts = dict.fromkeys(BOARD_ORDER, 0)
    for state, unreachable, n in await session.execute(
        select(MessageRecipient.task_state, no_telegram, func.count())
        .join(User, User.id == MessageRecipient.user_id)
        .where(mine)
        .group_by(MessageRecipient.task_state, no_telegram)
    ):
        counts[_board_status(state, not unreachable)] += n
    query = (
        select(MessageRecipient, User).join(User, User.id == MessageRecipient.user_id).where(mine)
    )
    if status is not None:
        query = query.where(_board_filter(status))
    rank = case(
        (MessageRecipient.task_state == TaskState.done, 3),
        (MessageRecipient.task_state == TaskState.in_progress, 2),
        (no_telegram, 0),
        else_=1,
    )
    rows = await session.execute(
        query.order_by(
            rank, MessageRecipient.read_at.is_not(None), User.last_name, User.first_name, User.id
        )
        .offset(page * per_page)
        .limit(per_page)
    )
    board_rows = [
        BoardRow(
            name=user.full_name or user.login,
            status=_board_status(r.task_state, user.telegram_id is not None),
            read_at=r.read_at,
            reply=r.reply,
        )
        for r, user in rows
    ]
    shown = counts[status] if status is not None else sum(counts.values())
    return TaskBoard(MessageInfo.of(message), counts, board_rows, shown)


async def _my_task(
    session: AsyncSession, user_id: int, message_id: int, now: datetime
) -> tuple[Message, MessageRecipient]:
    message = await _load(session, message_id, now)
    if message.kind != MessageKind.task:
        raise not_available()
    mine = await session.scalar(
        select(MessageRecipient).where(
            MessageRecipient.message_id == message_id, MessageRecipient.user_id == user_id
        )
    )
    if mine is None:
        raise not_available()
    if message.task_status == TaskStatus.closed:
        raise _refuse(
            "task_closed",
            lambda: _("The sender has closed this task: its status can no longer be changed."),
        )
    return message, mine


async def set_task_state(
    session: AsyncSession, user_id: int, message_id: int, state: TaskState, now: datetime
) -> None:
    _message, mine = await _my_task(session, user_id, message_id, now)
    if mine.task_state != state:
        mine.task_state = state
        mine.state_changed_at = now
    if mine.read_at is None:
        mine.read_at = now
    await session.flush()


async def set_task_reply(
    session: AsyncSession, user_id: int, message_id: int, text: str, now: datetime
) -> None:
    reply = check_reply(text)
    _message, mine = await _my_task(session, user_id, message_id, now)
    mine.reply = reply
    mine.state_changed_at = now
    await session.flush()


async def set_task_status(
    session: AsyncSession, sender_id: int, message_id: int, status: TaskStatus, now: datetime
) -> None:
    message = await _load(session, message_id, now)
    if message.sender_id != sender_id or message.kind != MessageKind.task:
        raise not_available()
    message.task_status = status
    await session.flush()


@dataclass(frozen=True, slots=True)
class Progress:
    recipients: int
    queued: int
    delivered: int
    pending: int
    failed: int
    skipped: int

    @property
    def finished(self) -> bool:
        return self.pending == 0

    @property
    def muted(self) -> int:
        """Recipients who turned this kind of push off (no row was queued for them)."""
        return max(0, self.recipients - self.queued)


async def broadcast_progress(
    session: AsyncSession, sender_id: int, message_id: int, now: datetime
) -> tuple[MessageInfo, Progress]:
    message = await session.get(Message, message_id)
    if message is None or message.sender_id != sender_id:
        raise not_available()
    return MessageInfo.of(message), await _progress(session, message)


async def _progress(session: AsyncSession, message: Message) -> Progress:
    rows = await session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.ref_type == REF_TYPE, Delivery.ref_id == message.id)
        .group_by(Delivery.status)
    )
    counts = {DeliveryStatus(status): n for status, n in rows}
    return Progress(
        recipients=message.recipients_count,
        queued=sum(counts.values()),
        delivered=counts.get(DeliveryStatus.sent, 0),
        pending=counts.get(DeliveryStatus.pending, 0) + counts.get(DeliveryStatus.sending, 0),
        failed=counts.get(DeliveryStatus.failed, 0) + counts.get(DeliveryStatus.blocked, 0),
        skipped=counts.get(DeliveryStatus.skipped, 0),
    )


# ---- the scheduler's side --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SentNotice:
    delivery_id: int
    chat_id: int
    message_id: int
    subject: str
    locale: str | None


async def expired_message_ids(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    return list(
        await session.scalars(
            select(Message.id)
            .where(Message.expires_at <= now, Message.expiry_done_at.is_(None))
            .order_by(Message.expires_at, Message.id)
            .limit(limit)
        )
    )


async def stop_pending_notices(session: AsyncSession, message_id: int) -> int:
    """Withdraw the pushes of an expired message not sent yet; returns how many are still in
    flight (claimed by the worker), which the caller waits for."""
    await session.execute(
        update(Delivery)
        .where(
            Delivery.ref_type == REF_TYPE,
            Delivery.ref_id == message_id,
            Delivery.status == DeliveryStatus.pending,
        )
        .values(status=DeliveryStatus.skipped, last_error="message expired")
    )
    return (
        await session.scalar(
            select(func.count()).where(
                Delivery.ref_type == REF_TYPE,
                Delivery.ref_id == message_id,
                Delivery.status == DeliveryStatus.sending,
            )
        )
        or 0
    )


async def sent_notices(
    session: AsyncSession, message_id: int, after_id: int, limit: int
) -> list[SentNotice]:
    rows = await session.execute(
        select(Delivery.id, Delivery.chat_id, Delivery.message_id, Delivery.params, User.locale)
        .join(User, User.id == Delivery.user_id)
        .where(
            Delivery.ref_type == REF_TYPE,
            Delivery.ref_id == message_id,
            Delivery.status == DeliveryStatus.sent,
            Delivery.message_id.is_not(None),
            Delivery.chat_id.is_not(None),
            Delivery.id > after_id,
        )
        .order_by(Delivery.id)
        .limit(limit)
    )
    return [
        SentNotice(did, chat, mid, str((params or {}).get("subject", "")), locale)
        for did, chat, mid, params, locale in rows
    ]


async def save_expiry_progress(
    session: AsyncSession, message_id: int, cursor: int, done_at: datetime | None
) -> None:
    values: dict[str, Any] = {"expiry_cursor": cursor}
    if done_at is not None:
        values["expiry_done_at"] = done_at
    await session.execute(update(Message).where(Message.id == message_id).values(**values))


async def report_finished_broadcasts(session: AsyncSession, now: datetime, limit: int = 50) -> int:
    """Tell the sender of each announcement whose broadcast has finished how it went."""
    candidates = list(
        await session.scalars(
            select(Message)
            .where(
                Message.kind == MessageKind.announcement,
                Message.summary_sent_at.is_(None),
                Message.created_at <= now,
            )
            .order_by(Message.id)
            .limit(limit)
        )
    )
    reported = 0
    for message in candidates:
        progress = await _progress(session, message)
        if not progress.finished:
            continue
        await notify(
            session,
            user_id=message.sender_id,
            kind=NoticeKind.announcements,
            template=TEMPLATE_DONE,
            params={
                "message_id": message.id,
                "subject": message.subject,
                "recipients": progress.recipients,
                "delivered": progress.delivered,
                "failed": progress.failed,
                "not_sent": progress.skipped + progress.muted,
            },
            now=now,
            dedupe_key=f"message-summary:{message.id}",
            ref_type="message_summary",
            ref_id=message.id,
        )
        message.summary_sent_at = now
        reported += 1
    await session.flush()
    return reported


async def expiry_cursor(session: AsyncSession, message_id: int) -> int:
    return await session.scalar(select(Message.expiry_cursor).where(Message.id == message_id)) or 0
