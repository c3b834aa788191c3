"""The journal (§4.2, §12): control and current marks, attendance, exam planning and GPA.

The grading rules and the absence limit live in one place, `academic_config()`: the Kazakh
defaults of `bot.services.grading`, overridable by a JSON file named in `GRADING_RULES_FILE`
(the keys of `GradingRules.from_mapping`) and by `ABSENCE_LIMIT_PERCENT`, both read and checked
with the other settings (`Settings.academic`, bot/config.py).

Every mark change goes through `set_control_mark` / `add_current_mark`, and every attendance
change through `mark_attendance`, so the student's push is queued whichever path made the change
(a teacher, the import tool, a test result, a QR check-in).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.config import AcademicSettings
from bot.services import grading
from bot.services.errors import DomainError
from bot.services.grading import ExamTarget, GradingRules, LetterGrade
from bot.services.i18n import _
from bot.services.notify import NoticeKind, notify
from db.models import AcademicPeriod, Discipline, Group, Student, Teacher, User
from db.models.academic import (
    AttendanceMark,
    AttendanceSource,
    ClassMeeting,
    CurrentMark,
    Enrolment,
    TimetableSlot,
    WorkKind,
)

CONTROLS = ("midterm1", "midterm2", "exam")
_CENT = Decimal("0.01")


# ---- configuration ---------------------------------------------------------------------------


# The grading rules and absence limit of this process: `Settings.academic`, read and checked at
# start-up and installed by the entry points (bot, scheduler, command-line tools); the
# university's defaults until then.
_academic = AcademicSettings()


def use_academic_settings(academic: AcademicSettings) -> None:
    global _academic
    _academic = academic


def academic_config() -> AcademicSettings:
    return _academic


def rules() -> GradingRules:
    return academic_config().rules


# ---- reading values --------------------------------------------------------------------------


def parse_mark(text: str) -> Decimal | None:
    """A typed mark 0–100 ("85", "85.5", "85,5"); None when it is not one."""
    cleaned = text.strip().replace(",", ".")
    if not cleaned or len(cleaned) > 8:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite() or not 0 <= value <= 100:
        return None
    if value != value.quantize(_CENT):
        return None
    return value.quantize(_CENT)


def _as_mark(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        mark = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        mark = Decimal("NaN")
    if not mark.is_finite() or not 0 <= mark <= 100:
        raise DomainError("mark_range", lambda: _("A mark is a number from 0 to 100."))
    return mark.quantize(_CENT, rounding=ROUND_HALF_UP)


def mark_text(value: Decimal | None) -> str | None:
    """A mark as plain text for push parameters: 85.50 → "85.5"."""
    if value is None:
        return None
    text = format(value.quantize(_CENT), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# ---- periods ---------------------------------------------------------------------------------


async def current_period(session: AsyncSession, today: date) -> AcademicPeriod | None:
    """The period whose dates contain today; else the latest one that has started."""
    found = await session.scalar(
        select(AcademicPeriod)
        .where(AcademicPeriod.starts_on <= today, AcademicPeriod.ends_on >= today)
        .order_by(AcademicPeriod.starts_on.desc())
        .limit(1)
    )
    if found is not None:
        return found
    return await session.scalar(
        select(AcademicPeriod)
        .where(AcademicPeriod.starts_on <= today)
        .order_by(AcademicPeriod.starts_on.desc())
        .limit(1)
    )


async def student_periods(session: AsyncSession, student_id: int) -> list[AcademicPeriod]:
    """Periods in which the student has disciplines, the oldest first."""
    return list(
        await session.scalars(
            select(AcademicPeriod)
            .where(
                AcademicPeriod.id.in_(
                    select(Enrolment.period_id).where(Enrolment.student_id == student_id)
                )
            )
            .order_by(AcademicPeriod.starts_on)
        )
    )


# ---- the journal table -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JournalRow:
    enrolment_id: int
    discipline: Discipline
    period_id: int
    credits: int
    current: Decimal | None
    midterm1: Decimal | None
    midterm2: Decimal | None
    admission: Decimal | None
    exam: Decimal | None
    final: Decimal | None
    grade: LetterGrade | None
    passed: bool | None
    exam_below_threshold: bool


def _row(enrolment: Enrolment, marks: Iterable[Decimal], cfg: GradingRules) -> JournalRow:
    result = grading.outcome(enrolment.midterm1, enrolment.midterm2, enrolment.exam, cfg)
    return JournalRow(
        enrolment_id=enrolment.id,
        discipline=enrolment.discipline,
        period_id=enrolment.period_id,
        credits=enrolment.discipline.credits,
        current=grading.current_average(list(marks)),
        midterm1=enrolment.midterm1,
        midterm2=enrolment.midterm2,
        admission=result.admission,
        exam=enrolment.exam,
        final=result.final,
        grade=result.letter_grade,
        passed=result.passed,
        exam_below_threshold=result.exam_below_threshold,
    )


async def _current_values(
    session: AsyncSession, enrolment_ids: list[int]
) -> dict[int, list[Decimal]]:
    values: dict[int, list[Decimal]] = defaultdict(list)
    if enrolment_ids:
        rows = await session.execute(
            select(CurrentMark.enrolment_id, CurrentMark.value).where(
                CurrentMark.enrolment_id.in_(enrolment_ids)
            )
        )
        for enrolment_id, value in rows:
            values[enrolment_id].append(value)
    return values


async def journal_rows(
    session: AsyncSession,
    student_id: int,
    period_id: int | None = None,
    cfg: GradingRules | None = None,
) -> list[JournalRow]:
    """The student's disciplines (of one period, or of all), with every mark and the outcome."""
    cfg = cfg or rules()
    query = (
        select(Enrolment)
        .join(Discipline, Discipline.id == Enrolment.discipline_id)
        .where(Enrolment.student_id == student_id)
        .options(joinedload(Enrolment.discipline))
        .order_by(Enrolment.period_id, Discipline.code)
    )
    if period_id is not None:
        query = query.where(Enrolment.period_id == period_id)
    enrolments = list(await session.scalars(query))
    values = await _current_values(session, [e.id for e in enrolments])
    return [_row(e, values.get(e.id, []), cfg) for e in enrolments]


