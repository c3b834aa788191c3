"""Faculties, keyed by code.

Columns: code* (код), name_kk / name_ru / name_en (название / атауы), dean (декан).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer.base import Column, ImportContext, Kind, Row, text
from bot.importer.common import CODE, name_column, name_columns, names, present, upsert_coded
from db.models import Faculty

COLUMNS = (CODE, *name_columns(), Column("dean", "dean", "декан", "декан", text(200)))


async def apply(session: AsyncSession, rows: list[Row], ctx: ImportContext) -> None:
    def build(row: Row, existing: Any | None) -> dict[str, Any] | None:
        values = names(row, existing)
        if values is None:
            ctx.refuse(row, name_column(row), "no_name")
            return None
        return values | present(row, "dean", clearable=("dean",))

    await upsert_coded(session, ctx, Faculty, rows, build)


KIND = Kind("faculties", COLUMNS, apply, key=("code",))
