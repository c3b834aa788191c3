"""The library catalogue (§10.2): folded search in any combination of fields, the import entry
point, and the PDF of an electronic item."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import DomainError
from bot.services.i18n import _
from db.models.library import ItemKind, LibraryItem, LibrarySearch

LANGUAGES = ("kk", "ru", "en")
TEXT_FIELDS = ("title", "code", "author", "publisher", "description")
MAX_VALUE_LENGTH = 200
PAGE_SIZE = 8
INLINE_LIMIT = 50

# Kazakh letters and Latin look-alikes typed for Russian ones (and back) fold to one form, so
# "казак", "қазақ" and "KA3AK"-style mixes meet in the middle.
_FOLD = str.maketrans(
    {
        "ә": "а",
        "ғ": "г",
        "қ": "к",
        "ң": "н",
        "ө": "о",
        "ұ": "у",
        "ү": "у",
        "һ": "х",
        "і": "и",
        "ё": "е",
        "й": "и",
        "a": "а",
        "b": "в",
        "c": "с",
        "e": "е",
        "h": "н",
        "i": "и",
        "k": "к",
        "m": "м",
        "o": "о",
        "p": "р",
        "t": "т",
        "x": "х",
        "y": "у",
    }
)
_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)


def fold(text: str | None) -> str:
    """Lower case, letters folded, punctuation turned into single spaces."""
    if not text:
        return ""
    folded = text.casefold().translate(_FOLD)
    return " ".join(_NOT_WORD.sub(" ", folded).replace("_", " ").split())


def words(text: str | None) -> list[str]:
    return fold(text).split()


def refresh_search_columns(item: LibraryItem) -> None:
    item.search_title = fold(item.title)
    item.search_code = fold(item.code)[:128]
    item.search_authors = fold(item.authors)
    item.search_publisher = fold(item.publisher)
    item.search_description = fold(item.description)


# ---- criteria --------------------------------------------------------------------------------


@dataclass
class Criteria:
    """What a person searches for; empty fields do not restrict. `anything` is the quick search
    over title, authors and code."""

    title: str = ""
    code: str = ""
    author: str = ""
    publisher: str = ""
    description: str = ""
    language: str = ""
    kind: str = ""
    anything: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Criteria:
        data = data or {}
        values: dict[str, str] = {}
        for f in fields(cls):
            raw = data.get(f.name)
            if isinstance(raw, str):
                values[f.name] = raw.strip()[:MAX_VALUE_LENGTH]
        criteria = cls(**values)
        if criteria.language not in LANGUAGES:
            criteria.language = ""
        if criteria.kind not in (ItemKind.electronic.value, ItemKind.paper.value):
            criteria.kind = ""
        return criteria

    def to_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def is_empty(self) -> bool:
        return not self.to_dict()


_COLUMNS = {
    "title": (LibraryItem.search_title,),
    "code": (LibraryItem.search_code,),
    "author": (LibraryItem.search_authors,),
    "publisher": (LibraryItem.search_publisher,),
    "description": (LibraryItem.search_description,),
    "anything": (LibraryItem.search_title, LibraryItem.search_authors, LibraryItem.search_code),
}


def _conditions(criteria: Criteria) -> list[Any]:
    conditions: list[Any] = []
    for name, columns in _COLUMNS.items():
        for word in words(getattr(criteria, name)):
            # Every word must occur somewhere in the field: word order and punctuation do not
            # matter, and `autoescape` keeps a typed % or _ literal.
            conditions.append(or_(*(c.contains(word, autoescape=True) for c in columns)))
    if criteria.language:
        conditions.append(LibraryItem.language == criteria.language)
    if criteria.kind:
        conditions.append(LibraryItem.kind == ItemKind(criteria.kind))
    return conditions


def _query(criteria: Criteria) -> Select[tuple[LibraryItem]]:
    return select(LibraryItem).where(and_(True, *_conditions(criteria)))


async def count(session: AsyncSession, criteria: Criteria) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(LibraryItem).where(and_(True, *_conditions(criteria)))
        )
        or 0
    )


async def search(
    session: AsyncSession, criteria: Criteria, page: int = 0, per_page: int = PAGE_SIZE
) -> tuple[list[LibraryItem], int]:
    """One page of matches (by title) and the total count."""
    total = await count(session, criteria)
    page = max(0, page)
    items = list(
        await session.scalars(
            _query(criteria)
            .order_by(LibraryItem.title, LibraryItem.id)
            .offset(page * per_page)
            .limit(per_page)
        )
    )
    return items, total


def pages_for(total: int, per_page: int = PAGE_SIZE) -> int:
    return max(1, (total + per_page - 1) // per_page)


async def record_search(
    session: AsyncSession, user_id: int, criteria: Criteria, now: datetime
) -> LibrarySearch:
    total = await count(session, criteria)
    row = LibrarySearch(user_id=user_id, params=criteria.to_dict(), total=total, created_at=now)
    session.add(row)
    await session.flush()
    return row


async def load_search(session: AsyncSession, search_id: int, user_id: int) -> LibrarySearch:
    """A search of this person; someone else's id or a forged one is refused."""
    row = await session.get(LibrarySearch, search_id)
    if row is None or row.user_id != user_id:
        raise DomainError(
            "library.search_gone",
            lambda: _("This search is no longer available. Please search again."),
        )
    return row


