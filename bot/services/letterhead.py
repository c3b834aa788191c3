"""What every printed document shares: the university's logo and typographic care.

`UNIVERSITY_LOGO_FILE` names a PNG or JPEG file. A missing or unreadable file must never stop a
document: it is then made without the logo, and the problem is logged once per file (not once per
document, which would flood the log of a busy day).
"""

from __future__ import annotations

import io
import logging
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

log = logging.getLogger(__name__)

NBSP = "\u00a0"
_MAX_LOGO_BYTES = 5 * 1024 * 1024
_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"

_warned: set[str] = set()
_warned_lock = threading.Lock()

# A short lower-case abbreviation with its dot ("г.", "р.", "ж.т.", "им."), and the space before
# it; "№" and the number after it.
_LOWER = "a-zа-яёәғқңөұүһі"
_BEFORE_ABBREVIATION = re.compile(rf"(?<=\S) (?=[{_LOWER}]{{1,3}}\.)")
_AFTER_NUMERO = re.compile(r"№ (?=\S)")
# An initial and what follows it: "Ж. Қ. Нұрланова", "им. Х. Досмұхамедова".
_AFTER_INITIAL = re.compile(r"(?<![\w.])([A-ZА-ЯЁӘҒҚҢӨҰҮҺІ]\.) (?=[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ])")


def keep_together(text: str) -> str:
    """Non-breaking spaces where a line break would tear a phrase apart: before short
    abbreviations ("2005 г. р.", "2005 ж.т."), after "№" and after initials ("Ж. Қ. Нұрланова")."""
    text = _BEFORE_ABBREVIATION.sub(NBSP, text)
    text = _AFTER_INITIAL.sub(lambda m: m.group(1) + NBSP, text)
    return _AFTER_NUMERO.sub("№" + NBSP, text)


def _warn_once(path: str, problem: str) -> None:
    with _warned_lock:
        if path in _warned:
            return
        _warned.add(path)
    log.warning("UNIVERSITY_LOGO_FILE %r %s; documents are made without the logo", path, problem)


def load_logo(path: str | None) -> bytes | None:
    """The logo's bytes when `path` names a readable PNG or JPEG image, else None (warned once).

    Called from the rendering thread, never from the event loop.
    """
    if not path:
        return None
    try:
        file = Path(path).expanduser()
        if file.stat().st_size > _MAX_LOGO_BYTES:
            _warn_once(path, "is larger than 5 MB")
            return None
        data = file.read_bytes()
    except OSError as exc:
        _warn_once(path, f"cannot be read ({exc.strerror or exc})")
        return None
    if not data.startswith((_PNG, _JPEG)):
        _warn_once(path, "is not a PNG or JPEG image")
        return None
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        _warn_once(path, f"is a damaged image ({exc})")
        return None
    return data


def logo_aspect(data: bytes) -> float:
    """Width divided by height of the image."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    return width / height if height else 1.0


def draw_logo(pdf: FPDF, logo_file: str | None, height: float = 18.0) -> None:
    """The logo centred on the current line when there is a usable one; else nothing."""
    data = load_logo(logo_file)
    if data is None:
        return
    width = min(height * logo_aspect(data), pdf.epw)
    pdf.image(io.BytesIO(data), x=(pdf.w - width) / 2, y=pdf.y, w=width, h=height)
    pdf.ln(height + 2)
