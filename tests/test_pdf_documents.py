"""Tests of the generated documents: font coverage, QR codes, the transcript and the certificate.

Text is read back with pypdf and QR codes with zxing-cpp, the way a person's viewer or phone
would, rather than by inspecting fpdf2 internals.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import zxingcpp
from fontTools.ttLib import TTFont
from fpdf import FPDF
from PIL import Image
from pypdf import PdfReader

from bot.services import fonts
from bot.services.fonts import FontNotFoundError, close_fonts, font_files, register_fonts
from bot.services.grading import gpa, grade_for
from bot.services.pdf_certificate import CertificateDoc, CertificateLabels, render_certificate
from bot.services.pdf_transcript import (
    AttestationRow,
    PracticeRow,
    Signatory,
    ThesisRow,
    TranscriptDoc,
    TranscriptPeriod,
    TranscriptRow,
    render_transcript,
)
from bot.services.qr import qr_png

KAZAKH_LETTERS = "әғқңөұүһіӘҒҚҢӨҰҮҺІ"
RUSSIAN_LETTERS = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
STUDENT = "Әлихан Ұлықбекұлы Қасымов"


def _text(pdf: bytes) -> str:
    """All pages' text with runs of whitespace collapsed, since wrapped cells split lines."""
    reader = PdfReader(io.BytesIO(pdf))
    return _squash(" ".join(page.extract_text() for page in reader.pages))


def _squash(text: str) -> str:
    return " ".join(text.split())


# --- fonts -------------------------------------------------------------------------------


def test_font_covers_kazakh_and_russian() -> None:
    wanted = KAZAKH_LETTERS + RUSSIAN_LETTERS + "№«»–—−₸"
    files = font_files()
    assert set(files) == {"", "B"}
    for path in files.values():
        with TTFont(path) as font:
            cmap = font.getBestCmap()
        assert [char for char in wanted if ord(char) not in cmap] == []


def test_kazakh_text_survives_a_round_trip_through_pdf() -> None:
    pdf = FPDF()
    family = register_fonts(pdf)
    pdf.add_page()
    lines = [
        (f"{STUDENT}: {KAZAKH_LETTERS}", ""),
        ("Итоговая государственная аттестация — Қорытынды аттестация №1", "B"),
    ]
    for text, style in lines:
        pdf.set_font(family, style, 12)
        pdf.cell(text=text, new_x="LMARGIN", new_y="NEXT")
    output = bytes(pdf.output())
    close_fonts(pdf)
    extracted = PdfReader(io.BytesIO(output)).pages[0].extract_text()
    assert extracted.splitlines() == [text for text, _ in lines]


def test_register_fonts_twice_is_harmless() -> None:
    pdf = FPDF()
    try:
        assert register_fonts(pdf) == register_fonts(pdf) == fonts.FAMILY
        assert {fonts.FAMILY.lower(), f"{fonts.FAMILY.lower()}B"} <= set(pdf.fonts)
    finally:
        # Unused styles keep their files open otherwise (a ResourceWarning under -W error).
        close_fonts(pdf)
        close_fonts(pdf)


def test_missing_font_package_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "_MODULE", "fontpkg_package_that_is_not_installed")
    with pytest.raises(FontNotFoundError, match=r"pip install fontpkg-noto-sans"):
        fonts.source_font_path()


def test_font_cache_is_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for path in font_files().values():
        shutil.copy(path, tmp_path / path.name)

    def no_rebuild(source: Path) -> bytes:
        raise AssertionError(f"cached fonts were rebuilt from {source}")

    monkeypatch.setattr(fonts, "_trimmed_variable_font", no_rebuild)
    files = font_files(tmp_path)
    assert {path.parent for path in files.values()} == {tmp_path}
    assert font_files(tmp_path) == files