async def get_item(session: AsyncSession, item_id: int) -> LibraryItem | None:
    return await session.get(LibraryItem, item_id)


async def inline_search(
    session: AsyncSession, query: str, offset: int = 0, limit: int = INLINE_LIMIT
) -> tuple[list[LibraryItem], int | None]:
    """Matches of a quick query for inline mode, and the offset of the next batch if any."""
    criteria = Criteria(anything=query[:MAX_VALUE_LENGTH])
    offset = max(0, offset)
    items = list(
        await session.scalars(
            _query(criteria)
            .order_by(LibraryItem.title, LibraryItem.id)
            .offset(offset)
            .limit(limit + 1)
        )
    )
    more = len(items) > limit
    return items[:limit], (offset + limit if more else None)


async def catalogue_counts(session: AsyncSession) -> dict[ItemKind, int]:
    rows = await session.execute(select(LibraryItem.kind, func.count()).group_by(LibraryItem.kind))
    counts = {kind: 0 for kind in ItemKind}
    for kind, n in rows.all():
        counts[kind] = int(n)
    return counts


async def remember_file_id(session: AsyncSession, item_id: int, file_id: str) -> None:
    item = await session.get(LibraryItem, item_id)
    if item is not None and not item.file_id:
        item.file_id = file_id
        await session.flush()


# ---- import ----------------------------------------------------------------------------------


@dataclass
class UpsertReport:
    created: int = 0
    updated: int = 0
    # (row number, code or "", problem code) for rows that were skipped.
    errors: list[tuple[int, str, str]] = field(default_factory=list)


_KIND_ALIASES = {
    "electronic": ItemKind.electronic,
    "e": ItemKind.electronic,
    "ebook": ItemKind.electronic,
    "электронный": ItemKind.electronic,
    "электрондық": ItemKind.electronic,
    "paper": ItemKind.paper,
    "p": ItemKind.paper,
    "print": ItemKind.paper,
    "бумажный": ItemKind.paper,
    "печатный": ItemKind.paper,
    "қағаз": ItemKind.paper,
}
_LANGUAGE_ALIASES = {
    "kk": "kk",
    "kz": "kk",
    "kaz": "kk",
    "қазақ": "kk",
    "казахский": "kk",
    "kazakh": "kk",
    "ru": "ru",
    "rus": "ru",
    "орыс": "ru",
    "русский": "ru",
    "russian": "ru",
    "en": "en",
    "eng": "en",
    "ағылшын": "en",
    "английский": "en",
    "english": "en",
}


def _text(row: Mapping[str, Any], key: str, limit: int) -> str:
    value = row.get(key)
    if value is None:
        return ""
    return str(value).strip()[:limit]


def _int(row: Mapping[str, Any], key: str) -> int | None:
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad_{key}") from exc


