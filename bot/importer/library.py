"""The library catalogue, keyed by the library's code (through bot.services.library).

Columns: code* (шифр / шифр), title* (название / атауы), authors (авторы / авторлары),
publisher (издательство / баспа), year (год / жылы), description (описание / сипаттамасы),
language* (язык / тілі: kk, ru, en), kind* (вид / түрі: electronic, paper), location (место
хранения / сақталатын орны), copies_total (всего экземпляров / барлық дана), copies_free
(свободно / бос дана), url (ссылка / сілтеме), body (текст / мәтіні: the text of an electronic
item).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer.base import Column, ImportContext, Kind, Row, code, text
from bot.importer.common import load_by
from bot.services import library
from db.models.library import LibraryItem

COLUMNS = (
    Column("code", "code", "шифр", "шифр", code(64), required=True, aliases=("код",)),
    Column("title", "title", "название", "атауы", text(500), required=True),
    Column("authors", "authors", "авторы", "авторлары", text(500)),
    Column("publisher", "publisher", "издательство", "баспа", text(300)),
    Column("year", "year", "год", "жылы", text(8)),
    Column("description", "description", "описание", "сипаттамасы", text(20_000)),
    Column("language", "language", "язык", "тілі", text(32), required=True),
    Column("kind", "kind", "вид", "түрі", text(32), required=True),
    Column("location", "location", "место хранения", "сақталатын орны", text(200)),
    Column("copies_total", "copies_total", "всего экземпляров", "барлық дана", text(12)),
    Column("copies_free", "copies_free", "свободно", "бос дана", text(12)),
    Column("url", "url", "ссылка", "сілтеме", text(500)),
    Column("body", "body", "текст", "мәтіні", text(200_000)),
)
# The library's own reasons, as the column they concern and the engine's reason.
_PROBLEMS = {
    "bad_kind": ("kind", "not_one_of", {"allowed": "electronic, paper"}),
    "bad_language": ("language", "not_one_of", {"allowed": "kk, ru, en"}),
    "bad_year": ("year", "out_of_range", {"low": 1400, "high": 2100}),
    "bad_copies": ("copies_free", "bad_copies", {}),
    "bad_copies_total": ("copies_total", "not_number", {}),
    "bad_copies_free": ("copies_free", "not_number", {}),
    "bad_url": ("url", "bad_url", {}),
    "no_title": ("title", "required", {}),
    "no_code": ("code", "required", {}),
}


async def apply(session: AsyncSession, rows: list[Row], ctx: ImportContext) -> None:
    items = await load_by(session, LibraryItem, LibraryItem.code, (r.get("code") for r in rows))
    to_write: list[dict[str, Any]] = []
    for row in rows:
        raw = {k: v for k, v in row.values.items() if v is not None}
        try:
            values = library._parse_row(raw)
        except ValueError as exc:
            column, reason, params = _PROBLEMS.get(str(exc), ("code", "invalid", {}))
            ctx.refuse(row, column, reason, **params)
            continue
        item = items.get(values["code"])
        if item is None:
            ctx.created(row, values["code"])
        else:
            changed = [k for k, v in values.items() if getattr(item, k) != v]
            if not changed:
                ctx.unchanged(row)
                continue
            ctx.updated(row, values["code"], changed)
        to_write.append(raw)
    if to_write:
        await library.upsert_items(session, to_write)


KIND = Kind("library", COLUMNS, apply, key=("code",))