def rows_gpa(rows: Iterable[JournalRow]) -> Decimal | None:
    """GPA of the graded rows (ungraded ones are left out, credits included)."""
    return grading.gpa((row.grade.points, row.credits) for row in rows if row.grade is not None)


def counted_rows(rows: Iterable[JournalRow], period_order: Mapping[int, int]) -> list[JournalRow]:
    """The attempts that count towards the cumulative GPA: for a discipline taken more than once
    (a retake after FX/F), only the latest graded attempt."""
    latest: dict[int, JournalRow] = {}
    for row in rows:
        if row.grade is None:
            continue
        known = latest.get(row.discipline.id)
        if known is None or period_order[row.period_id] > period_order[known.period_id]:
            latest[row.discipline.id] = row
    return list(latest.values())


@dataclass(frozen=True, slots=True)
class GpaSummary:
    period_gpa: dict[int, Decimal | None]
    cumulative: Decimal | None
    credits_earned: int
    retaken: frozenset[int]  # enrolment ids superseded by a later attempt


async def gpa_summary(
    session: AsyncSession, student_id: int, cfg: GradingRules | None = None
) -> GpaSummary:
    rows = await journal_rows(session, student_id, None, cfg)
    periods = await student_periods(session, student_id)
    order = {p.id: index for index, p in enumerate(periods)}
    return summarize(rows, order)


