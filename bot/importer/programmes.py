"""Educational programmes, keyed by code (e.g. 6B06101).

Columns: code* (код), faculty* (факультет, code of a faculty), name_kk / name_ru / name_en,
degree (степень / дәреже: bachelor, master, doctorate), duration_years (срок обучения / оқу
мерзімі, 1-7).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer.base import Column, ImportContext, Kind, Row, choice, code, integer
from bot.importer.common import (
    CODE,
    id_map,
    name_column,
    name_columns,
    names,
    present,
    upsert_coded,
)
from db.models import Faculty, Programme

DEGREES = {
    "bachelor": "bachelor",
    "бакалавр": "bachelor",
    "бакалавриат": "bachelor",
    "master": "master",
    "магистр": "master",
    "магистратура": "master",
    "doctorate": "doctorate",
    "phd": "doctorate",
    "докторантура": "doctorate",
}

COLUMNS = (
    CODE,
    Column("faculty", "faculty", "факультет", "факультет", code(32), required=True),
    *name_columns(),
    Column("degree", "degree", "степень", "дәреже", choice(DEGREES)),
    Column("duration_years", "duration_years", "срок обучения", "оқу мерзімі", integer(1, 7)),
)


async def apply(session: AsyncSession, rows: list[Row], ctx: ImportContext) -> None:
    faculties = await id_map(session, Faculty.code, (r.get("faculty") for r in rows), Faculty.id)

    def build(row: Row, existing: Any | None) -> dict[str, Any] | None:
        faculty_id = faculties.get(row.get("faculty"))
        if faculty_id is None:
            ctx.refuse(row, "faculty", "unknown_faculty")
        values = names(row, existing)
        if values is None:
            ctx.refuse(row, name_column(row), "no_name")
        if faculty_id is None or values is None:
            return None
        return values | {"faculty_id": faculty_id} | present(row, "degree", "duration_years")

    await upsert_coded(session, ctx, Programme, rows, build)


KIND = Kind("programmes", COLUMNS, apply, key=("code",))
