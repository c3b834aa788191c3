"""The certificate of study (оқу орнынан анықтама / справка с места учебы) as a one-page PDF.

The document is in one language chosen by the caller. Every piece of human text comes from
`CertificateLabels`, already translated, with `{placeholders}` where values go, so the renderer
holds no language logic: it fills the templates and lays them out. A QR code at the bottom
carries the verification URL, which is also printed in small type for those who cannot scan.
The university's logo (optional) heads the page; short abbreviations ("г. р.", "ж.т.") and "№"
stay on one line with the word they belong to.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

from bot.services.fonts import close_fonts, register_fonts
from bot.services.letterhead import draw_logo, keep_together
from bot.services.qr import qr_png

if TYPE_CHECKING:
    from fpdf import FPDF


@dataclass(frozen=True, slots=True)
class CertificateDoc:
    """The facts printed on a certificate; text values are already in the document's language."""

    university_name: str
    address: str
    phone: str
    number: str
    issue_date: date
    full_name: str
    birth_date: date
    course: int
    study_form: str
    programme: str
    faculty: str
    signer_position: str
    signer_name: str
    verify_url: str
    bin: str | None = None
    website: str | None = None
    email: str | None = None
    student_id: str | None = None
    admission_year: int | None = None
    graduation_year: int | None = None
    funding: str | None = None
    purpose: str | None = None
    valid_until: date | None = None
    # A PNG or JPEG file; a missing or unreadable one is left out (see bot.services.letterhead).
    logo_file: str | None = None


@dataclass(frozen=True, slots=True)
class CertificateLabels:
    """Translated text of the certificate.

    `body` may use any of: {full_name}, {birth_date}, {course}, {form}, {programme}, {faculty},
    {university}, {student_id}, {admission_year}, {graduation_year}, {funding}. The other
    templates take the placeholder named in their field's comment. Dates are written with
    `date_format` (strftime). A line whose value is absent from the document is left out.
    """

    title: str
    body: str
    number: str  # {number}
    issue_date: str  # {date}
    purpose: str  # {purpose}
    valid_until: str  # {date}
    address: str  # {address}
    phone: str  # {phone}
    bin: str  # {bin}
    website: str  # {website}
    email: str  # {email}
    verify_caption: str
    verify_url: str  # {url}
    subtitle: str = ""
    stamp: str = ""
    date_format: str = "%d.%m.%Y"


_MARGIN = 20.0
_BOTTOM = 15.0
_QR_SIZE = 32.0


