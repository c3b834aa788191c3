"""Demo academic records: grades of past and current periods, the weekly timetable with
numerator/denominator weeks, attendance, the academic calendars of the year and a practice.

Everything is placed relative to `DemoContext.today`, so the demo looks "in progress" whenever
it is filled. Rows are inserted in bulk: the whole fill stays well under a second.
"""

from __future__ import annotations

import random
from datetime import date, time, timedelta
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo.context import DemoContext
from bot.demo.core import DEMO_ACCOUNTS
from db.models import (
    AcademicPeriod,
    Discipline,
    Group,
    Programme,
    Student,
    StudyForm,
    Teacher,
    User,
)
from db.models.academic import (
    AcademicCalendar,
    AttendanceMark,
    AttendanceSource,
    CalendarEvent,
    CalendarEventKind,
    ClassKind,
    ClassMeeting,
    CurrentMark,
    Enrolment,
    Practice,
    TimetableSlot,
    WeekParity,
    WorkKind,
)

# The plan of study, four disciplines a term; a group's latest four terms get one chunk each.
CURRICULUM = [
    ["HIS1101", "KAZ1103", "ENG1104", "MAT1201"],
    ["PHI1102", "ICT1105", "ALG1202", "PRG1203"],
    ["DBS2201", "ALG2202", "NET2203", "WEB2204"],
    ["OSY2205", "PRB2206", "ECO1301", "LAW1401"],
]

# Who teaches what; demo.teacher's disciplines go to other teachers outside the IS groups.
TEACHER_OF = {
    "PRG1203": "demo.teacher",
    "ICT1105": "demo.teacher",
    "DBS2201": "demo.teacher",
    "ALG2202": "demo.teacher",
    "WEB2204": "demo.teacher",
    "OSY2205": "demo.teacher",
    "PRB2206": "demo.teacher",
    "NET2203": "t.ospanov",
    "MAT1201": "t.volkova",
    "ALG1202": "t.volkova",
    "HIS1101": "t.serikbayev",
    "PHI1102": "t.serikbayev",
    "ENG1104": "t.smirnov",
    "KAZ1103": "t.abdrakhmanova",
    "ECO1301": "t.kuznetsov",
    "LAW1401": "t.zhumabayeva",
}


def _t(hour: int, minute: int = 0) -> time:
    return time(hour, minute)


# A week of classes: (weekday, start, kind, discipline index in the chunk, parity, room).
WEEK = [
    (0, _t(8), ClassKind.lecture, 0, WeekParity.all, "Б-301"),
    (0, _t(9), ClassKind.practice, 0, WeekParity.all, "Б-214"),
    (0, _t(10), ClassKind.lab, 1, WeekParity.odd, "Зертхана 412"),
    (0, _t(10), ClassKind.lab, 2, WeekParity.even, "Зертхана 410"),
    (1, _t(8), ClassKind.lecture, 1, WeekParity.all, "Б-301"),
    (1, _t(9), ClassKind.practice, 1, WeekParity.all, "Б-216"),
    (1, _t(11), ClassKind.srop, 0, WeekParity.all, "Б-118"),
    (2, _t(8), ClassKind.lecture, 2, WeekParity.all, "А-105"),
    (2, _t(9), ClassKind.practice, 2, WeekParity.odd, "А-207"),
    (2, _t(9), ClassKind.practice, 3, WeekParity.even, "А-209"),
    (2, _t(13), ClassKind.srs, 1, WeekParity.all, "Кітапхана"),
    (3, _t(8), ClassKind.lecture, 3, WeekParity.all, "А-105"),
    (3, _t(9), ClassKind.practice, 3, WeekParity.all, "А-207"),
    (3, _t(10), ClassKind.lab, 0, WeekParity.even, "Зертхана 412"),
    (4, _t(9), ClassKind.srop, 2, WeekParity.all, "Б-118"),
    (4, _t(10), ClassKind.lab, 3, WeekParity.odd, "Зертхана 410"),
    (4, _t(11), ClassKind.srop, 1, WeekParity.all, "Б-120"),
    (5, _t(9), ClassKind.srs, 3, WeekParity.odd, "Кітапхана"),
    (5, _t(10), ClassKind.srop, 3, WeekParity.all, "Б-118"),
]

