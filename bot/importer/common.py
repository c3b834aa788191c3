"""Pieces several kinds share: the three-language name columns, look-ups by natural key and the
create-or-update of a catalogue keyed by its code."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer.base import Column, ImportContext, Row, code, diff, text

CHUNK = 500

CODE = Column("code", "code", "код", "коды", code(32), required=True)


def name_columns(prefix: str = "name", limit: int = 300) -> tuple[Column, ...]:
    """name_kk / name_ru / name_en, also as "название (каз)" or "атауы (орыс)"."""
    words = {
        "name": ("name", "название", "атауы"),
        "calendar_name": ("calendar name", "название календаря", "күнтізбе атауы"),
        "category_name": ("category name", "название категории", "санат атауы"),
        "description": ("description", "описание", "сипаттамасы"),
        "documents": ("documents", "документы", "құжаттар"),
    }[prefix]
    langs = {
        "kk": ("kk", "каз", "қаз"),
        "ru": ("ru", "рус", "орыс"),
        "en": ("en", "англ", "ағыл"),
    }
    return tuple(
        Column(
            f"{prefix}_{lang}",
            f"{prefix}_{lang}",
            f"{words[1]} ({ru})",
            f"{words[2]} ({kk})",
            text(limit),
            aliases=(f"{words[0]} {lang}", f"{words[1]} {ru}", f"{words[2]} {kk}"),
        )
        for lang, (_, ru, kk) in langs.items()
    )


def names(row: Row, existing: Any | None, prefix: str = "name") -> dict[str, str] | None:
    """The three names for a create or an update; a missing one is filled from the others.

    None when the row names nothing and there is nothing to keep.
    """
    given = {lang: row.get(f"{prefix}_{lang}") for lang in ("kk", "ru", "en")}
    present = {lang for lang in given if row.has(f"{prefix}_{lang}")}
    if existing is not None:
        for lang in ("kk", "ru", "en"):
            if lang not in present:
                given[lang] = getattr(existing, f"{prefix}_{lang}")
    fallback = given["ru"] or given["en"] or given["kk"]
    if not fallback:
        return None
    return {f"{prefix}_{lang}": given[lang] or fallback for lang in ("kk", "ru", "en")}


def name_column(row: Row, prefix: str = "name") -> str:
    """The name column a "no name" problem points at: one the file has, if any."""
    for lang in ("ru", "kk", "en"):
        if row.has(f"{prefix}_{lang}"):
            return f"{prefix}_{lang}"
    return f"{prefix}_ru"


async def load_by(
    session: AsyncSession, model: type, column: Any, values: Iterable[Any]
) -> dict[Any, Any]:
    """Rows of `model` whose `column` is one of `values`, by that value (chunked IN lists)."""
    wanted = list(dict.fromkeys(v for v in values if v is not None))
    found: dict[Any, Any] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        for obj in await session.scalars(select(model).where(column.in_(chunk))):
            found[getattr(obj, column.key)] = obj
    return found


async def id_map(
    session: AsyncSession, column: Any, values: Iterable[Any], id_column: Any
) -> dict[Any, int]:
    wanted = list(dict.fromkeys(v for v in values if v is not None))
    found: dict[Any, int] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        for key, ident in await session.execute(
            select(column, id_column).where(column.in_(chunk))
        ):
            found[key] = ident
    return found


async def upsert_coded(
    session: AsyncSession,
    ctx: ImportContext,
    model: type,
    rows: list[Row],
    build: Callable[[Row, Any | None], dict[str, Any] | None],
    key: str = "code",
) -> None:
    """Create or update rows of a catalogue keyed by `key`.

    `build(row, existing)` returns the values to set (only for columns the file has, so a
    column left out of the file keeps its value), or None after refusing the row.
    """
    column = getattr(model, key)
    existing = await load_by(session, model, column, (r.get(key) for r in rows))
    for row in rows:
        obj = existing.get(row.get(key))
        values = build(row, obj)
        if values is None or ctx.refused(row):
            continue
        if obj is None:
            obj = model(**{key: row.get(key)}, **values)
            session.add(obj)
            existing[row.get(key)] = obj
            ctx.created(row, str(row.get(key)))
        else:
            changed = diff(obj, values)
            if changed:
                ctx.updated(row, str(row.get(key)), changed)
            else:
                ctx.unchanged(row)
    await session.flush()


def present(row: Row, *keys: str, clearable: Iterable[str] = ()) -> dict[str, Any]:
    """The values of the columns the file has, for an update that keeps the others.

    An empty cell clears only a `clearable` field; elsewhere it keeps the stored value.
    """
    allowed = set(clearable)
    return {k: row.get(k) for k in keys if row.has(k) and (row.get(k) is not None or k in allowed)}
