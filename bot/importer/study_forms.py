"""Forms of study (full-time, part-time...), keyed by code.

Columns: code* (код), name_kk / name_ru / name_en.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer.base import ImportContext, Kind, Row
from bot.importer.common import CODE, name_column, name_columns, names, upsert_coded
from db.models import StudyForm

COLUMNS = (CODE, *name_columns())


async def apply(session: AsyncSession, rows: list[Row], ctx: ImportContext) -> None:
    def build(row: Row, existing: Any | None) -> dict[str, Any] | None:
        values = names(row, existing)
        if values is None:
            ctx.refuse(row, name_column(row), "no_name")
        return values

    await upsert_coded(session, ctx, StudyForm, rows, build)


KIND = Kind("study_forms", COLUMNS, apply, key=("code",))