# The demo student's past results: (midterm 1, midterm 2, exam) per chunk position, with a
# couple of letters below B and an FX in mathematics that is retaken the next term.
DEMO_PAST = [
    [(92, 96, 94), (88, 84, 90), (81, 77, 70), (55, 45, 30)],
    [(85, 80, 74), (96, 98, 97), (72, 68, 64), (90, 86, 88)],
    [(78, 82, 85), (94, 90, 95), (70, 66, 58), (88, 92, 90)],
    [(90, 88, 84), (76, 80, 72), (95, 97, 99), (82, 79, 81)],
]
DEMO_RETAKE = (74, 70, 68)
DEMO_FX_POSITION = 3


def _clip(value: float) -> Decimal:
    return Decimal(max(0, min(100, round(value))))


def _past_marks(ability: float, rng: random.Random) -> tuple[Decimal, Decimal, Decimal]:
    m1 = _clip(rng.gauss(ability, 8))
    m2 = _clip(rng.gauss(ability, 8))
    exam = _clip(rng.gauss(ability - 3, 10))
    return m1, m2, exam


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week_no(period: AcademicPeriod, day: date) -> int:
    return (_monday(day) - _monday(period.starts_on)).days // 7 + 1


def _dates(slot: TimetableSlot, period: AcademicPeriod, last: date) -> list[date]:
    """The dates of a weekly slot from the period's start up to `last`."""
    day = period.starts_on + timedelta(days=(slot.weekday - period.starts_on.weekday()) % 7)
    found = []
    while day <= last:
        if _runs(slot.weekday, slot.week_parity, period, day):
            found.append(day)
        day += timedelta(days=7)
    return found


def _runs(weekday: int, parity: WeekParity, period: AcademicPeriod, day: date) -> bool:
    if day.weekday() != weekday or not period.starts_on <= day <= period.ends_on:
        return False
    if parity == WeekParity.all:
        return True
    odd = _week_no(period, day) % 2 == 1
    return odd == (parity == WeekParity.odd)


