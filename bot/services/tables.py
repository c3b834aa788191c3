"""Reading a table from CSV (as Excel saves it) or .xlsx into a header and text cells.

This module imports nothing heavy (openpyxl only inside read_xlsx), so the child process
that reads an upload (read_table_bounded) starts in a tenth of a second; the importer
uses it as ``bot.importer.reader``.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

MAX_FILE_BYTES = 20 * 1024 * 1024
# An .xlsx is a zip file: its members may hold at most twice the file cap in all, so a small
# file cannot inflate into hundreds of megabytes of sharedStrings.xml.
MAX_UNPACKED_BYTES = 2 * MAX_FILE_BYTES
MAX_ROWS = 200_000
# Wall-clock and memory limits of reading one file (see read_table_bounded).
READ_TIMEOUT_SECONDS = 60.0
READ_MEMORY_BYTES = 1536 * 1024 * 1024


class FileProblem(Exception):
    """The file as a whole cannot be read; `reason` is a stable code."""

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


@dataclass(frozen=True, slots=True)
class Table:
    header: list[str]
    # (line number in the file, cells); the header is line 1.
    rows: list[tuple[int, list[str]]]

    @classmethod
    def from_dicts(cls, header: list[str], records: list[dict[str, object]]) -> Table:
        rows = [
            (i + 2, [_cell_text(record.get(name)) for name in header])
            for i, record in enumerate(records)
        ]
        return cls(list(header), rows)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(Decimal(repr(value)))
    return str(value)


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Excel's plain "CSV" on a Russian or Kazakh Windows is saved in the ANSI code page.
    try:
        return data.decode("cp1251")
    except UnicodeDecodeError:
        raise FileProblem("bad_encoding") from None


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(data: bytes) -> Table:
    text = _decode(data)
    if "\x00" in text:
        raise FileProblem("not_a_table")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise FileProblem("empty")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(lines[0]))
    try:
        records = list(reader)
    except csv.Error:
        raise FileProblem("not_a_table") from None
    return _table(records)


def _table(records: list[list[str]]) -> Table:
    if not records:
        raise FileProblem("empty")
    header = [h.replace("\ufeff", "").strip() for h in records[0]]
    rows = []
    for number, cells in enumerate(records[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        rows.append((number, cells))
        if len(rows) > MAX_ROWS:
            raise FileProblem("too_many_rows", limit=MAX_ROWS)
    if not any(header):
        raise FileProblem("empty")
    return Table(header, rows)


def read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    from bot.services.uploads import ArchiveProblem, check_archive

    try:
        check_archive(data, MAX_UNPACKED_BYTES)
    except ArchiveProblem as exc:
        if exc.reason == "too_large":
            raise FileProblem(
                "unpacks_too_big", limit_mb=MAX_UNPACKED_BYTES // (1024 * 1024)
            ) from None
        raise FileProblem("not_a_table") from None
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise FileProblem("not_a_table") from None
    try:
        sheet = workbook.worksheets[0]
        records = []
        for values in sheet.iter_rows(values_only=True):
            records.append([_cell_text(v).strip() for v in values])
            if len(records) > MAX_ROWS + 1:
                raise FileProblem("too_many_rows", limit=MAX_ROWS)
    finally:
        workbook.close()
    # Trailing empty columns of a formatted sheet are not part of the header.
    while records and records[0] and not records[0][-1]:
        width = len(records[0]) - 1
        records[0] = records[0][:width]
    return _table(records)


def read_table(data: bytes, filename: str = "") -> Table:
    """CSV or .xlsx, told apart by content (an .xlsx is a zip file), not by the name only."""
    if len(data) > MAX_FILE_BYTES:
        raise FileProblem("too_big", limit_mb=MAX_FILE_BYTES // (1024 * 1024))
    if not data:
        raise FileProblem("empty")
    if data.startswith(b"PK\x03\x04"):
        return read_xlsx(data)
    name = filename.casefold()
    if name.endswith((".xlsx", ".xlsm", ".xls")):
        raise FileProblem("not_a_table")
    return read_csv(data)


async def read_table_bounded(data: bytes, filename: str = "") -> Table:
    """:func:`read_table` in a child process within :data:`READ_TIMEOUT_SECONDS` and
    :data:`READ_MEMORY_BYTES`: a hostile file can stall neither the bot nor its memory.

    :raises FileProblem: as :func:`read_table`, and ``too_slow`` or ``too_much_memory``.
    """
    from bot.services.bounded import BoundedRunError, run_bounded

    if len(data) > MAX_FILE_BYTES:  # no process is started for what is refused anyway
        raise FileProblem("too_big", limit_mb=MAX_FILE_BYTES // (1024 * 1024))
    try:
        return await run_bounded(
            read_table,
            data,
            filename,
            time_limit=READ_TIMEOUT_SECONDS,
            memory_bytes=READ_MEMORY_BYTES,
        )
    except BoundedRunError as exc:
        reason = "too_much_memory" if exc.reason == "memory" else "too_slow"
        raise FileProblem(reason) from None