def summarize(rows: list[JournalRow], order: Mapping[int, int]) -> GpaSummary:
    by_period: dict[int, list[JournalRow]] = defaultdict(list)
    for row in rows:
        by_period[row.period_id].append(row)
    counted = counted_rows(rows, order)
    counted_ids = {row.enrolment_id for row in counted}
    retaken = frozenset(
        row.enrolment_id
        for row in rows
        if row.grade is not None and row.enrolment_id not in counted_ids
    )
    return GpaSummary(
        period_gpa={pid: rows_gpa(items) for pid, items in by_period.items()},
        cumulative=rows_gpa(counted),
        credits_earned=sum(row.credits for row in counted if row.passed),
        retaken=retaken,
    )


# ---- one discipline --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttendanceEntry:
    on_date: date
    slot: TimetableSlot
    present: bool


@dataclass(frozen=True, slots=True)
class AbsenceShare:
    """Absences of a student in one discipline and period.

    `held` counts the classes with a mark, `planned` the classes of the timetable in the whole
    period; the limit is measured against the planned classes (against the held ones when the
    timetable has none), so two early absences do not read as "100 % missed".
    """

    absent: int
    held: int
    planned: int
    limit: Decimal

    @property
    def share(self) -> Decimal | None:
        base = self.planned or self.held
        if not base:
            return None
        return Decimal(self.absent) / Decimal(base)

    @property
    def share_of_held(self) -> Decimal | None:
        return Decimal(self.absent) / Decimal(self.held) if self.held else None

    @property
    def over_limit(self) -> bool:
        share = self.share
        return share is not None and self.absent > 0 and share >= self.limit


@dataclass(frozen=True, slots=True)
class ExamPlan:
    """What the exam must be. `state`: "need_midterms" (nothing to plan on yet), "graded" (the
    exam is in), or "plan" (targets below; `assumed_midterm2` set when midterm 2 is projected)."""

    state: str
    admission: Decimal | None = None
    assumed_midterm2: Decimal | None = None
    targets: tuple[ExamTarget, ...] = ()
    best_final: Decimal | None = None

    @property
    def pass_reachable(self) -> bool | None:
        return self.targets[0].reachable if self.targets else None


def exam_plan(row: JournalRow, cfg: GradingRules | None = None) -> ExamPlan:
    """The exam needed for a pass and each higher letter, given the marks so far.

    Without midterm 2 yet, it is projected from the current average (else midterm 1): the plan
    then says so, since the real figure may differ.
    """
    cfg = cfg or rules()
    if row.exam is not None:
        return ExamPlan("graded", admission=row.admission)
    if row.midterm1 is None:
        return ExamPlan("need_midterms")
    assumed = None
    m2 = row.midterm2
    if m2 is None:
        m2 = row.current if row.current is not None else row.midterm1
        assumed = m2
    admission = grading.admission_rating(row.midterm1, m2, cfg)
    targets = tuple(grading.exam_needed(admission, cfg))
    best = grading.final_percent(admission, 100, cfg)
    return ExamPlan(
        "plan", admission=admission, assumed_midterm2=assumed, targets=targets, best_final=best
    )


@dataclass(frozen=True, slots=True)
class DisciplineDetail:
    row: JournalRow
    period: AcademicPeriod
    teacher_name: str | None
    marks: list[CurrentMark]
    attendance: list[AttendanceEntry]
    absences: AbsenceShare
    plan: ExamPlan