async def seed(session: AsyncSession, ctx: DemoContext) -> None:
    rng = random.Random(f"academic-{ctx.year}")
    periods = list(
        await session.scalars(select(AcademicPeriod).order_by(AcademicPeriod.starts_on))
    )
    if not periods:
        return
    await _seed_calendars(session, ctx, periods)
    if await session.scalar(select(Enrolment.id).limit(1)) is not None:
        return  # grades were filled before (the demo is idempotent)

    current = next(
        (p for p in periods if p.starts_on <= ctx.today <= p.ends_on),
        None,
    ) or max((p for p in periods if p.starts_on <= ctx.today), key=lambda p: p.starts_on)
    disciplines = {d.code: d for d in await session.scalars(select(Discipline))}
    teachers = {
        login: teacher_id
        for login, teacher_id in await session.execute(
            select(User.login, Teacher.id).join(Teacher, Teacher.user_id == User.id)
        )
    }
    groups = list(await session.scalars(select(Group).order_by(Group.id)))
    demo_login = DEMO_ACCOUNTS["student"][0]
    students = list(
        (
            await session.execute(
                select(Student, User.login)
                .join(User, User.id == Student.user_id)
                .order_by(Student.id)
            )
        ).all()
    )
    by_group: dict[int, list[tuple[Student, bool]]] = {}
    for student, login in students:
        by_group.setdefault(student.group_id, []).append((student, login == demo_login))

    is_groups = {g.id for g in groups[:2]}
    enrolment_rows: list[dict] = []
    slot_rows: list[dict] = []
    plan: list[tuple[int, AcademicPeriod, list[str]]] = []
    for group in groups:
        terms = [
            p
            for p in periods
            if int(p.academic_year[:4]) >= group.admission_year
            and p.starts_on <= current.starts_on
        ][-len(CURRICULUM) :]
        for index, period in enumerate(terms):
            plan.append((group.id, period, CURRICULUM[index]))

    def teacher_for(code: str, group_id: int) -> int | None:
        login = TEACHER_OF.get(code, "t.ospanov")
        if login == "demo.teacher" and group_id not in is_groups:
            login = "t.ospanov"
        return teachers.get(login)

    abilities: dict[int, float] = {}
    busy: dict[tuple[str, int, int, int], set[WeekParity]] = {}
    for group_id, period, codes in plan:
        is_current = period.id == current.id
        finished = period.ends_on < ctx.today
        for student, is_demo in by_group.get(group_id, []):
            ability = abilities.setdefault(
                student.id, 84.0 if is_demo else min(97.0, max(45.0, rng.gauss(76, 11)))
            )
            chunk_index = CURRICULUM.index(codes)
            for position, code in enumerate(codes):
                marks: tuple[Decimal | None, Decimal | None, Decimal | None]
                if is_demo and not is_current:
                    marks = tuple(Decimal(v) for v in DEMO_PAST[chunk_index][position])  # type: ignore[assignment]
                else:
                    marks = _past_marks(ability, rng)
                if is_current and not finished:
                    week = _week_no(period, ctx.today)
                    m1, m2, _exam = marks
                    marks = (m1 if week > 8 else None, m2 if week > 16 else None, None)
                enrolment_rows.append(
                    {
                        "student_id": student.id,
                        "discipline_id": disciplines[code].id,
                        "period_id": period.id,
                        "teacher_id": teacher_for(code, group_id),
                        "midterm1": marks[0],
                        "midterm2": marks[1],
                        "exam": marks[2],
                    }
                )
            if is_demo and chunk_index == 0 and not is_current:
                retake_period = next(
                    (p for _g, p, c in plan if _g == group_id and c is CURRICULUM[1]), None
                )
                if retake_period is not None:
                    code = codes[DEMO_FX_POSITION]
                    enrolment_rows.append(
                        {
                            "student_id": student.id,
                            "discipline_id": disciplines[code].id,
                            "period_id": retake_period.id,
                            "teacher_id": teacher_for(code, group_id),
                            "midterm1": Decimal(DEMO_RETAKE[0]),
                            "midterm2": Decimal(DEMO_RETAKE[1]),
                            "exam": Decimal(DEMO_RETAKE[2]),
                        }
                    )
        if is_current:
            shift = next(i for i, g in enumerate(groups) if g.id == group_id)
            for weekday, start, kind, index, parity, room in WEEK:
                if index >= len(codes):
                    continue
                code = codes[index]
                teacher_id = teacher_for(code, group_id)
                hour = _free_hour(busy, group_id, teacher_id, weekday, start.hour + shift, parity)
                slot_rows.append(
                    {
                        "group_id": group_id,
                        "discipline_id": disciplines[code].id,
                        "teacher_id": teacher_id,
                        "period_id": period.id,
                        "weekday": weekday,
                        "starts_at": time(hour, 0),
                        "ends_at": time(hour, 50),
                        "kind": kind,
                        "room": room,
                        "week_parity": parity,
                    }
                )
    if enrolment_rows:
        await session.execute(insert(Enrolment), enrolment_rows)
    if slot_rows:
        await session.execute(insert(TimetableSlot), slot_rows)
    await _seed_current_marks(session, ctx, current, rng, abilities)
    await _seed_attendance(session, ctx, current, groups[:2], by_group, rng)
    await _seed_practices(session, periods, current, by_group, groups)


def _free_hour(
    busy: dict[tuple[str, int, int, int], set[WeekParity]],
    group_id: int,
    teacher_id: int | None,
    weekday: int,
    hour: int,
    parity: WeekParity,
) -> int:
    """The first hour from `hour` at which neither the group nor the teacher has a class."""

    def clashes(taken: set[WeekParity]) -> bool:
        return bool(taken) and (
            parity == WeekParity.all or WeekParity.all in taken or parity in taken
        )

    while hour < 20:
        keys = [("g", group_id, weekday, hour)]
        if teacher_id is not None:
            keys.append(("t", teacher_id, weekday, hour))
        if not any(clashes(busy.get(key, set())) for key in keys):
            for key in keys:
                busy.setdefault(key, set()).add(parity)
            return hour
        hour += 1
    return hour


