"""The letterhead of printed documents: the full official name per language, the optional logo
file (a bad one never stops a document and is reported once), and abbreviations kept whole."""

from __future__ import annotations

import io
import itertools
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from bot.services import letterhead
from bot.services import service_centre as sc
from bot.services.letterhead import NBSP, keep_together
from bot.services.pdf_certificate import render_certificate
from bot.services.pdf_transcript import render_transcript
from db.models.services import IssuedDocument
from tests.conftest import App
from tests.test_pdf_documents import KAZAKH_LABELS, _certificate, _transcript

RUSSIAN_BODY = (
    "Настоящая справка подтверждает, что {full_name} ({birth_date} г. р., студенческий билет "
    "№ {student_id}) является студентом {course} курса {university} ({faculty})."
)


@pytest.fixture(autouse=True)
def _forget_warnings() -> None:
    letterhead._warned.clear()


def _png(path: Path, size: tuple[int, int] = (120, 60)) -> Path:
    Image.new("RGB", size, (20, 60, 140)).save(path, format="PNG")
    return path


def _images(pdf: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_keep_together_glues_abbreviations_and_numbers() -> None:
    assert keep_together("12.03.2005 г. р., билет № 123") == (
        f"12.03.2005{NBSP}г.{NBSP}р., билет №{NBSP}123"
    )
    assert keep_together("12.03.2005 ж.т.") == f"12.03.2005{NBSP}ж.т."
    assert keep_together("Ж. Қ. Нұрланова") == f"Ж.{NBSP}Қ.{NBSP}Нұрланова"
    assert keep_together("born on 12.03.2005, student ID 7") == "born on 12.03.2005, student ID 7"


def test_certificate_never_breaks_a_line_inside_g_r() -> None:
    labels = replace(KAZAKH_LABELS, body=RUSSIAN_BODY)
    # Names of growing length move "г. р." along the line, so one of them lands at its end.
    for extra in range(0, 40, 2):
        doc = _certificate(full_name="Иванова Анна " + "Ш" * extra, student_id="S1")
        reader = PdfReader(io.BytesIO(render_certificate(doc, labels)))
        lines = reader.pages[0].extract_text().splitlines()
        for first, second in itertools.pairwise(lines):
            assert not (first.rstrip().endswith("г.") and second.lstrip().startswith("р.")), (
                first,
                second,
            )
            assert not first.rstrip().endswith("№")


def test_logo_is_drawn_when_the_file_is_a_picture(tmp_path: Path) -> None:
    logo = str(_png(tmp_path / "logo.png"))
    assert _images(render_certificate(_certificate(), KAZAKH_LABELS)) == 1
    assert _images(render_certificate(_certificate(logo_file=logo), KAZAKH_LABELS)) == 2
    jpeg = tmp_path / "logo.jpg"
    Image.new("RGB", (50, 50), (200, 0, 0)).save(jpeg, format="JPEG")
    assert _images(render_transcript(_transcript(logo_file=str(jpeg)))) == 1


@pytest.mark.parametrize("kind", ["missing", "not_an_image", "damaged"])
def test_a_bad_logo_file_is_left_out_and_reported_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    path = tmp_path / "logo.png"
    if kind == "not_an_image":
        path.write_text("hello")
    elif kind == "damaged":
        data = _png(path).read_bytes()
        path.write_bytes(data[:40])
    with caplog.at_level(logging.WARNING, logger="bot.services.letterhead"):
        for _ in range(3):
            pdf = render_certificate(_certificate(logo_file=str(path)), KAZAKH_LABELS)
            assert _images(pdf) == 1  # the QR code only
    warnings = [r for r in caplog.records if "UNIVERSITY_LOGO_FILE" in r.getMessage()]
    assert len(warnings) == 1


def test_full_official_name_per_language() -> None:
    demo = sc.UniversityDetails.from_settings("Demo University", {}, "kk")
    assert demo.name == sc.DEFAULT_NAME_FULL["kk"]
    assert sc.UniversityDetails.from_settings("Atyrau University", {}, "ru").name == (
        "Atyrau University"
    )
    extra = {
        "university_name_full": "Atyrau University NJSC",
        "university_name_full_kk": "«Атырау университеті» КеАҚ",
        "university_logo_file": "/srv/logo.png",
    }
    assert (
        sc.UniversityDetails.from_settings("X", extra, "kk").name == "«Атырау университеті» КеАҚ"
    )
    details = sc.UniversityDetails.from_settings("X", extra, "en")
    assert details.name == "Atyrau University NJSC"
    assert details.logo_file == "/srv/logo.png"


async def test_demo_certificate_carries_the_full_official_name(demo_app: App) -> None:
    async with demo_app.db.read() as session:
        document = await session.scalar(select(IssuedDocument))
    stranger = demo_app.client()
    await stranger.send(f"/start v_{document.token}")
    await stranger.click("Download the original")
    text = " ".join(
        " ".join(
            p.extract_text()
            for p in PdfReader(io.BytesIO(stranger.last_message().document_bytes)).pages
        ).split()
    )
    assert " ".join(sc.DEFAULT_NAME_FULL[document.locale].split()) in text
