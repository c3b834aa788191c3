"""The student's journal: the period table, a discipline's detail, exam planning, GPA, pushes
about changed marks and the absence-limit warning."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.config import load_academic_settings
from bot.delivery.render import render
from bot.demo.core import DEMO_ACCOUNTS
from bot.i18n import fmt_number
from bot.services import grading
from bot.services import journal as svc
from bot.services.timetable import meeting_for, runs_on
from db.models import AcademicPeriod, Discipline, Student, User
from db.models.academic import (
    AttendanceMark,
    ClassMeeting,
    CurrentMark,
    Enrolment,
    TimetableSlot,
    WorkKind,
)
from db.models.delivery import Delivery, NotificationSettings
from tests.conftest import App

STUDENT = DEMO_ACCOUNTS["student"]


async def demo_student(app: App, login: str = STUDENT[0]) -> Student:
    async with app.db.read() as session:
        student = await session.scalar(
            select(Student).join(User, User.id == Student.user_id).where(User.login == login)
        )
        assert student is not None
        session.expunge(student)
        return student


async def another_student(app: App, *, same_group: bool) -> Student:
    """A student other than the demo one, of the demo student's group or of another."""
    me = await demo_student(app)
    group_test = Student.group_id == me.group_id if same_group else Student.group_id != me.group_id
    async with app.db.read() as session:
        student = await session.scalar(
            select(Student).where(Student.id != me.id, group_test).order_by(Student.id).limit(1)
        )
        assert student is not None
        session.expunge(student)
        return student


async def current_period(app: App) -> AcademicPeriod:
    today = app.clock.now().astimezone(app.settings.tz).date()
    async with app.db.read() as session:
        period = await svc.current_period(session, today)
        assert period is not None
        session.expunge(period)
        return period


def en(value: Decimal | None) -> str:
    return fmt_number(value, "en") if value is not None else "—"


# ---- unit ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("85", Decimal("85.00")),
        ("85,5", Decimal("85.50")),
        (" 0 ", Decimal("0.00")),
        ("100", Decimal("100.00")),
        ("99.99", Decimal("99.99")),
        ("100.01", None),
        ("-1", None),
        ("abc", None),
        ("1e2", Decimal("100.00")),
        ("NaN", None),
        ("85.555", None),
        ("", None),
        ("9" * 5000, None),
    ],
)
def test_parse_mark(text: str, value: Decimal | None) -> None:
    assert svc.parse_mark(text) == value


def test_config_defaults_and_overrides(tmp_path: Path) -> None:
    assert load_academic_settings({}).rules == grading.DEFAULT_RULES
    assert load_academic_settings({}).absence_limit == Decimal("0.2")
    rules_file = tmp_path / "rules.json"
    rules_file.write_text(json.dumps({"admission_weight": "0.5", "exam_weight": "0.5"}))
    cfg = load_academic_settings(
        {"GRADING_RULES_FILE": str(rules_file), "ABSENCE_LIMIT_PERCENT": "25"}
    )
    assert cfg.rules.exam_weight == Decimal("0.5")
    assert cfg.absence_limit == Decimal("0.25")
    with pytest.raises(ValueError, match="ABSENCE_LIMIT_PERCENT"):
        load_academic_settings({"ABSENCE_LIMIT_PERCENT": "abc"})
    with pytest.raises(ValueError, match="cannot be read"):
        load_academic_settings({"GRADING_RULES_FILE": str(tmp_path / "missing.json")})
    rules_file.write_text(json.dumps({"pass_treshold": 50}))
    with pytest.raises(ValueError, match="unknown grading rule keys"):
        load_academic_settings({"GRADING_RULES_FILE": str(rules_file)})


def _row(
    m1: str | None, m2: str | None, exam: str | None, current: str | None = None
) -> svc.JournalRow:
    result = grading.outcome(m1, m2, exam)
    discipline = Discipline(id=1, code="X", name_kk="X", name_ru="X", name_en="X", credits=5)
    dec = lambda v: Decimal(v) if v is not None else None  # noqa: E731
    return svc.JournalRow(
        enrolment_id=1,
        discipline=discipline,
        period_id=1,
        credits=5,
        current=dec(current),
        midterm1=dec(m1),
        midterm2=dec(m2),
        admission=result.admission,
        exam=dec(exam),
        final=result.final,
        grade=result.letter_grade,
        passed=result.passed,
        exam_below_threshold=result.exam_below_threshold,
    )