async def discipline_detail(
    session: AsyncSession, student_id: int, enrolment_id: int
) -> DisciplineDetail | None:
    """One discipline of the student; None when the enrolment is not theirs."""
    enrolment = await session.scalar(
        select(Enrolment)
        .where(Enrolment.id == enrolment_id, Enrolment.student_id == student_id)
        .options(
            joinedload(Enrolment.discipline),
            joinedload(Enrolment.period),
            joinedload(Enrolment.teacher).joinedload(Teacher.user),
        )
    )
    if enrolment is None:
        return None
    marks = list(
        await session.scalars(
            select(CurrentMark)
            .where(CurrentMark.enrolment_id == enrolment.id)
            .order_by(CurrentMark.on_date, CurrentMark.id)
        )
    )
    row = _row(enrolment, [m.value for m in marks], rules())
    attendance = await attendance_entries(
        session, student_id, enrolment.discipline_id, enrolment.period_id
    )
    share = await absence_share(session, student_id, enrolment.discipline_id, enrolment.period_id)
    teacher = enrolment.teacher.user.full_name if enrolment.teacher else None
    return DisciplineDetail(
        row=row,
        period=enrolment.period,
        teacher_name=teacher,
        marks=marks,
        attendance=attendance,
        absences=share,
        plan=exam_plan(row),
    )


async def attendance_entries(
    session: AsyncSession, student_id: int, discipline_id: int, period_id: int
) -> list[AttendanceEntry]:
    rows = await session.execute(
        select(ClassMeeting.on_date, TimetableSlot, AttendanceMark.present)
        .join(ClassMeeting, ClassMeeting.id == AttendanceMark.meeting_id)
        .join(TimetableSlot, TimetableSlot.id == ClassMeeting.slot_id)
        .where(
            AttendanceMark.student_id == student_id,
            TimetableSlot.discipline_id == discipline_id,
            TimetableSlot.period_id == period_id,
        )
        .order_by(ClassMeeting.on_date, TimetableSlot.starts_at)
    )
    return [AttendanceEntry(on_date, slot, present) for on_date, slot, present in rows]


async def absence_share(
    session: AsyncSession, student_id: int, discipline_id: int, period_id: int
) -> AbsenceShare:
    """Absences of the student in the discipline: counts, the share and the limit check."""
    from bot.services.timetable import planned_classes

    counts = (
        await session.execute(
            select(
                func.count(AttendanceMark.id),
                func.coalesce(func.sum(case((AttendanceMark.present.is_(False), 1), else_=0)), 0),
            )
            .join(ClassMeeting, ClassMeeting.id == AttendanceMark.meeting_id)
            .join(TimetableSlot, TimetableSlot.id == ClassMeeting.slot_id)
            .where(
                AttendanceMark.student_id == student_id,
                TimetableSlot.discipline_id == discipline_id,
                TimetableSlot.period_id == period_id,
            )
        )
    ).one()
    held, absent = int(counts[0] or 0), int(counts[1] or 0)
    group_id = await session.scalar(select(Student.group_id).where(Student.id == student_id))
    planned = 0
    if group_id is not None:
        planned = await planned_classes(session, group_id, discipline_id, period_id)
    return AbsenceShare(
        absent=absent, held=held, planned=planned, limit=academic_config().absence_limit
    )


# ---- changing marks --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarkChange:
    enrolment_id: int
    student_id: int
    discipline_id: int
    period_id: int
    control: str
    old: Decimal | None
    new: Decimal | None
    final: Decimal | None
    letter: str | None


def _names(discipline: Discipline) -> dict[str, str]:
    return {"kk": discipline.name_kk, "ru": discipline.name_ru, "en": discipline.name_en}


async def _enrolment_for(
    session: AsyncSession, student_id: int, discipline_id: int, period_id: int, now: datetime
) -> Enrolment:
    enrolment = await session.scalar(
        select(Enrolment)
        .where(
            Enrolment.student_id == student_id,
            Enrolment.discipline_id == discipline_id,
            Enrolment.period_id == period_id,
        )
        .options(joinedload(Enrolment.discipline))
    )
    if enrolment is not None:
        return enrolment
    # An import or a test result may name a discipline the plan has not listed yet.
    known = (
        await session.execute(
            select(
                select(Student.id).where(Student.id == student_id).scalar_subquery(),
                select(Discipline.id).where(Discipline.id == discipline_id).scalar_subquery(),
                select(AcademicPeriod.id).where(AcademicPeriod.id == period_id).scalar_subquery(),
            )
        )
    ).one()
    if None in tuple(known):
        raise DomainError(
            "enrolment_unknown", lambda: _("This student, discipline or period does not exist.")
        )
    enrolment = Enrolment(
        student_id=student_id, discipline_id=discipline_id, period_id=period_id, updated_at=now
    )
    session.add(enrolment)
    await session.flush()
    await session.refresh(enrolment, ["discipline"])
    return enrolment


