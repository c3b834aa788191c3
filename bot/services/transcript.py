"""The transcript (§9): every graded discipline by period, practices, the final attestation,
period and cumulative GPA; and the document handed to the PDF renderer."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.services import grading
from bot.services.errors import DomainError
from bot.services.grading import LetterGrade
from bot.services.i18n import _
from bot.services.journal import JournalRow, journal_rows, rules, student_periods, summarize
from bot.services.notify import NoticeKind, notify
from bot.services.pdf_transcript import (
    AttestationRow,
    PracticeRow,
    Signatory,
    ThesisRow,
    TranscriptDoc,
    TranscriptPeriod,
    TranscriptRow,
)
from bot.services.service_centre import TOKEN_RE, mask_name, new_token
from db.models import AcademicPeriod, Group, Programme, Student
from db.models.academic import AttestationKind, FinalAttestation, Practice
from db.models.documents import IssuedTranscript


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
    signatories: Sequence[Signatory] = (),
    logo_file: str | None = None,
    date_format: str = "%d.%m.%Y",
) -> TranscriptDoc:
    """The PDF renderer's input; names in `locale`, texts from the given callables.

    Catalogue names (disciplines, practices, faculty, programme, form of study) are kept in the
    three languages, so they come in `locale`, or in the first language that has one. Titles of
    the final attestation are typed once, in the language of the defence, and come as typed.
    """
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
        signatories=tuple(signatories),
        logo_file=logo_file,
        date_format=date_format,
    )


# ---- the transcript as an issued document ----------------------------------------------------

NUMBER_PREFIX = "TR"


def fingerprint(doc: TranscriptDoc, locale: str) -> str:
    """What the document says, apart from its number, date and link: the same record in the
    same language is the same document."""
    content = replace(doc, issue_date=date.min, number=None, verify_url=None)
    return hashlib.sha256(f"{locale}|{content!r}".encode()).hexdigest()


def transcript_number(transcript_id: int, issued_on: date) -> str:
    return f"{NUMBER_PREFIX}-{issued_on.year}-{transcript_id:06d}"


async def reusable_transcript(
    session: AsyncSession, student_id: int, print_hash: str, locale: str
) -> IssuedTranscript | None:
    """The latest valid transcript with this exact content, if one was already issued."""
    return await session.scalar(
        select(IssuedTranscript)
        .where(
            IssuedTranscript.student_id == student_id,
            IssuedTranscript.fingerprint == print_hash,
            IssuedTranscript.locale == locale,
            IssuedTranscript.revoked_at.is_(None),
            IssuedTranscript.pdf.is_not(None),
        )
        .order_by(IssuedTranscript.id.desc())
        .limit(1)
    )


async def reserve_transcript(
    session: AsyncSession,
    *,
    student: Student,
    locale: str,
    print_hash: str,
    now: datetime,
    issued_on: date,
) -> IssuedTranscript:
    """A registry entry with its number and token, before the PDF exists (rendering happens
    outside the write unit; `store_transcript_pdf` completes the entry, `discard_transcript`
    drops it if rendering fails)."""
    user = student.user
    token = new_token()
    issued = IssuedTranscript(
        student_id=student.id,
        # A unique stand-in until the row has its id.
        number=token[:40],
        token=token,
        locale=locale,
        fingerprint=print_hash,
        issued_at=now,
        issue_date=issued_on,
        holder_name=user.full_name,
        holder_masked=mask_name(user.first_name, user.last_name),
        file_name="transcript.pdf",
    )
    session.add(issued)
    await session.flush()
    issued.number = transcript_number(issued.id, issued_on)
    issued.file_name = f"transcript-{student.student_no}-{issued.number}.pdf"
    await session.flush()
    return issued


async def store_transcript_pdf(session: AsyncSession, transcript_id: int, pdf: bytes) -> None:
    issued = await session.get(IssuedTranscript, transcript_id)
    if issued is not None and issued.pdf is None:
        issued.pdf = pdf


async def discard_transcript(session: AsyncSession, transcript_id: int) -> None:
    issued = await session.get(IssuedTranscript, transcript_id)
    if issued is not None and issued.pdf is None:
        await session.delete(issued)


async def drop_unfinished_transcripts(session: AsyncSession, before: datetime) -> int:
    """Forget registry entries reserved before `before` whose PDF never came (the process
    stopped mid-render); nobody ever saw their number. Returns how many were dropped."""
    result = await session.execute(
        delete(IssuedTranscript).where(
            IssuedTranscript.pdf.is_(None), IssuedTranscript.issued_at < before
        )
    )
    return int(result.rowcount or 0)


async def remember_transcript_file_id(
    session: AsyncSession, transcript_id: int, file_id: str
) -> None:
    issued = await session.get(IssuedTranscript, transcript_id)
    if issued is not None and issued.file_id is None:
        issued.file_id = file_id[:255]


async def transcript_by_token(session: AsyncSession, token: str) -> IssuedTranscript | None:
    """A completed transcript by the token of its QR code."""
    if not TOKEN_RE.fullmatch(token):
        return None
    return await session.scalar(
        select(IssuedTranscript)
        .options(joinedload(IssuedTranscript.student))
        .where(IssuedTranscript.token == token, IssuedTranscript.pdf.is_not(None))
    )


async def revoke_transcript(
    session: AsyncSession, *, transcript_id: int, actor_id: int, reason: str, now: datetime
) -> IssuedTranscript:
    """Revoke a transcript (the registrar's decision) and tell its holder why."""
    reason = " ".join(reason.split())
    if not reason:
        raise DomainError(
            "tr_reason", lambda: _("Type the reason in words (at most 1000 characters).")
        )
    issued = await session.scalar(
        select(IssuedTranscript)
        .options(joinedload(IssuedTranscript.student))
        .where(IssuedTranscript.id == transcript_id)
    )
    if issued is None or issued.revoked_at is not None:
        raise DomainError("tr_not_revocable", lambda: _("There is no valid document to revoke."))
    issued.revoked_at = now
    issued.revoked_by_id = actor_id
    issued.revoke_reason = reason[:1000]
    await session.flush()
    await notify(
        session,
        user_id=issued.student.user_id,
        kind=NoticeKind.services,
        template="documents.transcript_revoked",
        params={"number": issued.number, "reason": issued.revoke_reason},
        now=now,
        dedupe_key=f"documents:transcript_revoked:{issued.id}",
        ref_type="issued_transcript",
        ref_id=issued.id,
    )
    return issued