def test_exam_plan_states() -> None:
    assert svc.exam_plan(_row(None, None, None)).state == "need_midterms"
    assert svc.exam_plan(_row("80", "90", "70")).state == "graded"
    plan = svc.exam_plan(_row("80", "90", None))
    assert plan.state == "plan" and plan.assumed_midterm2 is None
    assert plan.admission == Decimal("85.00")
    assert [t.exam for t in plan.targets] == [t.exam for t in grading.exam_needed("85")]
    # Midterm 2 missing: projected from the current average.
    plan = svc.exam_plan(_row("60", None, None, current="70"))
    assert plan.assumed_midterm2 == Decimal("70")
    assert plan.admission == Decimal("65.00")
    # A pass out of reach: 0.6 × 10 + 0.4 × 100 = 46.
    plan = svc.exam_plan(_row("10", "10", None))
    assert plan.pass_reachable is False
    assert plan.best_final == Decimal("46.00")


def test_cumulative_gpa_counts_the_latest_attempt_only() -> None:
    failed = _row("55", "45", "30")  # FX, 0.5 points
    retake = _row("74", "70", "68")  # 0.6 × 72 + 0.4 × 68 = 70.4 -> C+, 2.33
    retake = replace(retake, enrolment_id=2, period_id=2)
    summary = svc.summarize([failed, retake], {1: 0, 2: 1})
    assert summary.period_gpa == {1: Decimal("0.50"), 2: Decimal("2.33")}
    assert summary.cumulative == Decimal("2.33")
    assert summary.retaken == frozenset({1})
    assert summary.credits_earned == 5


def test_gpa_worked_example_through_rows() -> None:
    marks = [(("95", "95", "95"), 3), (("80", "80", "80"), 2), (("10", "10", "10"), 3)]
    rows = [
        replace(_row(*values), enrolment_id=index, credits=credits)
        for index, (values, credits) in enumerate(marks, start=1)
    ]
    assert [r.grade.points for r in rows] == [Decimal("4.00"), Decimal("3.00"), Decimal("0.00")]
    assert svc.rows_gpa(rows) == Decimal("2.25")


# ---- end to end ------------------------------------------------------------------------------


async def test_journal_shows_the_current_period(demo_app: App) -> None:
    student = await demo_student(demo_app)
    period = await current_period(demo_app)
    async with demo_app.db.read() as session:
        rows = await svc.journal_rows(session, student.id, period.id)
        summary = await svc.gpa_summary(session, student.id)
    assert rows, "the demo student has disciplines in the current period"
    client = await demo_app.signed_in(*STUDENT)
    await client.click("Journal")
    text = client.last_message().text
    assert f"{period.academic_year}, term {period.term}" in text
    for row in rows:
        assert row.discipline.name_en in text
        assert f"MT1 {en(row.midterm1)} · MT2 {en(row.midterm2)}" in text
        assert f"Cur. {en(row.current)}" in text
    # Nothing is graded yet in the current period: empty cells are dashes, not zeros.
    if all(row.exam is None for row in rows):
        assert "Exam — · Final — · —" in text
        assert "Final 0" not in text
    assert f"Cumulative GPA: {fmt_number(summary.cumulative, 'en', fixed=True)}" in text


