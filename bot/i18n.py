"""Translations: gettext catalogs for kk, ru and en, and locale-aware formatting.

Each feature keeps its own source catalog (`locales/<lang>/LC_MESSAGES/<feature>.po`) so features
can grow without touching one shared file; `compile_catalogs` merges them into the single
`messages.mo` per language that aiogram's `I18n` loads.
"""

from __future__ import annotations

import hashlib
import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from babel import Locale
from babel.dates import format_date as _babel_format_date
from babel.dates import format_datetime as _babel_format_datetime
from babel.dates import format_time as _babel_format_time
from babel.numbers import format_decimal

from bot.config import PROJECT_ROOT, SUPPORTED_LOCALES

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog

LOCALES_DIR = PROJECT_ROOT / "locales"
DOMAIN = "messages"
LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}


def _sources(lang_dir: Path) -> list[Path]:
    return sorted(p for p in (lang_dir / "LC_MESSAGES").glob("*.po"))


def load_catalog(
    locale: str, locales_dir: Path = LOCALES_DIR, conflicts: list[str] | None = None
) -> Catalog:
    """All source catalogs of one language merged into one.

    A message id translated differently in two catalogs keeps the first translation (files in
    name order) and is reported in `conflicts`; a test requires there be none.
    """
    # Imported here: reading .po files is only needed when a catalog is compiled.
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    merged = Catalog(locale=locale, domain=DOMAIN)
    origin: dict[object, str] = {}
    for path in _sources(locales_dir / locale):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        for message in catalog:
            if not message.id:
                continue
            key = message.id
            existing = merged.get(key, context=message.context)
            if existing is not None:
                if existing.string != message.string and conflicts is not None:
                    conflicts.append(
                        f"{locale}: {key!r} is {existing.string!r} in {origin[key]} "
                        f"but {message.string!r} in {path.name}"
                    )
                continue
            merged[key] = message
            merged[key].context = message.context
            origin[key] = path.name
    return merged


def catalog_conflicts(locales_dir: Path = LOCALES_DIR) -> list[str]:
    conflicts: list[str] = []
    for locale in SUPPORTED_LOCALES:
        load_catalog(locale, locales_dir, conflicts)
    return conflicts


def _stamp_of(sources: list[Path]) -> str:
    """What a compiled catalog was built from: each source's name and content hash."""
    return "\n".join(
        f"{src.name} {hashlib.sha256(src.read_bytes()).hexdigest()}" for src in sources
    )


def compile_catalogs(locales_dir: Path = LOCALES_DIR, *, force: bool = False) -> list[Path]:
    """Write `messages.mo` for each language whose sources changed; returns the files written.

    Beside each `messages.mo` a stamp (`messages.mo.stamp`) lists the sources it was built from
    and their content hashes. A catalog newer than all its sources is current; otherwise (a
    checkout or copy that touched the times) the stamp decides, so a start compiles only when a
    source really changed, was added or was removed.
    """
    written: list[Path] = []
    for locale in SUPPORTED_LOCALES:
        lang_dir = locales_dir / locale
        sources = _sources(lang_dir)
        target = lang_dir / "LC_MESSAGES" / f"{DOMAIN}.mo"
        stamp_file = target.with_suffix(".mo.stamp")
        stamp = None
        if not force and target.exists() and stamp_file.exists():
            recorded = stamp_file.read_text(encoding="utf-8")
            names = [line.split(" ", 1)[0] for line in recorded.splitlines()]
            built = target.stat().st_mtime
            if names == [src.name for src in sources] and all(
                src.stat().st_mtime <= built for src in sources
            ):
                continue
            stamp = _stamp_of(sources)
            if recorded == stamp:
                # Only the times changed: date the catalog as its newest source, so the next
                # start trusts the times again without hashing.
                newest = max((src.stat().st_mtime for src in sources), default=built)
                os.utime(target, (newest, max(newest, built)))
                continue
        stamp = stamp or _stamp_of(sources)
        from babel.messages.mofile import write_mo

        catalog = load_catalog(locale, locales_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        # A temporary file of this process's own: several processes (test workers, replicas
        # started together on one checkout) may compile at once; each rename is atomic.
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        tmp.replace(target)
        stamp_tmp = stamp_file.with_name(f"{stamp_file.name}.{os.getpid()}.tmp")
        stamp_tmp.write_text(stamp, encoding="utf-8")
        stamp_tmp.replace(stamp_file)
        written.append(target)
    return written


def build_i18n(default_locale: str, locales_dir: Path = LOCALES_DIR) -> I18n:
    compile_catalogs(locales_dir)
    return I18n(path=locales_dir, default_locale=default_locale, domain=DOMAIN)


# CLDR's English puts the month first ("12/1/26", "Dec 1, 2026"), which a reader used to
# day-first dates takes for the 12th of January. English dates put the day first and the month
# as a word ("1 Dec 2026"); kk and ru keep their CLDR patterns.
_ENGLISH_DATE_PATTERNS = {
    "short": "d MMM y",
    "medium": "d MMM y",
    "long": "d MMMM y",
    "full": "EEEE, d MMMM y",
    # Numeric patterns that read well in kk/ru (01.09.2026) get the month as a word in English.
    "dd.MM.yyyy": "d MMM y",
    "dd.MM.yy": "d MMM y",
    "dd.MM": "d MMM",
}
# For documents laid out with strftime (PDF certificates): ISO in English.
DOCUMENT_DATE_FORMATS = {"en": "%Y-%m-%d"}
DOCUMENT_DATE_FORMAT = "%d.%m.%Y"


def fmt_date(value: date, locale: str, fmt: str = "medium") -> str:
    """A date in the reader's locale: a named width (short, medium, ...) or a CLDR pattern."""
    if locale.startswith("en"):
        fmt = _ENGLISH_DATE_PATTERNS.get(fmt, fmt)
    return _babel_format_date(value, format=fmt, locale=Locale.parse(locale))


def fmt_time(value: datetime, locale: str, tz: ZoneInfo) -> str:
    return _babel_format_time(value.astimezone(tz), format="HH:mm", locale=Locale.parse(locale))


def fmt_datetime(value: datetime, locale: str, tz: ZoneInfo, fmt: str = "medium") -> str:
    local = value.astimezone(tz)
    if fmt == "short" or (locale.startswith("en") and fmt in ("medium", "long", "full")):
        return f"{fmt_date(local.date(), locale, fmt)} {fmt_time(local, locale, tz)}"
    return _babel_format_datetime(local, format=fmt, tzinfo=tz, locale=Locale.parse(locale))


def fmt_number(
    value: float | Decimal | int | None, locale: str, digits: int = 2, *, fixed: bool = False
) -> str:
    """A number in the reader's locale (decimal comma in kk/ru); empty for a missing value.

    Up to `digits` decimals, trailing zeros dropped unless `fixed` (GPA is shown as 3,00).
    """
    if value is None:
        return ""
    decimals = ("0" if fixed else "#") * digits
    pattern = "0" if digits == 0 else f"0.{decimals}"
    return format_decimal(value, format=pattern, locale=Locale.parse(locale))
