"""Academic periods (terms), keyed by code (e.g. 2026-2027-1).

Columns: code* (код), academic_year* (учебный год / оқу жылы, 2026-2027), term* (семестр /
семестр, 1-3), starts_on* (начало / басталуы), ends_on* (конец / аяқталуы); dates as
2026-09-01 or 01.09.2026.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer.base import CellError, Column, ImportContext, Kind, Row, a_date, integer
from bot.importer.common import CODE, upsert_coded
from db.models import AcademicPeriod


def academic_year(value: str) -> str:
    match = re.fullmatch(r"(\d{4})\s*[-/–]\s*(\d{4})", value)
    if match is None or int(match.group(2)) != int(match.group(1)) + 1:
        raise CellError("bad_academic_year")
    return f"{match.group(1)}-{match.group(2)}"


COLUMNS = (
    CODE,
    Column(
        "academic_year", "academic_year", "учебный год", "оқу жылы", academic_year, required=True
    ),
    Column("term", "term", "семестр", "семестр", integer(1, 3), required=True),
    Column("starts_on", "starts_on", "начало", "басталуы", a_date, required=True),
    Column("ends_on", "ends_on", "конец", "аяқталуы", a_date, required=True),
)


async def apply(session: AsyncSession, rows: list[Row], ctx: ImportContext) -> None:
    def build(row: Row, existing: Any | None) -> dict[str, Any] | None:
        if row.get("ends_on") < row.get("starts_on"):
            ctx.refuse(row, "ends_on", "ends_before_start")
            return None
        return {k: row.get(k) for k in ("academic_year", "term", "starts_on", "ends_on")}

    await upsert_coded(session, ctx, AcademicPeriod, rows, build)


KIND = Kind("periods", COLUMNS, apply, key=("code",))