async def _student_user_id(session: AsyncSession, student_id: int) -> int | None:
    return await session.scalar(select(Student.user_id).where(Student.id == student_id))


async def set_control_mark(
    session: AsyncSession,
    *,
    student_id: int,
    discipline_id: int,
    period_id: int,
    control: str,
    value: Any,
    now: datetime,
    author_user_id: int | None = None,
    source: str = "staff",
) -> MarkChange | None:
    """Set (or clear, with None) midterm 1, midterm 2 or the exam; None when nothing changed.

    The student gets a push with the discipline, the change and the new final.
    """
    if control not in CONTROLS:
        raise DomainError("control_unknown", lambda: _("Unknown kind of control."))
    mark = _as_mark(value)
    enrolment = await _enrolment_for(session, student_id, discipline_id, period_id, now)
    old = getattr(enrolment, control)
    if old == mark and (old is None) == (mark is None):
        return None
    setattr(enrolment, control, mark)
    enrolment.updated_at = now
    await session.flush()
    result = grading.outcome(enrolment.midterm1, enrolment.midterm2, enrolment.exam, rules())
    change = MarkChange(
        enrolment_id=enrolment.id,
        student_id=student_id,
        discipline_id=discipline_id,
        period_id=period_id,
        control=control,
        old=old,
        new=mark,
        final=result.final,
        letter=result.letter_grade.letter if result.letter_grade else None,
    )
    await _push_change(session, enrolment, change, now, source)
    return change


async def add_current_mark(
    session: AsyncSession,
    *,
    student_id: int,
    discipline_id: int,
    period_id: int,
    value: Any,
    work_kind: str,
    on_date: date,
    now: datetime,
    author_user_id: int | None = None,
    source: str = "staff",
) -> CurrentMark:
    """Add a current (weekly) mark; the student gets a push with the new current average."""
    try:
        kind = WorkKind(work_kind)
    except ValueError:
        raise DomainError("work_kind_unknown", lambda: _("Unknown kind of work.")) from None
    mark = _as_mark(value)
    if mark is None:
        raise DomainError("mark_range", lambda: _("A mark is a number from 0 to 100."))
    enrolment = await _enrolment_for(session, student_id, discipline_id, period_id, now)
    row = CurrentMark(
        enrolment_id=enrolment.id,
        on_date=on_date,
        work_kind=kind,
        value=mark,
        source=source[:16],
        author_user_id=author_user_id,
        created_at=now,
    )
    session.add(row)
    enrolment.updated_at = now
    await session.flush()
    values = (await _current_values(session, [enrolment.id])).get(enrolment.id, [])
    result = grading.outcome(enrolment.midterm1, enrolment.midterm2, enrolment.exam, rules())
    change = MarkChange(
        enrolment_id=enrolment.id,
        student_id=student_id,
        discipline_id=discipline_id,
        period_id=period_id,
        control="current",
        old=None,
        new=mark,
        final=result.final,
        letter=result.letter_grade.letter if result.letter_grade else None,
    )
    await _push_change(
        session,
        enrolment,
        change,
        now,
        source,
        extra={"work_kind": kind.value, "average": mark_text(grading.current_average(values))},
    )
    return row