async def _seed_current_marks(
    session: AsyncSession,
    ctx: DemoContext,
    current: AcademicPeriod,
    rng: random.Random,
    abilities: dict[int, float],
) -> None:
    """A mark a week per discipline, on the day of the discipline's practice or lab."""
    enrolments = list(
        await session.execute(
            select(Enrolment.id, Enrolment.student_id, Enrolment.discipline_id, Student.group_id)
            .join(Student, Student.id == Enrolment.student_id)
            .where(Enrolment.period_id == current.id)
        )
    )
    slots = list(
        await session.scalars(select(TimetableSlot).where(TimetableSlot.period_id == current.id))
    )
    practice_days: dict[tuple[int, int], list[TimetableSlot]] = {}
    for slot in slots:
        if slot.kind in (ClassKind.practice, ClassKind.lab, ClassKind.srop):
            practice_days.setdefault((slot.group_id, slot.discipline_id), []).append(slot)
    last_day = min(ctx.today - timedelta(days=1), current.ends_on)
    rows: list[dict] = []
    for enrolment_id, student_id, discipline_id, group_id in enrolments:
        ability = abilities.get(student_id, 75.0)
        for slot in practice_days.get((group_id, discipline_id), []):
            for day in _dates(slot, current, last_day):
                if rng.random() < 0.5:
                    kind = {
                        ClassKind.practice: WorkKind.practice,
                        ClassKind.lab: WorkKind.lab,
                        ClassKind.srop: WorkKind.srop,
                    }[slot.kind]
                    rows.append(
                        {
                            "enrolment_id": enrolment_id,
                            "on_date": day,
                            "work_kind": kind,
                            "value": _clip(rng.gauss(ability, 9)),
                            "source": "staff",
                        }
                    )
    if rows:
        await session.execute(insert(CurrentMark), rows)


async def _seed_attendance(
    session: AsyncSession,
    ctx: DemoContext,
    current: AcademicPeriod,
    groups: list[Group],
    by_group: dict[int, list[tuple[Student, bool]]],
    rng: random.Random,
) -> None:
    """Attendance of the two IS groups at every class held so far; a few absences."""
    last_day = min(ctx.today - timedelta(days=1), current.ends_on)
    slots = list(
        await session.scalars(
            select(TimetableSlot).where(
                TimetableSlot.period_id == current.id,
                TimetableSlot.group_id.in_([g.id for g in groups]),
            )
        )
    )
    wanted = [
        {"slot_id": slot.id, "on_date": day}
        for slot in slots
        for day in _dates(slot, current, last_day)
    ]
    if not wanted:
        return
    ids = list(
        await session.scalars(
            insert(ClassMeeting).returning(ClassMeeting.id, sort_by_parameter_order=True),
            wanted,
        )
    )
    group_of = {slot.id: slot.group_id for slot in slots}
    rows: list[dict] = []
    for meeting_id, meeting in zip(ids, wanted, strict=True):
        for student, is_demo in by_group.get(group_of[meeting["slot_id"]], []):
            present = rng.random() >= (0.05 if is_demo else 0.08)
            rows.append(
                {
                    "meeting_id": meeting_id,
                    "student_id": student.id,
                    "present": present,
                    "source": AttendanceSource.teacher,
                }
            )
    if rows:
        await session.execute(insert(AttendanceMark), rows)


