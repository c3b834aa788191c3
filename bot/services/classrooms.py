"""Virtual classrooms (§10.1): built from the timetable of the current academic year.

A classroom is the classes of one kind (lecture, practice, lab, СӨЖ, СОӨЖ) that a group has in
a discipline in a period. Its members are the students of the group and the teacher of those
classes. The teacher keeps materials by topic or week; every member can post to the
conversation, which reaches the other members' chats through the delivery queue, unless the
teacher muted them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.services import journal
from bot.services.auth import Viewer
from bot.services.errors import DomainError
from bot.services.i18n import _
from bot.services.notify import NoticeKind, notify_many
from db.models import AcademicPeriod, Group, Role, Student, Teacher, User
from db.models.academic import ClassKind, TimetableSlot
from db.models.classrooms import (
    Classroom,
    ClassroomMaterial,
    ClassroomMember,
    ClassroomPost,
    MaterialKind,
)

MAX_POST_LENGTH = 2000
MAX_TOPIC_LENGTH = 200
MAX_TITLE_LENGTH = 300
MAX_URL_LENGTH = 1000
URL_RE = re.compile(r"^https?://[^\s<>\"]{3,}$", re.IGNORECASE)
# Kinds the filter of the list offers, as in the manual (СӨЖ classrooms exist too).
KIND_ORDER = (ClassKind.lecture, ClassKind.practice, ClassKind.lab, ClassKind.srop, ClassKind.srs)


def not_available() -> DomainError:
    return DomainError("classroom.not_available", lambda: _("This classroom is not available."))


# ---- the year and the list -------------------------------------------------------------------


async def current_year_periods(session: AsyncSession, today: date) -> list[AcademicPeriod]:
    """The periods (terms) of the academic year `today` belongs to."""
    current = await journal.current_period(session, today)
    if current is None:
        return []
    return list(
        await session.scalars(
            select(AcademicPeriod)
            .where(AcademicPeriod.academic_year == current.academic_year)
            .order_by(AcademicPeriod.term)
        )
    )


async def sync_classrooms(session: AsyncSession, period_ids: list[int]) -> int:
    """Create the classrooms the timetable implies (idempotent); returns how many were new.

    When several teachers share one kind of class of a group, the classroom belongs to the one
    with the most slots (then the lowest id), so its owner is stable.
    """
    if not period_ids:
        return 0
    rows = await session.execute(
        select(
            TimetableSlot.period_id,
            TimetableSlot.discipline_id,
            TimetableSlot.group_id,
            TimetableSlot.kind,
            TimetableSlot.teacher_id,
            func.count(),
        )
        .where(TimetableSlot.period_id.in_(period_ids))
        .group_by(
            TimetableSlot.period_id,
            TimetableSlot.discipline_id,
            TimetableSlot.group_id,
            TimetableSlot.kind,
            TimetableSlot.teacher_id,
        )
    )
    candidates: dict[tuple[int, int, int, ClassKind], list[tuple[int, int]]] = {}
    for period_id, discipline_id, group_id, kind, teacher_id, n in rows.all():
        key = (period_id, discipline_id, group_id, ClassKind(kind))
        options = candidates.setdefault(key, [])
        if teacher_id is not None:
            options.append((n, -teacher_id))
    wanted = {key: (-max(options)[1] if options else None) for key, options in candidates.items()}
    existing = {
        (c.period_id, c.discipline_id, c.group_id, ClassKind(c.kind)): c
        for c in await session.scalars(
            select(Classroom).where(Classroom.period_id.in_(period_ids))
        )
    }
    created = 0
    for key, teacher_id in wanted.items():
        room = existing.get(key)
        if room is not None:
            if room.teacher_id != teacher_id:
                room.teacher_id = teacher_id
            continue
        period_id, discipline_id, group_id, kind = key
        try:
            async with session.begin_nested():
                session.add(
                    Classroom(
                        period_id=period_id,
                        discipline_id=discipline_id,
                        group_id=group_id,
                        kind=kind,
                        teacher_id=teacher_id,
                    )
                )
            created += 1
        except IntegrityError:
            # Someone else created it a moment ago.
            continue
    await session.flush()
    return created


@dataclass(frozen=True, slots=True)
class Filters:
    study_form_id: int = 0
    term: int = 0
    kind: str = ""


async def list_classrooms(
    session: AsyncSession, viewer: Viewer, period_ids: list[int], filters: Filters = Filters()
) -> list[Classroom]:
    """The viewer's classrooms in these periods: a student's group's, a teacher's own."""
    query = (
        select(Classroom)
        .join(Group, Group.id == Classroom.group_id)
        .join(AcademicPeriod, AcademicPeriod.id == Classroom.period_id)
        .where(Classroom.period_id.in_(period_ids))
        .options(
            joinedload(Classroom.discipline),
            joinedload(Classroom.group).joinedload(Group.study_form),
            joinedload(Classroom.period),
        )
    )
    if viewer.student_id is not None:
        group_id = await session.scalar(
            select(Student.group_id).where(Student.id == viewer.student_id)
        )
        query = query.where(Classroom.group_id == group_id)
    elif viewer.teacher_id is not None:
        query = query.where(Classroom.teacher_id == viewer.teacher_id)
    else:
        return []
    if filters.study_form_id:
        query = query.where(Group.study_form_id == filters.study_form_id)
    if filters.term:
        query = query.where(AcademicPeriod.term == filters.term)
    if filters.kind:
        try:
            query = query.where(Classroom.kind == ClassKind(filters.kind))
        except ValueError:
            return []
    rooms = list(await session.scalars(query))
    order = {kind: n for n, kind in enumerate(KIND_ORDER)}
    rooms.sort(
        key=lambda r: (
            r.period.term,
            r.discipline.code,
            order.get(ClassKind(r.kind), 9),
            r.group.code,
        )
    )
    return rooms


@dataclass(frozen=True, slots=True)
class FilterChoices:
    study_forms: list[tuple[int, dict[str, str]]]
    terms: list[int]
    kinds: list[str]


async def filter_choices(
    session: AsyncSession, viewer: Viewer, period_ids: list[int]
) -> FilterChoices:
    rooms = await list_classrooms(session, viewer, period_ids)
    forms: dict[int, dict[str, str]] = {}
    for room in rooms:
        form = room.group.study_form
        forms[form.id] = {"kk": form.name_kk, "ru": form.name_ru, "en": form.name_en}
    kinds = {ClassKind(r.kind) for r in rooms}
    return FilterChoices(
        study_forms=sorted(forms.items()),
        terms=sorted({r.period.term for r in rooms}),
        kinds=[k.value for k in KIND_ORDER if k in kinds],
    )


# ---- one classroom ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Access:
    classroom: Classroom
    is_teacher: bool


async def open_classroom(session: AsyncSession, classroom_id: int, viewer: Viewer) -> Access:
    """The classroom if the viewer is its teacher or a student of its group; else refused."""
    room = await session.scalar(
        select(Classroom)
        .where(Classroom.id == classroom_id)
        .options(
            joinedload(Classroom.discipline),
            joinedload(Classroom.group),
            joinedload(Classroom.period),
            joinedload(Classroom.teacher).joinedload(Teacher.user),
        )
    )
    if room is None:
        raise not_available()
    if viewer.teacher_id is not None and room.teacher_id == viewer.teacher_id:
        return Access(room, True)
    if viewer.student_id is not None:
        group_id = await session.scalar(
            select(Student.group_id).where(Student.id == viewer.student_id)
        )
        if group_id == room.group_id:
            return Access(room, False)
    raise not_available()


async def member_user_ids(session: AsyncSession, room: Classroom) -> list[int]:
    ids = list(
        await session.scalars(select(Student.user_id).where(Student.group_id == room.group_id))
    )
    if room.teacher_id is not None:
        teacher_user = await session.scalar(
            select(Teacher.user_id).where(Teacher.id == room.teacher_id)
        )
        if teacher_user is not None:
            ids.append(teacher_user)
    return ids


async def _member_row(session: AsyncSession, classroom_id: int, user_id: int) -> ClassroomMember:
    row = await session.scalar(
        select(ClassroomMember).where(
            ClassroomMember.classroom_id == classroom_id, ClassroomMember.user_id == user_id
        )
    )
    if row is not None:
        return row
    try:
        async with session.begin_nested():
            row = ClassroomMember(classroom_id=classroom_id, user_id=user_id)
            session.add(row)
    except IntegrityError:
        row = await session.scalar(
            select(ClassroomMember).where(
                ClassroomMember.classroom_id == classroom_id, ClassroomMember.user_id == user_id
            )
        )
        assert row is not None
    return row


async def visit(
    session: AsyncSession, classroom_id: int, user_id: int, now: datetime
) -> datetime | None:
    """Record a visit; returns the previous one ("new since your last visit" is measured
    against it; None on the first visit)."""
    row = await _member_row(session, classroom_id, user_id)
    previous = row.last_visit_at
    row.last_visit_at = now
    await session.flush()
    return previous


async def last_visit(session: AsyncSession, classroom_id: int, user_id: int) -> datetime | None:
    return await session.scalar(
        select(ClassroomMember.last_visit_at).where(
            ClassroomMember.classroom_id == classroom_id, ClassroomMember.user_id == user_id
        )
    )


async def is_muted(session: AsyncSession, classroom_id: int, user_id: int) -> bool:
    return bool(
        await session.scalar(
            select(ClassroomMember.muted).where(
                ClassroomMember.classroom_id == classroom_id, ClassroomMember.user_id == user_id
            )
        )
    )


@dataclass(frozen=True, slots=True)
class MemberLine:
    user_id: int
    name: str
    muted: bool


async def student_members(session: AsyncSession, room: Classroom) -> list[MemberLine]:
    rows = await session.execute(
        select(User, ClassroomMember.muted)
        .join(Student, Student.user_id == User.id)
        .outerjoin(
            ClassroomMember,
            (ClassroomMember.user_id == User.id) & (ClassroomMember.classroom_id == room.id),
        )
        .where(Student.group_id == room.group_id)
        .order_by(User.last_name, User.first_name, User.id)
    )
    return [MemberLine(user.id, user.full_name, bool(muted)) for user, muted in rows.all()]


async def set_muted(
    session: AsyncSession, access: Access, user_id: int, muted: bool, now: datetime
) -> None:
    """The teacher mutes or unmutes a student of the classroom."""
    if not access.is_teacher:
        raise not_available()
    in_group = await session.scalar(
        select(Student.id).where(
            Student.user_id == user_id, Student.group_id == access.classroom.group_id
        )
    )
    if in_group is None:
        raise not_available()
    row = await _member_row(session, access.classroom.id, user_id)
    row.muted = muted
    row.muted_at = now if muted else None
    await session.flush()


# ---- materials -------------------------------------------------------------------------------


async def materials(session: AsyncSession, classroom_id: int) -> list[ClassroomMaterial]:
    return list(
        await session.scalars(
            select(ClassroomMaterial)
            .where(ClassroomMaterial.classroom_id == classroom_id)
            .order_by(
                ClassroomMaterial.week.is_(None),
                ClassroomMaterial.week,
                ClassroomMaterial.topic,
                ClassroomMaterial.created_at,
                ClassroomMaterial.id,
            )
        )
    )


def parse_topic(text: str) -> tuple[int | None, str] | None:
    """ "3 Normal forms" → (3, "Normal forms"); "Normal forms" → (None, ...); None if empty or
    the week is out of range."""
    text = " ".join(text.split())[:MAX_TOPIC_LENGTH]
    if not text:
        return None
    match = re.match(r"^(\d{1,2})[\s.:)\-–—]+(.+)$", text)
    if match:
        week = int(match.group(1))
        if not 1 <= week <= 30:
            return None
        return week, match.group(2).strip()
    if text.isdigit():
        week = int(text)
        return (week, "") if 1 <= week <= 30 else None
    return None, text


async def add_material(
    session: AsyncSession,
    access: Access,
    *,
    week: int | None,
    topic: str,
    title: str,
    kind: MaterialKind,
    now: datetime,
    author_user_id: int,
    file_id: str | None = None,
    file_name: str | None = None,
    url: str | None = None,
) -> ClassroomMaterial:
    if not access.is_teacher:
        raise not_available()
    if kind == MaterialKind.link and (url is None or not URL_RE.match(url)):
        raise DomainError("classroom.bad_link", lambda: _("That does not look like a link."))
    material = ClassroomMaterial(
        classroom_id=access.classroom.id,
        week=week,
        topic=topic[:MAX_TOPIC_LENGTH],
        title=(title or file_name or url or "—")[:MAX_TITLE_LENGTH],
        kind=kind,
        file_id=file_id,
        file_name=(file_name or None) and file_name[:255],
        url=url[:MAX_URL_LENGTH] if url else None,
        author_user_id=author_user_id,
        created_at=now,
    )
    session.add(material)
    await session.flush()
    return material


async def material_of(
    session: AsyncSession, access: Access, material_id: int
) -> ClassroomMaterial:
    material = await session.get(ClassroomMaterial, material_id)
    if material is None or material.classroom_id != access.classroom.id:
        raise DomainError(
            "classroom.material_gone", lambda: _("This material is no longer available.")
        )
    return material


async def remove_material(session: AsyncSession, access: Access, material_id: int) -> None:
    if not access.is_teacher:
        raise not_available()
    material = await material_of(session, access, material_id)
    await session.delete(material)
    await session.flush()


# ---- the conversation ------------------------------------------------------------------------


async def post(
    session: AsyncSession, access: Access, viewer: Viewer, text: str, now: datetime
) -> ClassroomPost:
    """Post to the conversation and queue it for every other member."""
    text = text.strip()
    if not text:
        raise DomainError("classroom.empty_post", lambda: _("The message is empty."))
    if len(text) > MAX_POST_LENGTH:
        raise DomainError(
            "classroom.long_post",
            lambda: _("The message is too long: at most {n} characters.").format(
                n=MAX_POST_LENGTH
            ),
        )
    room = access.classroom
    if not access.is_teacher and await is_muted(session, room.id, viewer.user_id):
        raise DomainError(
            "classroom.muted",
            lambda: _(
                "The teacher has muted you in this classroom: you can read it but not post."
            ),
        )
    item = ClassroomPost(
        classroom_id=room.id, author_user_id=viewer.user_id, text=text, created_at=now
    )
    session.add(item)
    await session.flush()
    recipients = [uid for uid in await member_user_ids(session, room) if uid != viewer.user_id]
    await notify_many(
        session,
        user_ids=recipients,
        kind=NoticeKind.classroom,
        template="classrooms.post",
        params={
            "post_id": item.id,
            "classroom_id": room.id,
            "discipline": {
                "kk": room.discipline.name_kk,
                "ru": room.discipline.name_ru,
                "en": room.discipline.name_en,
            },
            "kind": ClassKind(room.kind).value,
            "group": room.group.code,
            "author": viewer.full_name or viewer.login,
            "by_teacher": access.is_teacher,
            "text": text,
        },
        now=now,
        ref_type="classroom_post",
        ref_id=item.id,
        dedupe_prefix=f"classroom_post:{item.id}",
    )
    return item


@dataclass(frozen=True, slots=True)
class PostLine:
    id: int
    author: str
    by_teacher: bool
    text: str
    created_at: datetime


async def posts(
    session: AsyncSession, room: Classroom, *, offset: int = 0, limit: int = 5
) -> tuple[list[PostLine], int]:
    """Newest first, with the total count."""
    total = int(
        await session.scalar(
            select(func.count())
            .select_from(ClassroomPost)
            .where(ClassroomPost.classroom_id == room.id)
        )
        or 0
    )
    rows = await session.execute(
        select(ClassroomPost, User)
        .outerjoin(User, User.id == ClassroomPost.author_user_id)
        .where(ClassroomPost.classroom_id == room.id)
        .order_by(ClassroomPost.created_at.desc(), ClassroomPost.id.desc())
        .offset(max(0, offset))
        .limit(limit)
    )
    teacher_user = None
    if room.teacher_id is not None:
        teacher_user = await session.scalar(
            select(Teacher.user_id).where(Teacher.id == room.teacher_id)
        )
    lines = [
        PostLine(
            id=item.id,
            author=(user.full_name if user is not None else "—"),
            by_teacher=user is not None and (user.id == teacher_user or user.role == Role.teacher),
            text=item.text,
            created_at=item.created_at,
        )
        for item, user in rows.all()
    ]
    return lines, total


async def new_counts(
    session: AsyncSession, classroom_id: int, since: datetime | None
) -> tuple[int, int]:
    """Materials and posts added after `since` (everything on a first visit)."""
    materials_q = (
        select(func.count())
        .select_from(ClassroomMaterial)
        .where(ClassroomMaterial.classroom_id == classroom_id)
    )
    posts_q = (
        select(func.count())
        .select_from(ClassroomPost)
        .where(ClassroomPost.classroom_id == classroom_id)
    )
    if since is not None:
        materials_q = materials_q.where(ClassroomMaterial.created_at > since)
        posts_q = posts_q.where(ClassroomPost.created_at > since)
    return int(await session.scalar(materials_q) or 0), int(await session.scalar(posts_q) or 0)


async def unread_posts(session: AsyncSession, viewer: Viewer, period_ids: list[int]) -> int:
    """Messages by others in the viewer's classrooms since their last visit of each."""
    if not period_ids:
        return 0
    query = (
        select(func.count(ClassroomPost.id))
        .join(Classroom, Classroom.id == ClassroomPost.classroom_id)
        .outerjoin(
            ClassroomMember,
            (ClassroomMember.classroom_id == Classroom.id)
            & (ClassroomMember.user_id == viewer.user_id),
        )
        .where(
            Classroom.period_id.in_(period_ids),
            ClassroomPost.author_user_id != viewer.user_id,
            (ClassroomMember.last_visit_at.is_(None))
            | (ClassroomPost.created_at > ClassroomMember.last_visit_at),
        )
    )
    if viewer.student_id is not None:
        group_id = select(Student.group_id).where(Student.id == viewer.student_id)
        query = query.where(Classroom.group_id == group_id.scalar_subquery())
    elif viewer.teacher_id is not None:
        query = query.where(Classroom.teacher_id == viewer.teacher_id)
    else:
        return 0
    return int(await session.scalar(query) or 0)