def render_certificate(doc: CertificateDoc, labels: CertificateLabels) -> bytes:
    """Fill `labels` with the values of `doc`, lay out the page and return the PDF bytes."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    try:
        _lay_out(pdf, doc, labels)
        return bytes(pdf.output())
    finally:
        close_fonts(pdf)


def _lay_out(pdf: FPDF, doc: CertificateDoc, labels: CertificateLabels) -> None:
    from fpdf.enums import Align, XPos, YPos

    family = register_fonts(pdf)
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(auto=True, margin=_BOTTOM)
    pdf.set_title(f"{labels.title} {_fill(labels.number, 'number', number=doc.number)}")
    pdf.set_author(doc.university_name)
    # A fixed date keeps the bytes reproducible for the same data.
    pdf.set_creation_date(datetime.combine(doc.issue_date, time(), tzinfo=UTC))
    pdf.add_page()

    _letterhead(pdf, family, doc, labels)
    _number_and_date(pdf, family, doc, labels)

    pdf.set_font(family, "B", 15)
    pdf.multi_cell(0, 8, labels.title, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if labels.subtitle:
        pdf.set_font(family, "", 11)
        pdf.multi_cell(0, 6, labels.subtitle, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)

    pdf.set_font(family, "", 11.5)
    _paragraph(pdf, _fill(labels.body, "body", **_body_values(doc, labels)))
    if doc.purpose:
        _paragraph(pdf, _fill(labels.purpose, "purpose", purpose=doc.purpose))
    if doc.valid_until is not None:
        until = doc.valid_until.strftime(labels.date_format)
        _paragraph(pdf, _fill(labels.valid_until, "valid_until", date=until))

    pdf.ln(10)
    _signature(pdf, family, doc, labels)
    _verification(pdf, family, doc, labels)


def _letterhead(pdf: FPDF, family: str, doc: CertificateDoc, labels: CertificateLabels) -> None:
    from fpdf.enums import Align, XPos, YPos

    draw_logo(pdf, doc.logo_file)
    pdf.set_font(family, "B", 13)
    pdf.multi_cell(
        0,
        6.5,
        keep_together(doc.university_name),
        align=Align.C,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    contacts = [_fill(labels.phone, "phone", phone=doc.phone)]
    optional = (
        (labels.bin, "bin", doc.bin),
        (labels.website, "website", doc.website),
        (labels.email, "email", doc.email),
    )
    contacts += [
        _fill(template, key, **{key: value}) for template, key, value in optional if value
    ]
    pdf.set_font(family, "", 8.5)
    pdf.set_text_color(60)
    for line in (_fill(labels.address, "address", address=doc.address), "  ·  ".join(contacts)):
        pdf.multi_cell(0, 4.2, line, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0)
    pdf.ln(2)
    pdf.set_line_width(0.5)
    pdf.line(_MARGIN, pdf.y, pdf.w - _MARGIN, pdf.y)
    pdf.set_line_width(0.2)
    pdf.ln(5)


def _number_and_date(
    pdf: FPDF, family: str, doc: CertificateDoc, labels: CertificateLabels
) -> None:
    from fpdf.enums import Align, XPos, YPos

    pdf.set_font(family, "", 10.5)
    half = pdf.epw / 2
    issued = doc.issue_date.strftime(labels.date_format)
    pdf.cell(half, 6, _fill(labels.number, "number", number=doc.number))
    pdf.cell(
        half,
        6,
        _fill(labels.issue_date, "issue_date", date=issued),
        align=Align.R,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(10)


def _paragraph(pdf: FPDF, text: str) -> None:
    # Left-aligned on purpose: fpdf2 justifies Unicode text by spacing words apart, and text
    # copied or extracted from such a line comes out with doubled spaces ("Әлихан  Қасымов").
    from fpdf.enums import Align, XPos, YPos

    pdf.multi_cell(0, 6.5, keep_together(text), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)


def _signature(pdf: FPDF, family: str, doc: CertificateDoc, labels: CertificateLabels) -> None:
    from fpdf.enums import Align, CellBordersLayout, TableBordersLayout, VAlign, XPos, YPos

    pdf.set_font(family, "", 11)
    with pdf.table(
        col_widths=(75, 45, pdf.epw - 120),
        width=pdf.epw,
        first_row_as_headings=False,
        borders_layout=TableBordersLayout.NONE,
        text_align=(Align.L, Align.C, Align.R),
        v_align=VAlign.B,
        line_height=5.2,
        padding=(3, 2, 0.5, 0),
    ) as table:
        row = table.row()
        row.cell(doc.signer_position)
        # The blank with a bottom rule is where the pen goes.
        row.cell("", border=CellBordersLayout.BOTTOM)
        row.cell(keep_together(doc.signer_name))
    if labels.stamp:
        pdf.set_font(family, "", 8)
        pdf.set_x(_MARGIN + 75)
        pdf.cell(45, 5, labels.stamp, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _verification(pdf: FPDF, family: str, doc: CertificateDoc, labels: CertificateLabels) -> None:
    # The QR sits at the foot of the page, or right after the text if that runs long.
    from fpdf.enums import WrapMode, XPos, YPos

    bottom_y = pdf.h - _BOTTOM - _QR_SIZE
    top = max(pdf.y + 8, bottom_y)
    if top > bottom_y:
        pdf.add_page()
        top = pdf.y
    pdf.image(io.BytesIO(qr_png(doc.verify_url)), x=_MARGIN, y=top, w=_QR_SIZE, h=_QR_SIZE)
    text_x = _MARGIN + _QR_SIZE + 4
    text_width = pdf.w - _MARGIN - text_x
    pdf.set_xy(text_x, top + 8)
    pdf.set_font(family, "B", 10)
    pdf.multi_cell(text_width, 5, labels.verify_caption, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.ln(1)
    pdf.set_x(text_x)
    pdf.set_font(family, "", 7)
    pdf.set_text_color(60)
    # URLs have no spaces to break at, so a long one wraps by character rather than overflowing.
    pdf.multi_cell(
        text_width,
        3.8,
        _fill(labels.verify_url, "verify_url", url=doc.verify_url),
        wrapmode=WrapMode.CHAR,
        new_x=XPos.LEFT,
        new_y=YPos.NEXT,
    )
    pdf.set_text_color(0)


def _body_values(doc: CertificateDoc, labels: CertificateLabels) -> dict[str, object]:
    def text(value: object | None) -> str:
        return "" if value is None else str(value)

    return {
        "full_name": doc.full_name,
        "birth_date": doc.birth_date.strftime(labels.date_format),
        "course": doc.course,
        "form": doc.study_form,
        "programme": doc.programme,
        "faculty": doc.faculty,
        "university": doc.university_name,
        "student_id": text(doc.student_id),
        "admission_year": text(doc.admission_year),
        "graduation_year": text(doc.graduation_year),
        "funding": text(doc.funding),
    }


def _fill(template: str, label: str, **values: object) -> str:
    # A typo in a translation must fail loudly, naming the label, rather than print "{nmae}".
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        allowed = ", ".join("{" + key + "}" for key in sorted(values)) or "no placeholders"
        raise ValueError(
            f"certificate label {label!r} is not a valid template: {template!r} (it may use "
            f"{allowed})"
        ) from exc