async def _push_change(
    session: AsyncSession,
    enrolment: Enrolment,
    change: MarkChange,
    now: datetime,
    source: str,
    extra: dict[str, Any] | None = None,
) -> None:
    user_id = await _student_user_id(session, change.student_id)
    if user_id is None:
        return
    params: dict[str, Any] = {
        "enrolment_id": enrolment.id,
        "discipline": _names(enrolment.discipline),
        "control": change.control,
        "old": mark_text(change.old),
        "new": mark_text(change.new),
        "final": mark_text(change.final),
        "letter": change.letter,
        "source": source,
    }
    if extra:
        params.update(extra)
    await notify(
        session,
        user_id=user_id,
        kind=NoticeKind.grades,
        template="journal.mark_changed",
        params=params,
        now=now,
        ref_type="enrolment",
        ref_id=enrolment.id,
    )


# ---- attendance ------------------------------------------------------------------------------


async def mark_attendance(
    session: AsyncSession,
    *,
    meeting_id: int,
    student_id: int,
    present: bool,
    source: str,
    now: datetime,
) -> bool:
    """Record presence or absence at one class; True when something changed.

    An absence that takes the student to the absence limit of the discipline queues one warning
    per discipline and period.
    """
    try:
        origin = AttendanceSource(source)
    except ValueError:
        raise DomainError("source_unknown", lambda: _("Unknown source of attendance.")) from None
    meeting = await session.scalar(
        select(ClassMeeting)
        .where(ClassMeeting.id == meeting_id)
        .options(joinedload(ClassMeeting.slot).joinedload(TimetableSlot.discipline))
    )
    if meeting is None:
        raise DomainError("meeting_unknown", lambda: _("This class does not exist."))
    student = await session.scalar(select(Student).where(Student.id == student_id))
    if student is None or student.group_id != meeting.slot.group_id:
        raise DomainError("not_in_group", lambda: _("This student is not in the class's group."))
    existing = await session.scalar(
        select(AttendanceMark).where(
            AttendanceMark.meeting_id == meeting_id, AttendanceMark.student_id == student_id
        )
    )
    if existing is not None and existing.present == present:
        return False
    if existing is None:
        session.add(
            AttendanceMark(
                meeting_id=meeting_id,
                student_id=student_id,
                present=present,
                source=origin,
                marked_at=now,
            )
        )
    else:
        existing.present = present
        existing.source = origin
        existing.marked_at = now
    await session.flush()
    if not present:
        slot = meeting.slot
        share = await absence_share(session, student_id, slot.discipline_id, slot.period_id)
        if share.over_limit:
            await notify(
                session,
                user_id=student.user_id,
                kind=NoticeKind.attendance,
                template="journal.absence_limit",
                params={
                    "discipline": _names(slot.discipline),
                    "absent": share.absent,
                    "base": share.planned or share.held,
                    "limit": int(share.limit * 100),
                },
                now=now,
                dedupe_key=f"absence:{student_id}:{slot.discipline_id}:{slot.period_id}",
                ref_type="discipline",
                ref_id=slot.discipline_id,
            )
    return True


# ---- teachers --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TeachingUnit:
    """A discipline a teacher teaches to a group in a period."""

    discipline: Discipline
    group: Group


async def teaching_units(
    session: AsyncSession, teacher_id: int | None, period_id: int
) -> list[TeachingUnit]:
    """Discipline × group pairs of a teacher in the period (of everyone when teacher_id is None),
    from their enrolments and their timetable slots."""
    from_enrolments = (
        select(Enrolment.discipline_id, Student.group_id)
        .join(Student, Student.id == Enrolment.student_id)
        .where(Enrolment.period_id == period_id)
    )
    from_slots = select(TimetableSlot.discipline_id, TimetableSlot.group_id).where(
        TimetableSlot.period_id == period_id
    )
    if teacher_id is not None:
        from_enrolments = from_enrolments.where(Enrolment.teacher_id == teacher_id)
        from_slots = from_slots.where(TimetableSlot.teacher_id == teacher_id)
    pairs = {tuple(p) for p in (await session.execute(from_enrolments.distinct())).all()}
    pairs |= {tuple(p) for p in (await session.execute(from_slots.distinct())).all()}
    if not pairs:
        return []
    disciplines = {
        d.id: d
        for d in await session.scalars(
            select(Discipline).where(Discipline.id.in_({p[0] for p in pairs}))
        )
    }
    groups = {
        g.id: g
        for g in await session.scalars(select(Group).where(Group.id.in_({p[1] for p in pairs})))
    }
    units = [TeachingUnit(disciplines[d], groups[g]) for d, g in pairs]
    units.sort(key=lambda u: (u.group.code, u.discipline.code))
    return units