async def test_discipline_detail_plans_the_exam_and_counts_absences(demo_app: App) -> None:
    student = await demo_student(demo_app)
    period = await current_period(demo_app)
    async with demo_app.db.read() as session:
        rows = await svc.journal_rows(session, student.id, period.id)
        row = rows[0]
        absent = await session.scalar(
            select(func.count(AttendanceMark.id))
            .join(ClassMeeting, ClassMeeting.id == AttendanceMark.meeting_id)
            .join(TimetableSlot, TimetableSlot.id == ClassMeeting.slot_id)
            .where(
                AttendanceMark.student_id == student.id,
                AttendanceMark.present.is_(False),
                TimetableSlot.discipline_id == row.discipline.id,
                TimetableSlot.period_id == period.id,
            )
        )
        marks = list(
            await session.scalars(
                select(CurrentMark).where(CurrentMark.enrolment_id == row.enrolment_id)
            )
        )
    client = await demo_app.signed_in(*STUDENT)
    await client.click("Journal")
    await client.click(f"1. {row.discipline.name_en}")
    pages = [client.last_message().text]
    while "›" in client.buttons():
        await client.click("›")
        pages.append(client.last_message().text)
    text = "\n".join(pages)
    assert all(len(page) <= 4096 for page in pages)
    assert "What the exam must be" in text
    plan = svc.exam_plan(row)
    if plan.state == "plan":
        first = plan.targets[0]
        assert f"at least {first.exam}" in text
        if plan.assumed_midterm2 is not None:
            assert f"counted as {en(plan.assumed_midterm2)}" in text
    assert f"Absences: {absent} of" in text
    for item in marks:
        assert fmt_number(item.value, "en") in text
    assert text.count("❌") == absent


async def test_pass_out_of_reach_is_said_plainly(demo_app: App) -> None:
    student = await demo_student(demo_app)
    period = await current_period(demo_app)
    async with demo_app.db.write() as session:
        enrolment = await session.scalar(
            select(Enrolment)
            .where(Enrolment.student_id == student.id, Enrolment.period_id == period.id)
            .limit(1)
        )
        enrolment.midterm1 = Decimal(5)
        enrolment.midterm2 = Decimal(10)
        enrolment.exam = None
        enrolment_id = enrolment.id
    client = await demo_app.signed_in(*STUDENT)
    await client.click_data(f"jr:d:{enrolment_id}:0")
    text = client.last_message().text
    # 0.6 × 7.5 + 0.4 × 100 = 44.5
    assert "A pass is out of reach: even 100 on the exam gives a final of 44.5" in text


async def test_previous_period_with_fx_and_retake(demo_app: App) -> None:
    student = await demo_student(demo_app)
    async with demo_app.db.read() as session:
        periods = await svc.student_periods(session, student.id)
        first = periods[0]
        rows = await svc.journal_rows(session, student.id, first.id)
    fx = [r for r in rows if r.grade is not None and r.grade.letter == "FX"]
    assert fx, "the demo student failed one discipline in the first term"
    client = await demo_app.signed_in(*STUDENT)
    await client.click("Journal")
    await client.click("Other periods")
    await client.click(f"{first.academic_year}, term {first.term}")
    text = client.last_message().text
    assert f"{first.academic_year}, term {first.term}" in text
    for row in rows:
        assert row.discipline.name_en in text
        assert f"Final {en(row.final)} · {row.grade.display}" in text
    assert "The exam is below the pass mark" in text


async def test_forty_disciplines_are_paginated(demo_app: App) -> None:
    student = await demo_student(demo_app)
    period = await current_period(demo_app)
    async with demo_app.db.write() as session:
        names = []
        for n in range(40):
            name = f"Very long discipline name number {n:02d} " + "x" * 200
            discipline = Discipline(
                code=f"LONG{n:02d}", name_kk=name, name_ru=name, name_en=name, credits=3
            )
            session.add(discipline)
            await session.flush()
            session.add(
                Enrolment(
                    student_id=student.id,
                    discipline_id=discipline.id,
                    period_id=period.id,
                    midterm1=Decimal(70),
                )
            )
            names.append(f"number {n:02d}")
    client = await demo_app.signed_in(*STUDENT)
    await client.click("Journal")
    seen = [client.last_message().text]
    while "›" in client.buttons():
        await client.click("›")
        seen.append(client.last_message().text)
    assert len(seen) > 1
    assert all(len(page) <= 4096 for page in seen)
    joined = "\n".join(seen)
    assert all(name in joined for name in names)