# --- QR ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        "https://ais.demo-university.kz/verify/c/5f2a9e0c-77b1-4f7e-9a63-1d2f0b3c4e5a",
        "short",
        "Қасымов Әлихан — анықтама №17",
        "https://example.kz/v?" + "x" * 300,
    ],
)
def test_qr_decodes_to_the_exact_string(data: str) -> None:
    png = qr_png(data)
    assert png.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(png)) as image:
        results = zxingcpp.read_barcodes(image)
    assert [result.text for result in results] == [data]


def test_qr_size_follows_box_size_and_border() -> None:
    with Image.open(io.BytesIO(qr_png("abc", box_size=4, border=4))) as image:
        # Version 1 is 21 modules wide, plus 4 modules of quiet zone on each side.
        assert image.size == ((21 + 8) * 4, (21 + 8) * 4)


def test_qr_rejects_empty_data() -> None:
    with pytest.raises(ValueError):
        qr_png("")


# --- transcript --------------------------------------------------------------------------

DISCIPLINES = [
    "Қазақ тілі",
    "Орыс тілі",
    "Шетел тілі (ағылшын)",
    "Қазақстанның қазіргі заманғы тарихы",
    "Философия",
    "Ақпараттық-коммуникациялық технологиялар (ағылшын тілінде)",
    "Математикалық анализ",
    "Сызықтық алгебра және аналитикалық геометрия",
    "Дене шынықтыру",
    "Әлеуметтік-саяси білім модулі (әлеуметтану, саясаттану, мәдениеттану, психология)",
    "Бағдарламалау негіздері",
    "Дискретті математика",
    "Деректер қорын жобалау және әзірлеу",
    "Операциялық жүйелер",
    "Компьютерлік желілер және ақпараттық қауіпсіздік негіздері",
]
TRADITIONAL = {
    "excellent": "өте жақсы",
    "good": "жақсы",
    "satisfactory": "қанағаттанарлық",
    "unsatisfactory": "қанағаттанарлықсыз",
}


def _row(name: str, credits: int, percent: int) -> TranscriptRow:
    grade = grade_for(percent)
    return TranscriptRow(
        discipline=name,
        credits=credits,
        percent=percent,
        letter=grade.letter,
        points=grade.points,
        traditional=TRADITIONAL[grade.traditional],
    )


def _transcript(**changes: object) -> TranscriptDoc:
    periods = []
    number = 0
    for semester in (1, 2, 3):
        rows = []
        for base in DISCIPLINES:
            number += 1
            rows.append(_row(f"{base} {semester}", 3 + number % 3, 50 + (number * 7) % 51))
        periods.append(
            TranscriptPeriod(
                title=f"{semester} семестр / Semester {semester} / {semester} семестр",
                rows=rows,
                gpa=gpa((row.points, row.credits) for row in rows),
                credits=sum(row.credits for row in rows),
            )
        )
    all_rows = [row for period in periods for row in period.rows]
    values: dict[str, object] = {
        "university": "«Demo University» коммерциялық емес акционерлік қоғамы",
        "faculty": "Ақпараттық технологиялар факультеті",
        "programme_code": "6B06102",
        "programme_name": "Ақпараттық жүйелер",
        "admission_year": 2022,
        "study_form": "күндізгі / full-time / очная",
        "full_name": STUDENT,
        "student_id": "220103045",
        "periods": periods,
        "total_credits": sum(row.credits for row in all_rows) + 8 + 4 + 8,
        "cumulative_gpa": gpa((row.points, row.credits) for row in all_rows),
        "issue_date": date(2025, 6, 30),
        "practices": [
            PracticeRow("Оқу практикасы", "2023, 2 семестр", 2, 95, "A", Decimal(4), "өте жақсы"),
            PracticeRow(
                "Өндірістік практика", "2024, 6 семестр", 6, 88, "B+", Decimal("3.33"), "жақсы"
            ),
        ],
        "attestation": [
            AttestationRow(
                "Мамандық бойынша кешенді емтихан", 4, 91, "A-", Decimal("3.67"), "өте жақсы"
            )
        ],
        "theses": [
            ThesisRow(
                "Университет студенттеріне арналған Telegram-бот: сәулет және іске асыру",
                8,
                96,
                "A",
                Decimal(4),
                "өте жақсы",
            )
        ],
        "number": "TR-2025-00042",
        "signatories": [Signatory("Тіркеу кеңсесінің басшысы", "Н. Ж. Сапарова")],
    }
    values.update(changes)
    return TranscriptDoc(**values)  # type: ignore[arg-type]


