"""Spreadsheets the bot sends: one workbook builder for every export (data in, bytes out).

Handlers gather plain rows in a read unit, translate the headers in the reader's language, and
call :func:`workbook_bytes` off the event loop. Every sheet looks the same: optional caption
lines, a bold header row that stays frozen while scrolling, a filter on the header, and columns
as wide as their content (within limits). Every text cell goes through
:func:`bot.services.cells.safe_cell`, so a name such as ``=HYPERLINK(...)`` stays text.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.services.cells import safe_cell

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MIN_WIDTH = 6
MAX_WIDTH = 60
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
_FILE_NAME_BAD = re.compile(r"[^\w.-]+")


@dataclass(frozen=True, slots=True)
class Column:
    """A column: its header (already translated) and how its numbers are shown."""

    header: str
    number_format: str | None = None
    width: int | None = None


@dataclass(frozen=True, slots=True)
class Sheet:
    """One worksheet: caption lines above the table, the columns and the rows of values.

    Values are text, int, float, Decimal, date or naive datetime (local time), or None.
    """

    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]]
    caption: Sequence[str] = field(default=())


def sheet_title(text: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of ``[]:*?/\\``."""
    cleaned = _SHEET_TITLE_BAD.sub(" ", text).strip().strip("'") or "Sheet"
    return cleaned[:31]


def file_name(*parts: object, ext: str = "xlsx") -> str:
    """``journal-IS-25-1-DBS2201-2026-autumn.xlsx``: the parts joined by hyphens.

    Parts are codes (group, discipline, dates). Letters of any script and digits stay (a group
    may be coded in Cyrillic); anything else, path separators included, becomes a hyphen, and an
    empty result falls back to ``export``.
    """
    words = []
    for part in parts:
        word = _FILE_NAME_BAD.sub("-", str(part)).strip("-._")
        if word:
            words.append(word)
    stem = "-".join(words)[:120] or "export"
    return f"{stem}.{ext}"


def _shown_length(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    text = str(value)
    return max((len(line) for line in text.splitlines()), default=0)


def _write_sheet(ws: Any, sheet: Sheet) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    for number, line in enumerate(sheet.caption, start=1):
        ws.cell(row=number, column=1, value=safe_cell(line))
    if sheet.caption:
        ws.cell(row=1, column=1).font = Font(bold=True, size=12)
    # One empty row between the caption and the table.
    header_row = len(sheet.caption) + 2 if sheet.caption else 1
    fill = PatternFill("solid", start_color="DDE6F0")
    for index, column in enumerate(sheet.columns, start=1):
        cell = ws.cell(row=header_row, column=index, value=safe_cell(column.header))
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    widths = [_shown_length(column.header) for column in sheet.columns]
    for offset, values in enumerate(sheet.rows, start=1):
        row_number = header_row + offset
        for index, value in enumerate(values, start=1):
            cell = ws.cell(row=row_number, column=index, value=safe_cell(value))
            column = sheet.columns[index - 1] if index <= len(sheet.columns) else None
            if column is not None and column.number_format and value is not None:
                cell.number_format = column.number_format
            elif isinstance(value, datetime):
                cell.number_format = "dd.mm.yyyy hh:mm"
            elif isinstance(value, date):
                cell.number_format = "dd.mm.yyyy"
            if index <= len(widths):
                widths[index - 1] = max(widths[index - 1], _shown_length(value))
    for index, column in enumerate(sheet.columns, start=1):
        width = column.width or min(MAX_WIDTH, max(MIN_WIDTH, widths[index - 1] + 2))
        ws.column_dimensions[get_column_letter(index)].width = width
    if sheet.columns:
        # Rows above and at the header stay in view; the filter sits on the header.
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
        last = get_column_letter(len(sheet.columns))
        ws.auto_filter.ref = f"A{header_row}:{last}{header_row + max(len(sheet.rows), 1)}"


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """The .xlsx file of these sheets (CPU-bound: call it with ``asyncio.to_thread``)."""
    from openpyxl import Workbook

    workbook = Workbook()
    first = workbook.active
    assert first is not None
    workbook.remove(first)
    used: set[str] = set()
    for sheet in sheets or [Sheet(title="Sheet", columns=(), rows=())]:
        title = sheet_title(sheet.title)
        base, n = title, 2
        while title.lower() in used:
            suffix = f" ({n})"
            title = base[: 31 - len(suffix)] + suffix
            n += 1
        used.add(title.lower())
        _write_sheet(workbook.create_sheet(title=title), sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


__all__ = ["XLSX_MIME", "Column", "Sheet", "file_name", "sheet_title", "workbook_bytes"]