async def _seed_practices(
    session: AsyncSession,
    periods: list[AcademicPeriod],
    current: AcademicPeriod,
    by_group: dict[int, list[tuple[Student, bool]]],
    groups: list[Group],
) -> None:
    """The educational practice after the first year, for students past their first year."""
    rows: list[dict] = []
    for group in groups:
        first_spring = next(
            (p for p in periods if p.term == 2 and p.starts_on.year == group.admission_year + 1),
            None,
        )
        if first_spring is None or first_spring.ends_on >= current.starts_on:
            continue
        for index, (student, is_demo) in enumerate(by_group.get(group.id, [])):
            rows.append(
                {
                    "student_id": student.id,
                    "period_id": first_spring.id,
                    "name_kk": "Оқу практикасы",
                    "name_ru": "Учебная практика",
                    "name_en": "Educational practice",
                    "starts_on": first_spring.ends_on - timedelta(days=27),
                    "ends_on": first_spring.ends_on - timedelta(days=6),
                    "credits": 2,
                    "percent": Decimal(88) if is_demo else Decimal(70 + (index * 7) % 28),
                }
            )
    if rows:
        await session.execute(insert(Practice), rows)


# ---- academic calendars ----------------------------------------------------------------------


async def _seed_calendars(
    session: AsyncSession, ctx: DemoContext, periods: list[AcademicPeriod]
) -> None:
    year = ctx.year
    academic_year = f"{year}-{year + 1}"
    terms = {p.term: p for p in periods if p.academic_year == academic_year}
    if 1 not in terms or 2 not in terms:
        return
    programme = await session.scalar(select(Programme).where(Programme.code == "6B06101"))
    forms = {f.code: f for f in await session.scalars(select(StudyForm))}
    specs = [
        (
            f"AC-{academic_year}",
            None,
            None,
            None,
            (
                f"Университеттің академиялық күнтізбесі {academic_year}",
                f"Академический календарь университета {academic_year}",
                f"University academic calendar {academic_year}",
            ),
        ),
    ]
    for course in (1, 2, 3):
        specs.append(
            (
                f"AC-{academic_year}-FT-{course}",
                None,
                course,
                forms.get("full_time"),
                (
                    f"Академиялық күнтізбе {academic_year}: күндізгі, {course} курс",
                    f"Академический календарь {academic_year}: очное, {course} курс",
                    f"Academic calendar {academic_year}: full-time, year {course}",
                ),
            )
        )
    specs.append(
        (
            f"AC-{academic_year}-PT",
            None,
            None,
            forms.get("part_time"),
            (
                f"Академиялық күнтізбе {academic_year}: сырттай",
                f"Академический календарь {academic_year}: заочное",
                f"Academic calendar {academic_year}: part-time",
            ),
        )
    )
    if programme is not None:
        specs.append(
            (
                f"AC-{academic_year}-IS-2",
                programme,
                2,
                forms.get("full_time"),
                (
                    f"Академиялық күнтізбе {academic_year}: Ақпараттық жүйелер, 2 курс",
                    f"Академический календарь {academic_year}: Информационные системы, 2 курс",
                    f"Academic calendar {academic_year}: Information Systems, year 2",
                ),
            )
        )
    for code, prog, course, form, (kk, ru, en) in specs:
        existing = await session.scalar(
            select(AcademicCalendar.id).where(AcademicCalendar.code == code)
        )
        if existing is not None:
            continue
        calendar = AcademicCalendar(
            code=code,
            academic_year=academic_year,
            programme_id=prog.id if prog else None,
            course=course,
            study_form_id=form.id if form else None,
            name_kk=kk,
            name_ru=ru,
            name_en=en,
        )
        session.add(calendar)
        await session.flush()
        events = _events(terms[1], terms[2], course, form.code if form else None)
        await session.execute(
            insert(CalendarEvent),
            [{"calendar_id": calendar.id, **event} for event in events],
        )


def _ev(
    kind: CalendarEventKind,
    term: int | None,
    start: date,
    end: date,
    kk: str,
    ru: str,
    en: str,
) -> dict:
    return {
        "kind": kind,
        "term": term,
        "starts_on": start,
        "ends_on": max(start, end),
        "name_kk": kk,
        "name_ru": ru,
        "name_en": en,
    }


def _week(period: AcademicPeriod, number: int) -> tuple[date, date]:
    monday = _monday(period.starts_on) + timedelta(weeks=number - 1)
    return monday, monday + timedelta(days=5)