def test_transcript_content_and_pagination() -> None:
    doc = _transcript()
    pdf = render_transcript(doc)
    reader = PdfReader(io.BytesIO(pdf))
    pages = len(reader.pages)
    assert pages > 1
    text = _text(pdf)

    assert STUDENT in text
    assert "220103045" in text
    assert "6B06102 Ақпараттық жүйелер" in text
    disciplines = [row.discipline for period in doc.periods for row in period.rows]
    assert len(disciplines) == 45
    for name in disciplines:
        assert _squash(name) in text, name
    assert doc.cumulative_gpa is not None
    assert f"{doc.cumulative_gpa:.2f}" in text
    for period in doc.periods:
        assert _squash(period.title) in text
        assert f"{period.gpa:.2f}" in text
    headings = (
        "Пәннің атауы Subjects Наименование дисциплины",
        "Кредиттер саны Number of credits Количество кредитов",
        "Баға Mark Оценка",
        "Пайызбен In percent В процентах",
        "Әріптік Alphabetical Буквенная",
        "Баллмен In points В баллах",
        "Дәстүрлі жүйемен Traditional Традиционная",
    )
    pages_with_disciplines = 0
    for page in reader.pages:
        page_text = _squash(page.extract_text())
        if any(_squash(name) in page_text for name in disciplines):
            pages_with_disciplines += 1
            # The table headings are repeated on every page the table runs over.
            assert all(heading in page_text for heading in headings)
    assert pages_with_disciplines > 1
    for section in (
        "Кәсіптік практикадан өтті / Has passed professional practice / "
        "Прошел профессиональную практику",
        "Қорытынды мемлекеттік аттестация / Final state attestation / "
        "Итоговая государственная аттестация",
        "Дипломдық жұмыс / Degree work subject / Тема дипломной работы",
    ):
        assert section in text
    assert "Өндірістік практика" in text
    assert "Мамандық бойынша кешенді емтихан" in text
    assert "Telegram-бот: сәулет және іске асыру" in text
    assert "30.06.2025" in text
    assert "Н. Ж. Сапарова" in text
    for page_number, page in enumerate(reader.pages, start=1):
        assert f"Page {page_number} of {pages}" in _squash(page.extract_text())


def test_transcript_never_splits_a_discipline_across_pages() -> None:
    doc = _transcript()
    reader = PdfReader(io.BytesIO(render_transcript(doc)))
    pages = [_squash(page.extract_text()) for page in reader.pages]
    for period in doc.periods:
        for row in period.rows:
            assert sum(_squash(row.discipline) in page for page in pages) == 1, row.discipline


def test_transcript_omits_empty_sections() -> None:
    text = _text(render_transcript(_transcript(practices=(), attestation=(), theses=())))
    assert "professional practice" not in text
    assert "Final state attestation" not in text
    assert "Degree work subject" not in text
    assert STUDENT in text


def test_transcript_wraps_long_names_instead_of_cutting_them() -> None:
    long_name = " ".join(["Ақпараттық жүйелердің сәулеті мен жобалау әдістемесі"] * 4)
    doc = _transcript(
        periods=[TranscriptPeriod("1 семестр", [_row(long_name, 5, 90)], Decimal("3.67"), 5)]
    )
    assert long_name in _text(render_transcript(doc))


def test_transcript_shows_missing_marks_as_a_dash() -> None:
    row = TranscriptRow("Философия", 5, None, None, None, None)
    doc = _transcript(periods=[TranscriptPeriod("1 семестр", [row])], cumulative_gpa=None)
    text = _text(render_transcript(doc))
    assert "1 Философия 5 — — — —" in text