def _parse_row(row: Mapping[str, Any]) -> dict[str, Any]:
    code = _text(row, "code", 64)
    title = _text(row, "title", 500)
    if not code:
        raise ValueError("no_code")
    if not title:
        raise ValueError("no_title")
    kind = _KIND_ALIASES.get(_text(row, "kind", 32).casefold())
    if kind is None:
        raise ValueError("bad_kind")
    language = _LANGUAGE_ALIASES.get(_text(row, "language", 32).casefold())
    if language is None:
        raise ValueError("bad_language")
    year = _int(row, "year")
    if year is not None and not 1400 <= year <= 2100:
        raise ValueError("bad_year")
    total = _int(row, "copies_total") or 0
    free = _int(row, "copies_free")
    free = total if free is None else free
    if total < 0 or not 0 <= free <= total:
        raise ValueError("bad_copies")
    url = _text(row, "url", 500) or None
    if url is not None and not url.startswith(("http://", "https://")):
        raise ValueError("bad_url")
    return {
        "code": code,
        "title": title,
        "authors": _text(row, "authors", 500),
        "publisher": _text(row, "publisher", 300),
        "year": year,
        "description": _text(row, "description", 20_000),
        "language": language,
        "kind": kind,
        "location": _text(row, "location", 200) or None,
        "copies_total": total,
        "copies_free": free,
        "url": url,
        "body": _text(row, "body", 200_000) or None,
    }


async def upsert_items(session: AsyncSession, rows: Iterable[Mapping[str, Any]]) -> UpsertReport:
    """Create or update catalogue items keyed by `code` (the import tool's entry point).

    Keys: code, title, authors, publisher, year, description, language (kk/ru/en or a name),
    kind (electronic/paper), location, copies_total, copies_free, url, body. A bad row is
    reported and skipped; the others are applied. When the content of an electronic item
    changes, the cached Telegram file is dropped so the new version is sent.
    """
    report = UpsertReport()
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        try:
            values = _parse_row(row)
        except ValueError as exc:
            report.errors.append((number, _text(row, "code", 64), str(exc)))
            continue
        if values["code"] in seen:
            report.errors.append((number, values["code"], "duplicate_code"))
            continue
        seen.add(values["code"])
        item = await session.scalar(select(LibraryItem).where(LibraryItem.code == values["code"]))
        if item is None:
            item = LibraryItem(**values)
            session.add(item)
            report.created += 1
        else:
            if (item.body, item.title) != (values["body"], values["title"]):
                item.file_id = None
                item.file_name = None
            for key, value in values.items():
                setattr(item, key, value)
            report.updated += 1
        refresh_search_columns(item)
    await session.flush()
    return report


# ---- the electronic copy ---------------------------------------------------------------------


def pdf_file_name(item: LibraryItem) -> str:
    stem = re.sub(r"[^\w.-]+", "_", item.code, flags=re.UNICODE).strip("_") or "item"
    return f"{stem}.pdf"


def render_item_pdf(item: LibraryItem) -> bytes:
    """Typeset an electronic item kept as text in the catalogue."""
    # Imported here: fpdf2 is heavy and only this needs it.
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    from bot.services.fonts import close_fonts, register_fonts

    # A5 by its dimensions: the named format warns about a historical size fix.
    pdf = FPDF(orientation="P", unit="mm", format=(148, 210))
    try:
        family = register_fonts(pdf)
        pdf.set_margins(15, 15, 15)
        pdf.set_auto_page_break(auto=True, margin=15)
        pdf.set_title(item.title)
        pdf.set_author(item.authors)
        pdf.add_page()
        pdf.set_font(family, "B", 14)
        pdf.multi_cell(0, 7, item.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(family, "", 10)
        byline = ", ".join(
            part for part in (item.authors, item.publisher, str(item.year or "")) if part
        )
        if byline:
            pdf.multi_cell(0, 5, byline, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(4)
        pdf.set_font(family, "", 11)
        for paragraph in (item.body or item.description or "").split("\n"):
            pdf.multi_cell(0, 5.5, paragraph, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1.5)
        return bytes(pdf.output())
    finally:
        close_fonts(pdf)
