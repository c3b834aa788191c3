"""The transcript (§9): every graded discipline by period, practices, the final attestation,
period and cumulative GPA; and the document handed to the PDF renderer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.services import grading
from bot.services.grading import LetterGrade
from bot.services.journal import JournalRow, journal_rows, rules, student_periods, summarize
from db.models import AcademicPeriod, Group, Programme, Student
from db.models.academic import AttestationKind, FinalAttestation, Practice

if TYPE_CHECKING:
    from bot.services.pdf_transcript import TranscriptDoc


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    row: JournalRow
    retaken: bool  # a failed attempt replaced by a later one in the cumulative GPA


@dataclass(frozen=True, slots=True)
class TranscriptPeriodData:
    period: AcademicPeriod
    lines: list[TranscriptLine]
    gpa: Decimal | None
    credits: int


@dataclass(frozen=True, slots=True)
class GradedItem:
    """A practice or an attestation row with its letter computed from the percent."""

    credits: int
    percent: Decimal | None
    grade: LetterGrade | None


@dataclass(frozen=True, slots=True)
class TranscriptData:
    student: Student
    periods: list[TranscriptPeriodData]
    practices: list[tuple[Practice, GradedItem]]
    attestations: list[tuple[FinalAttestation, GradedItem]]
    cumulative_gpa: Decimal | None
    total_credits: int


def _graded(credits: int, percent: Decimal | None) -> GradedItem:
    grade = grading.grade_for(percent, rules()) if percent is not None else None
    return GradedItem(credits, percent, grade)


async def transcript(session: AsyncSession, student_id: int) -> TranscriptData | None:
    student = await session.scalar(
        select(Student)
        .where(Student.id == student_id)
        .options(
            joinedload(Student.user),
            joinedload(Student.group).joinedload(Group.programme).joinedload(Programme.faculty),
            joinedload(Student.group).joinedload(Group.study_form),
        )
    )
    if student is None:
        return None
    rows = await journal_rows(session, student_id)
    periods = await student_periods(session, student_id)
    order = {p.id: index for index, p in enumerate(periods)}
    summary = summarize(rows, order)
    result: list[TranscriptPeriodData] = []
    for period in periods:
        graded = [r for r in rows if r.period_id == period.id and r.grade is not None]
        if not graded:
            continue
        result.append(
            TranscriptPeriodData(
                period=period,
                lines=[TranscriptLine(r, r.enrolment_id in summary.retaken) for r in graded],
                gpa=summary.period_gpa.get(period.id),
                credits=sum(r.credits for r in graded),
            )
        )
    practices = [
        (p, _graded(p.credits, p.percent))
        for p in await session.scalars(
            select(Practice).where(Practice.student_id == student_id).order_by(Practice.starts_on)
        )
    ]
    attestations = [
        (a, _graded(a.credits, a.percent))
        for a in await session.scalars(
            select(FinalAttestation)
            .where(FinalAttestation.student_id == student_id)
            .order_by(FinalAttestation.kind, FinalAttestation.id)
        )
    ]
    pass_line = rules().pass_threshold
    extra_credits = sum(
        item.credits
        for _obj, item in practices + attestations
        if item.percent is not None and grading.round_percent(item.percent) >= pass_line
    )
    return TranscriptData(
        student=student,
        periods=result,
        practices=practices,
        attestations=attestations,
        cumulative_gpa=summary.cumulative,
        total_credits=summary.credits_earned + extra_credits,
    )


def to_document(
    data: TranscriptData,
    *,
    locale: str,
    university: str,
    issue_date: date,
    period_title: Callable[[AcademicPeriod], str],
    traditional: Callable[[str], str],
    practice_period: Callable[[Practice], str],
) -> TranscriptDoc:
    """The PDF renderer's input; names in `locale`, texts from the given callables."""
    # Imported here: the renderer's module loads fpdf2, which start-up does not need.
    from bot.services.pdf_transcript import (
        AttestationRow,
        PracticeRow,
        ThesisRow,
        TranscriptDoc,
        TranscriptPeriod,
        TranscriptRow,
    )

    student = data.student
    group = student.group

    def marks(grade: LetterGrade | None) -> dict[str, object]:
        return {
            "letter": grade.display if grade else None,
            "points": grade.points if grade else None,
            "traditional": traditional(grade.traditional) if grade else None,
        }

    periods = [
        TranscriptPeriod(
            title=period_title(item.period),
            rows=[
                TranscriptRow(
                    discipline=line.row.discipline.name(locale) + (" *" if line.retaken else ""),
                    credits=line.row.credits,
                    percent=line.row.final,
                    **marks(line.row.grade),  # type: ignore[arg-type]
                )
                for line in item.lines
            ],
            gpa=item.gpa,
            credits=item.credits,
        )
        for item in data.periods
    ]
    practices = [
        PracticeRow(
            kind=p.name(locale),
            period=practice_period(p),
            credits=g.credits,
            percent=g.percent,
            **marks(g.grade),  # type: ignore[arg-type]
        )
        for p, g in data.practices
    ]
    attestation = [
        AttestationRow(
            name=a.title + (f" ({a.protocol})" if a.protocol else ""),
            credits=g.credits,
            percent=g.percent,
            **marks(g.grade),  # type: ignore[arg-type]
        )
        for a, g in data.attestations
        if a.kind == AttestationKind.state_exam
    ]
    theses = [
        ThesisRow(
            subject=a.title + (f" ({a.protocol})" if a.protocol else ""),
            credits=g.credits,
            percent=g.percent,
            **marks(g.grade),  # type: ignore[arg-type]
        )
        for a, g in data.attestations
        if a.kind == AttestationKind.thesis
    ]
    return TranscriptDoc(
        university=university,
        faculty=group.programme.faculty.name(locale),
        programme_code=group.programme.code,
        programme_name=group.programme.name(locale),
        admission_year=student.admission_year,
        study_form=group.study_form.name(locale),
        full_name=student.user.full_name,
        student_id=student.student_no,
        periods=periods,
        total_credits=data.total_credits,
        cumulative_gpa=data.cumulative_gpa,
        issue_date=issue_date,
        practices=practices,
        attestation=attestation,
        theses=theses,
    )