async def test_forged_journal_buttons_change_nothing(demo_app: App) -> None:
    other = await another_student(demo_app, same_group=True)
    async with demo_app.db.read() as session:
        foreign = await session.scalar(
            select(Enrolment.id).where(Enrolment.student_id == other.id).limit(1)
        )
    client = await demo_app.signed_in(*STUDENT)
    await client.click("Journal")
    before = client.last_message().text
    await client.click_data(f"jr:d:{foreign}:0")
    assert client.last_answer().text == "This is not available."
    await client.click_data("jr:p:999999:0")
    assert client.last_answer().text == "This is not available."
    await client.click_data("jr:p:1:99999")
    assert client.last_answer().text == "This button is no longer available."
    await client.click_data("jr:zz:1:0")
    assert client.last_answer().text == "This is not available."
    assert client.last_message().text == before
    teacher = await demo_app.signed_in(*DEMO_ACCOUNTS["teacher"])
    await teacher.click_data("jr:p:1:0")
    assert teacher.last_answer().text == "The journal is for students."


# ---- pushes ----------------------------------------------------------------------------------


async def _deliveries(app: App, user_id: int, template: str) -> list[Delivery]:
    async with app.db.read() as session:
        return list(
            await session.scalars(
                select(Delivery)
                .where(Delivery.user_id == user_id, Delivery.template == template)
                .order_by(Delivery.id)
            )
        )


async def test_mark_change_queues_a_push_that_renders(demo_app: App) -> None:
    student = await demo_student(demo_app)
    period = await current_period(demo_app)
    now = demo_app.clock.now()
    async with demo_app.db.write() as session:
        enrolment = await session.scalar(
            select(Enrolment)
            .where(Enrolment.student_id == student.id, Enrolment.period_id == period.id)
            .limit(1)
        )
        discipline_id = enrolment.discipline_id
        enrolment.midterm1, enrolment.midterm2, enrolment.exam = Decimal(80), Decimal(90), None
        await session.flush()
        change = await svc.set_control_mark(
            session,
            student_id=student.id,
            discipline_id=discipline_id,
            period_id=period.id,
            control="exam",
            value="70",
            now=now,
        )
        assert change is not None and change.final == Decimal("79.00")
        assert change.letter == "B-"
        # The same value again: nothing changes and nothing is queued.
        assert (
            await svc.set_control_mark(
                session,
                student_id=student.id,
                discipline_id=discipline_id,
                period_id=period.id,
                control="exam",
                value=Decimal("70.00"),
                now=now,
            )
            is None
        )
        name = (await session.get(Discipline, discipline_id)).name_ru
    rows = await _deliveries(demo_app, student.user_id, "journal.mark_changed")
    assert len(rows) == 1
    assert rows[0].kind == "grades"
    assert rows[0].params["final"] == "79" and rows[0].params["control"] == "exam"
    with demo_app.i18n.context(), demo_app.i18n.use_locale("ru"):
        rendered = render(rows[0].template, rows[0].params, "ru")
    assert name in rendered.text
    assert "Экзамен: 70." in rendered.text
    assert "Итоговая оценка: 79 (B−)." in rendered.text


async def test_current_mark_and_switched_off_grades(demo_app: App) -> None:
    student = await demo_student(demo_app)
    period = await current_period(demo_app)
    now = demo_app.clock.now()
    async with demo_app.db.write() as session:
        enrolment = await session.scalar(
            select(Enrolment)
            .where(Enrolment.student_id == student.id, Enrolment.period_id == period.id)
            .limit(1)
        )
        mark = await svc.add_current_mark(
            session,
            student_id=student.id,
            discipline_id=enrolment.discipline_id,
            period_id=period.id,
            value="91,5",
            work_kind="lab",
            on_date=now.date(),
            now=now,
        )
        assert mark.value == Decimal("91.50") and mark.work_kind == WorkKind.lab
        session.add(NotificationSettings(user_id=student.user_id, disabled_kinds=["grades"]))
        await session.flush()
        await svc.set_control_mark(
            session,
            student_id=student.id,
            discipline_id=enrolment.discipline_id,
            period_id=period.id,
            control="midterm2",
            value=66,
            now=now,
        )
    rows = await _deliveries(demo_app, student.user_id, "journal.mark_changed")
    # The current mark was pushed; the midterm after grades were switched off was not.
    assert [r.params["control"] for r in rows] == ["current"]
    with demo_app.i18n.context(), demo_app.i18n.use_locale("en"):
        rendered = render(rows[0].template, rows[0].params, "en")
    assert "New current mark (lab): 91.5." in rendered.text


