"""Disciplines, keyed by code (e.g. DBS2201).

Columns: code* (код), name_kk / name_ru / name_en, credits* (кредиты / кредит, 1-60),
department (кафедра).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer.base import Column, ImportContext, Kind, Row, integer, text
from bot.importer.common import CODE, name_column, name_columns, names, present, upsert_coded
from db.models import Discipline

COLUMNS = (
    CODE,
    *name_columns(),
    Column("credits", "credits", "кредиты", "кредит", integer(1, 60), required=True),
    Column("department", "department", "кафедра", "кафедра", text(200)),
)


async def apply(session: AsyncSession, rows: list[Row], ctx: ImportContext) -> None:
    def build(row: Row, existing: Any | None) -> dict[str, Any] | None:
        values = names(row, existing)
        if values is None:
            ctx.refuse(row, name_column(row), "no_name")
            return None
        return (
            values
            | {"credits": row.get("credits")}
            | present(row, "department", clearable=("department",))
        )

    await upsert_coded(session, ctx, Discipline, rows, build)


KIND = Kind("disciplines", COLUMNS, apply, key=("code",))