def test_transcript_bytes_are_reproducible() -> None:
    assert render_transcript(_transcript()) == render_transcript(_transcript())


# --- certificate -------------------------------------------------------------------------

VERIFY_URL = "https://ais.demo-university.kz/verify/c/5f2a9e0c-77b1-4f7e-9a63-1d2f0b3c4e5a"

KAZAKH_LABELS = CertificateLabels(
    title="АНЫҚТАМА",
    subtitle="оқу орнынан",
    body=(
        "Осы анықтама {full_name}, {birth_date} ж.т., {university} {faculty} факультетінің "
        "«{programme}» білім беру бағдарламасы бойынша {form} оқу нысанының {course}-курс "
        "студенті екенін растайды."
    ),
    number="№ {number}",
    issue_date="Берілген күні: {date}",
    purpose="Анықтама {purpose} ұсыну үшін берілді.",
    valid_until="Анықтама {date} дейін жарамды.",
    address="Мекенжайы: {address}",
    phone="Тел.: {phone}",
    bin="БСН: {bin}",
    website="{website}",
    email="{email}",
    verify_caption="Түпнұсқалығын тексеру үшін сканерлеңіз",
    verify_url="Сілтеме: {url}",
    stamp="М.О.",
)


def _certificate(**changes: object) -> CertificateDoc:
    values: dict[str, object] = {
        "university_name": "«Demo University» КеАҚ",
        "address": "Ақтөбе қ., Әбілқайыр хан даңғылы, 34",
        "phone": "+7 (7132) 56-34-00",
        "bin": "990340001234",
        "website": "demo-university.kz",
        "number": "СП-2025/00417",
        "issue_date": date(2025, 9, 15),
        "full_name": STUDENT,
        "birth_date": date(2004, 3, 7),
        "course": 3,
        "study_form": "күндізгі",
        "programme": "6B06102 Ақпараттық жүйелер",
        "faculty": "Ақпараттық технологиялар",
        "signer_position": "Тіркеу кеңсесінің басшысы",
        "signer_name": "Н. Ж. Сапарова",
        "verify_url": VERIFY_URL,
        "purpose": "жұмыс орнына",
        "valid_until": date(2025, 12, 31),
    }
    values.update(changes)
    return CertificateDoc(**values)  # type: ignore[arg-type]


def test_certificate_text() -> None:
    pdf = render_certificate(_certificate(), KAZAKH_LABELS)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = _text(pdf)
    assert STUDENT in text
    assert "№ СП-2025/00417" in text
    assert "Берілген күні: 15.09.2025" in text
    assert "07.03.2004 ж.т." in text
    assert "3-курс студенті" in text
    assert "Анықтама жұмыс орнына ұсыну үшін берілді." in text
    assert "Анықтама 31.12.2025 дейін жарамды." in text
    assert "БСН: 990340001234" in text
    assert "Н. Ж. Сапарова" in text
    assert "Түпнұсқалығын тексеру үшін сканерлеңіз" in text


def test_certificate_qr_yields_the_verification_url() -> None:
    reader = PdfReader(io.BytesIO(render_certificate(_certificate(), KAZAKH_LABELS)))
    images = reader.pages[0].images
    assert len(images) == 1
    decoded = [result.text for result in zxingcpp.read_barcodes(images[0].image)]
    assert decoded == [VERIFY_URL]


def test_certificate_leaves_out_absent_optional_lines() -> None:
    doc = _certificate(purpose=None, valid_until=None, bin=None, website=None)
    text = _text(render_certificate(doc, KAZAKH_LABELS))
    assert "ұсыну үшін берілді" not in text
    assert "дейін жарамды" not in text
    assert "БСН" not in text
    assert STUDENT in text


def test_certificate_label_with_unknown_placeholder_is_reported() -> None:
    labels = replace(KAZAKH_LABELS, body="Осы анықтама {fullname} студент екенін растайды.")
    with pytest.raises(ValueError, match="'body'"):
        render_certificate(_certificate(), labels)