async def test_bad_values_are_refused(demo_app: App) -> None:
    student = await demo_student(demo_app)
    period = await current_period(demo_app)
    from bot.services.errors import DomainError

    async with demo_app.db.write() as session:
        for kwargs in (
            {"control": "exam", "value": "101"},
            {"control": "exam", "value": "abc"},
            {"control": "final", "value": "50"},
        ):
            with pytest.raises(DomainError):
                await svc.set_control_mark(
                    session,
                    student_id=student.id,
                    discipline_id=1,
                    period_id=period.id,
                    now=demo_app.clock.now(),
                    **kwargs,
                )
        with pytest.raises(DomainError):
            await svc.set_control_mark(
                session,
                student_id=999999,
                discipline_id=1,
                period_id=period.id,
                control="exam",
                value=50,
                now=demo_app.clock.now(),
            )


async def test_absence_limit_warns_once(demo_app: App) -> None:
    student = await demo_student(demo_app)
    period = await current_period(demo_app)
    now = demo_app.clock.now()
    async with demo_app.db.write() as session:
        slot = await session.scalar(
            select(TimetableSlot)
            .where(
                TimetableSlot.group_id == student.group_id, TimetableSlot.period_id == period.id
            )
            .order_by(TimetableSlot.id)
            .limit(1)
        )
        share = await svc.absence_share(session, student.id, slot.discipline_id, period.id)
        assert share.planned > 0
        needed = int(share.limit * share.planned) + 1
        day = period.starts_on
        dates = []
        while len(dates) < share.planned and day <= period.ends_on:
            if runs_on(slot, period, day):
                dates.append(day)
            day += timedelta(days=1)
        changed = []
        for on_date in dates[: needed + 2]:
            meeting = await meeting_for(session, slot.id, on_date)
            changed.append(
                await svc.mark_attendance(
                    session,
                    meeting_id=meeting.id,
                    student_id=student.id,
                    present=False,
                    source="teacher",
                    now=now,
                )
            )
        # Marking the same absence again changes nothing.
        meeting = await meeting_for(session, slot.id, dates[0])
        assert not await svc.mark_attendance(
            session,
            meeting_id=meeting.id,
            student_id=student.id,
            present=False,
            source="qr",
            now=now,
        )
        final = await svc.absence_share(session, student.id, slot.discipline_id, period.id)
        assert final.over_limit
    rows = await _deliveries(demo_app, student.user_id, "journal.absence_limit")
    assert len(rows) == 1
    assert rows[0].kind == "attendance"
    with demo_app.i18n.context(), demo_app.i18n.use_locale("en"):
        text = render(rows[0].template, rows[0].params, "en").text
    assert "absence limit of 20%" in text


async def test_attendance_of_a_student_from_another_group_is_refused(demo_app: App) -> None:
    from bot.services.errors import DomainError

    other = await another_student(demo_app, same_group=False)
    period = await current_period(demo_app)
    student = await demo_student(demo_app)
    async with demo_app.db.write() as session:
        slot = await session.scalar(
            select(TimetableSlot)
            .where(
                TimetableSlot.group_id == student.group_id, TimetableSlot.period_id == period.id
            )
            .limit(1)
        )
        meeting = await meeting_for(session, slot.id, date(2000, 1, 3))
        assert other.group_id != student.group_id
        with pytest.raises(DomainError):
            await svc.mark_attendance(
                session,
                meeting_id=meeting.id,
                student_id=other.id,
                present=True,
                source="teacher",
                now=datetime.now(UTC),
            )
