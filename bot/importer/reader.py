"""Reading a table from CSV or .xlsx: see bot.services.tables, which holds the code so that the
child process reading an upload need not import the whole importer."""

from bot.services.tables import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    MAX_UNPACKED_BYTES,
    READ_MEMORY_BYTES,
    READ_TIMEOUT_SECONDS,
    FileProblem,
    Table,
    read_csv,
    read_table,
    read_table_bounded,
    read_xlsx,
)

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "MAX_UNPACKED_BYTES",
    "READ_MEMORY_BYTES",
    "READ_TIMEOUT_SECONDS",
    "FileProblem",
    "Table",
    "read_csv",
    "read_table",
    "read_table_bounded",
    "read_xlsx",
]
