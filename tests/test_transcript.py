"""The transcript on screen and as a PDF: periods, GPA, practices, attestation, long content."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from bot.demo.core import DEMO_ACCOUNTS
from bot.i18n import fmt_number
from bot.services import journal as journal_svc
from bot.services import transcript as svc
from db.models import Discipline
from db.models.academic import AttestationKind, Enrolment, FinalAttestation
from tests.conftest import App
from tests.test_journal import current_period, demo_student

STUDENT = DEMO_ACCOUNTS["student"]


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


async def read_all_pages(client) -> str:
    pages = [client.last_message().text]
    while "›" in client.buttons():
        await client.click("›")
        pages.append(client.last_message().text)
    assert all(len(page) <= 4096 for page in pages)
    return "\n".join(pages)


async def test_transcript_on_screen(demo_app: App) -> None:
    student = await demo_student(demo_app)
    async with demo_app.db.read() as session:
        data = await svc.transcript(session, student.id)
    assert data is not None and len(data.periods) >= 2
    assert data.practices
    client = await demo_app.signed_in(*STUDENT)
    await client.click("Transcript")
    text = await read_all_pages(client)
    for period in data.periods:
        assert f"{period.period.academic_year}, term {period.period.term}" in text
        assert f"Period GPA: {fmt_number(period.gpa, 'en', fixed=True)}" in text
        for line in period.lines:
            row = line.row
            assert row.discipline.name_en in text
            assert (
                f"{fmt_number(row.final, 'en')}% · {row.grade.display} · "
                f"{fmt_number(row.grade.points, 'en', fixed=True)}"
            ) in text
    # The FX retaken later is marked, and the cumulative GPA is the journal's.
    assert any(line.retaken for p in data.periods for line in p.lines)
    assert "retaken later" in text
    assert f"Cumulative GPA: {fmt_number(data.cumulative_gpa, 'en', fixed=True)}" in text
    assert "Educational practice" in text and "Professional practice" in text
    await client.click("Home")
    await client.click("Journal")
    assert f"Cumulative GPA: {fmt_number(data.cumulative_gpa, 'en', fixed=True)}" in (
        client.last_message().text
    )


async def test_transcript_pdf_has_kazakh_name_disciplines_and_gpa(demo_app: App) -> None:
    student = await demo_student(demo_app)
    async with demo_app.db.write() as session:
        session.add_all(
            [
                FinalAttestation(
                    student_id=student.id,
                    kind=AttestationKind.state_exam,
                    title="Мамандық бойынша мемлекеттік емтихан",
                    protocol="№ 12, 20.06.2029",
                    credits=4,
                    percent=Decimal(91),
                ),
                FinalAttestation(
                    student_id=student.id,
                    kind=AttestationKind.thesis,
                    title="Университеттің ақпараттық жүйесі",
                    credits=8,
                    percent=Decimal(88),
                ),
            ]
        )
    async with demo_app.db.read() as session:
        data = await svc.transcript(session, student.id)
    client = await demo_app.signed_in(*STUDENT, language="Қазақша")
    await client.click_data("nav:journal")
    journal = client.last_message().text
    await client.click_data("nav:transcript")
    await client.click_data("tr:pdf:0")
    document = client.last_message()
    assert document.document_name.startswith(f"transcript-{student.student_no}-TR-")
    text = pdf_text(document.document_bytes)
    assert "Қасымов Әлихан Ұлықбекұлы" in text
    assert "ТРАНСКРИПТ / TRANSCRIPT" in text
    for period in data.periods:
        for line in period.lines:
            # Wrapped cells split long names over lines; compare word by word.
            assert " ".join(line.row.discipline.name_kk.split()) in text
    gpa = fmt_number(data.cumulative_gpa, "kk", fixed=True)
    assert gpa in journal
    assert fmt_number(data.cumulative_gpa, "en", fixed=True) in text
    # Attestation titles are typed once, in the language of the defence, and printed as typed.
    assert "Мамандық бойынша мемлекеттік емтихан" in text
    assert "Университеттің ақпараттық жүйесі" in text
    assert "Оқу практикасы" in text
    assert "өте жақсы" in text  # traditional grades in the reader's language


async def test_long_transcript_is_paginated(demo_app: App) -> None:
    student = await demo_student(demo_app)
    period = await current_period(demo_app)
    async with demo_app.db.write() as session:
        for n in range(40):
            name = f"Elective seminar {n:02d} on a long and winding subject " + "y" * 150
            discipline = Discipline(
                code=f"EL{n:02d}", name_kk=name, name_ru=name, name_en=name, credits=2
            )
            session.add(discipline)
            await session.flush()
            session.add(
                Enrolment(
                    student_id=student.id,
                    discipline_id=discipline.id,
                    period_id=period.id,
                    midterm1=Decimal(80),
                    midterm2=Decimal(85),
                    exam=Decimal(75),
                )
            )
    client = await demo_app.signed_in(*STUDENT)
    await client.click("Transcript")
    text = await read_all_pages(client)
    assert all(f"Elective seminar {n:02d}" in text for n in range(40))


async def test_transcript_is_for_students(demo_app: App) -> None:
    teacher = await demo_app.signed_in(*DEMO_ACCOUNTS["teacher"])
    await teacher.click_data("tr:pdf:0")
    assert teacher.last_answer().text == "This section is for students."
    await teacher.click_data("nav:profile")
    assert teacher.last_answer().text == "This section is for students."


async def test_gpa_on_transcript_matches_service(demo_app: App) -> None:
    student = await demo_student(demo_app)
    async with demo_app.db.read() as session:
        data = await svc.transcript(session, student.id)
        summary = await journal_svc.gpa_summary(session, student.id)
        count = len(
            list(
                await session.scalars(
                    select(Enrolment.id).where(Enrolment.student_id == student.id)
                )
            )
        )
    assert data.cumulative_gpa == summary.cumulative
    graded = sum(len(p.lines) for p in data.periods)
    assert 0 < graded < count  # the current period is not graded yet


async def test_missing_font_is_explained(demo_app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.handlers import transcript as handlers
    from bot.services.fonts import FontNotFoundError

    def no_font(doc: object) -> bytes:
        raise FontNotFoundError("The PDF font is missing: install the 'fontpkg-noto-sans' package")

    monkeypatch.setattr(handlers, "render_transcript", no_font)
    client = await demo_app.signed_in(*STUDENT)
    await client.click("Transcript")
    await client.click("PDF")
    assert "its font is not installed on the server" in client.last_message().text
