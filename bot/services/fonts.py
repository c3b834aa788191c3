"""The Unicode font for generated PDFs, shipped by a PyPI package so a bare `pip install` suffices.

PDF core fonts cannot show Kazakh (ә ғ қ ң ө ұ ү һ і) or Russian, so documents embed Noto Sans
from the `fontpkg-noto-sans` package. That package ships a variable font; fpdf2 can pin its axes
itself, but doing so costs several seconds per style on every document. Instead each style is
pinned once, trimmed to the scripts the bot writes in, and kept as a small static TTF in a cache
directory, after which registering the fonts takes milliseconds.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

FONT_PACKAGE = "fontpkg-noto-sans"
"""The PyPI distribution that provides the font file."""

FAMILY = "NotoSans"
"""The family name under which `register_fonts` adds the font to a document."""

_MODULE = "fontpkg_noto_sans"
_SOURCE_FILE = "NotoSans[wdth,wght].ttf"
_WIDTH = 100
_STYLE_WEIGHTS = {"": 400, "B": 700}

# Latin with extensions A/B (incl. the Kazakh Latin alphabet), spacing and combining marks,
# Greek, Cyrillic with its supplement (Kazakh letters sit in 0400–04FF), and the punctuation,
# currency (₸), letterlike (№), arrow, maths (−) and shape blocks that documents use.
_UNICODE_RANGES = (
    (0x0020, 0x024F),
    (0x02B0, 0x036F),
    (0x0370, 0x03FF),
    (0x0400, 0x052F),
    (0x2000, 0x22FF),
    (0x25A0, 0x25FF),
    (0xFB00, 0xFB06),
    (0xFFFD, 0xFFFD),
)
# Bump when the derivation code changes, so stale cache entries are not reused; the ranges and
# the font file itself are already part of the cache key.
_RECIPE = "1"

_lock = threading.Lock()
_memo: dict[Path, dict[str, Path]] = {}


class FontNotFoundError(RuntimeError):
    """The font package is not installed or its font file is missing."""


def source_font_path() -> Path:
    """The variable Noto Sans file inside the installed package."""
    try:
        module = importlib.import_module(_MODULE)
    except ModuleNotFoundError as exc:
        raise FontNotFoundError(
            f"The PDF font is missing: install the {FONT_PACKAGE!r} package "
            f"(pip install {FONT_PACKAGE})."
        ) from exc
    path = Path(module.__file__ or "").resolve().parent / "files" / _SOURCE_FILE
    if not path.is_file():
        raise FontNotFoundError(
            f"{path} is missing; reinstall the {FONT_PACKAGE!r} package "
            f"(pip install --force-reinstall {FONT_PACKAGE})."
        )
    return path


def default_cache_dir() -> Path:
    """Where static font files are kept: `$XDG_CACHE_HOME/ais-bot/fonts` or `~/.cache/…`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ais-bot" / "fonts"


def font_files(cache_dir: Path | None = None) -> dict[str, Path]:
    """Static TTFs by fpdf2 style (`""` regular, `"B"` bold), made on first use and then reused.

    Safe to call from several threads or processes: files appear atomically. Calling it once at
    start-up moves the one-off cost (a few seconds) out of the first user's request.
    """
    directory = cache_dir if cache_dir is not None else default_cache_dir()
    with _lock:
        known = _memo.get(directory)
        if known is not None and all(path.is_file() for path in known.values()):
            return known
        source = source_font_path()
        try:
            files = _ensure_static(source, directory)
        except OSError:
            if cache_dir is not None:
                raise
            # A read-only home must not break documents; the temp directory always works.
            directory_fallback = Path(tempfile.gettempdir()) / "ais-bot-fonts"
            files = _ensure_static(source, directory_fallback)
        _memo[directory] = files
        return files


def register_fonts(pdf: FPDF, cache_dir: Path | None = None) -> str:
    """Add the regular and bold styles to `pdf` and return the family name for `set_font`."""
    for style, path in font_files(cache_dir).items():
        # fpdf2 ignores a second registration with a warning; skipping it keeps logs clean.
        if f"{FAMILY.lower()}{style}" not in pdf.fonts:
            pdf.add_font(FAMILY, style, path)
    return FAMILY


def close_fonts(pdf: FPDF) -> None:
    """Release the font files `pdf` holds open.

    fpdf2 reads fonts lazily and closes only the ones a document used, once it is output; a
    style that went unused, or a document abandoned on an error, would keep its file open until
    garbage collection. Safe to call more than once.
    """
    for font in pdf.fonts.values():
        ttfont = getattr(font, "ttfont", None)
        if ttfont is not None:
            ttfont.close()


def _ensure_static(source: Path, directory: Path) -> dict[str, Path]:
    from fontTools import version as fonttools_version

    digest = hashlib.sha256()
    digest.update(source.read_bytes())
    digest.update(f"{fonttools_version}|{_RECIPE}|{_WIDTH}|{_UNICODE_RANGES}".encode())
    key = digest.hexdigest()[:16]
    wanted = {
        style: directory / f"{FAMILY}-{weight}-{key}.ttf"
        for style, weight in _STYLE_WEIGHTS.items()
    }
    missing = {style: path for style, path in wanted.items() if not path.is_file()}
    if missing:
        directory.mkdir(parents=True, exist_ok=True)
        trimmed = _trimmed_variable_font(source)
        for style, path in missing.items():
            _write_instance(trimmed, _STYLE_WEIGHTS[style], path)
    return wanted


def _trimmed_variable_font(source: Path) -> bytes:
    # Pinning axes is slow in proportion to the glyph count; dropping unused scripts first
    # roughly halves the one-off preparation.
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recalc_timestamp = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(
        unicodes=[code for low, high in _UNICODE_RANGES for code in range(low, high + 1)]
    )
    buffer = io.BytesIO()
    with TTFont(source, recalcTimestamp=False) as font:
        subsetter.subset(font)
        font.save(buffer)
    return buffer.getvalue()


def _write_instance(variable_font: bytes, weight: int, target: Path) -> None:
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    font = TTFont(io.BytesIO(variable_font), recalcTimestamp=False)
    static = instancer.instantiateVariableFont(font, {"wght": weight, "wdth": _WIDTH}, static=True)
    handle, temp_name = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            static.save(stream)
        # mkstemp creates owner-only files; the cache may be shared with the bot's service user.
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