async def teaches(
    session: AsyncSession, teacher_id: int, discipline_id: int, group_id: int, period_id: int
) -> bool:
    """Whether the teacher has this discipline with this group in the period."""
    slot = await session.scalar(
        select(TimetableSlot.id)
        .where(
            TimetableSlot.teacher_id == teacher_id,
            TimetableSlot.discipline_id == discipline_id,
            TimetableSlot.group_id == group_id,
            TimetableSlot.period_id == period_id,
        )
        .limit(1)
    )
    if slot is not None:
        return True
    enrolment = await session.scalar(
        select(Enrolment.id)
        .join(Student, Student.id == Enrolment.student_id)
        .where(
            Enrolment.teacher_id == teacher_id,
            Enrolment.discipline_id == discipline_id,
            Student.group_id == group_id,
            Enrolment.period_id == period_id,
        )
        .limit(1)
    )
    return enrolment is not None


async def may_grade(
    session: AsyncSession, *, teacher_id: int | None, is_staff: bool, enrolment: Enrolment
) -> bool:
    """A teacher touches only enrolments they teach (staff and admins may touch all)."""
    if is_staff:
        return True
    if teacher_id is None:
        return False
    if enrolment.teacher_id == teacher_id:
        return True
    group_id = await session.scalar(
        select(Student.group_id).where(Student.id == enrolment.student_id)
    )
    if group_id is None:
        return False
    return (
        await session.scalar(
            select(TimetableSlot.id)
            .where(
                TimetableSlot.teacher_id == teacher_id,
                TimetableSlot.discipline_id == enrolment.discipline_id,
                TimetableSlot.group_id == group_id,
                TimetableSlot.period_id == enrolment.period_id,
            )
            .limit(1)
        )
        is not None
    )


@dataclass(frozen=True, slots=True)
class RosterLine:
    student: Student
    user: User
    row: JournalRow | None


async def roster(
    session: AsyncSession, discipline_id: int, group_id: int, period_id: int
) -> list[RosterLine]:
    """The students of the group with their row in this discipline (None if not enrolled)."""
    students = list(
        (
            await session.execute(
                select(Student, User)
                .join(User, User.id == Student.user_id)
                .where(Student.group_id == group_id)
                .order_by(User.last_name, User.first_name, Student.id)
            )
        ).all()
    )
    enrolments = {
        e.student_id: e
        for e in await session.scalars(
            select(Enrolment)
            .where(
                Enrolment.discipline_id == discipline_id,
                Enrolment.period_id == period_id,
                Enrolment.student_id.in_([s.id for s, _u in students]),
            )
            .options(joinedload(Enrolment.discipline))
        )
    }
    values = await _current_values(session, [e.id for e in enrolments.values()])
    cfg = rules()
    lines = []
    for student, user in students:
        enrolment = enrolments.get(student.id)
        row = _row(enrolment, values.get(enrolment.id, []), cfg) if enrolment else None
        lines.append(RosterLine(student, user, row))
    return lines


async def meeting_marks(session: AsyncSession, meeting_id: int) -> dict[int, bool]:
    rows = await session.execute(
        select(AttendanceMark.student_id, AttendanceMark.present).where(
            AttendanceMark.meeting_id == meeting_id
        )
    )
    return {student_id: present for student_id, present in rows}