def _events(t1: AcademicPeriod, t2: AcademicPeriod, course: int | None, form: str | None) -> list:
    """The events of Figure 5 for both terms of the year."""
    k = CalendarEventKind
    events = []
    for term, period in ((1, t1), (2, t2)):
        teaching_end = _week(period, 15)[1]
        mid1 = _week(period, 8)
        mid2 = _week(period, 15)
        session_start = teaching_end + timedelta(days=2)
        session_end = min(period.ends_on, session_start + timedelta(days=20))
        if form == "part_time":
            mid1 = _week(period, 6)
            mid2 = _week(period, 12)
        events += [
            _ev(
                k.semester,
                term,
                period.starts_on,
                period.starts_on,
                "Семестрдің басы",
                "Начало семестра",
                "Semester starts",
            ),
            _ev(
                k.semester,
                term,
                teaching_end,
                teaching_end,
                "Семестрдің соңы",
                "Конец семестра",
                "Semester ends",
            ),
            _ev(
                k.add_drop,
                term,
                period.starts_on + timedelta(days=10),
                period.starts_on + timedelta(days=10),
                "Пәндерді қосу/алып тастау мерзімі",
                "Срок добавления/удаления дисциплин",
                "Add/drop deadline",
            ),
            _ev(k.midterm, term, *mid1, "Аралық бақылау 1", "Рубежный контроль 1", "Midterm 1"),
            _ev(k.midterm, term, *mid2, "Аралық бақылау 2", "Рубежный контроль 2", "Midterm 2"),
            _ev(
                k.session,
                term,
                session_start,
                session_end,
                "Емтихан сессиясы",
                "Экзаменационная сессия",
                "Exam session",
            ),
            _ev(
                k.grading,
                term,
                session_start,
                session_end + timedelta(days=3) if session_end < period.ends_on else session_end,
                "Қорытынды баға қою кезеңі",
                "Период выставления итоговых оценок",
                "Final grading period",
            ),
        ]
    events.append(
        _ev(
            k.registration,
            1,
            _week(t1, 12)[0],
            _week(t1, 14)[1],
            "Келесі семестрге пәндерге тіркелу",
            "Регистрация на дисциплины следующего семестра",
            "Registration for next semester's disciplines",
        )
    )
    events.append(
        _ev(
            k.registration,
            2,
            _week(t2, 12)[0],
            _week(t2, 14)[1],
            "Келесі оқу жылына тіркелу",
            "Регистрация на следующий учебный год",
            "Registration for the next academic year",
        )
    )
    events.append(
        _ev(
            k.vacation,
            None,
            # From the end of the winter grading period to the spring semester.
            min(_week(t1, 15)[1] + timedelta(days=26), t2.starts_on - timedelta(days=1)),
            t2.starts_on - timedelta(days=1),
            "Қысқы демалыс",
            "Зимние каникулы",
            "Winter holidays",
        )
    )
    year2 = t2.starts_on.year
    events.append(
        _ev(
            k.holiday,
            1,
            date(t1.starts_on.year, 12, 16),
            date(t1.starts_on.year, 12, 17),
            "Тәуелсіздік күні",
            "День Независимости",
            "Independence Day",
        )
    )
    events.append(
        _ev(
            k.holiday,
            2,
            date(year2, 3, 21),
            date(year2, 3, 23),
            "Наурыз мейрамы",
            "Наурыз мейрамы",
            "Nauryz holiday",
        )
    )
    if course != 1:
        practice_start = t2.ends_on - timedelta(days=27)
        name = (
            ("Өндірістік практика", "Производственная практика", "Industrial practice")
            if course and course >= 3
            else ("Оқу практикасы", "Учебная практика", "Educational practice")
        )
        events.append(_ev(k.practice, 2, practice_start, t2.ends_on - timedelta(days=6), *name))
    events.append(
        _ev(
            k.vacation,
            None,
            t2.ends_on + timedelta(days=1),
            date(year2, 8, 31),
            "Жазғы демалыс",
            "Летние каникулы",
            "Summer holidays",
        )
    )
    return events
