"""The import engine: read a table, map its header, parse cells, apply rows by natural key.

A kind (one module of this package) declares its columns and an `apply` coroutine; the engine
does the rest the same way for every kind:

- the header may use the English, Russian or Kazakh name of a column (case, spaces,
  underscores and a trailing `*` do not matter);
- every cell is parsed before anything touches the database; a refused cell is reported with
  its line, column and reason;
- rows are applied inside a savepoint: with any refused row (and no "skip bad rows") or in a
  dry run the savepoint is rolled back, so an import lands whole or not at all;
- each row ends as created, updated or unchanged, so running a file twice changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer.reader import Table

MAX_CHANGES_SHOWN = 10


class CellError(Exception):
    """A cell that cannot be used; `reason` is a stable code (see bot.importer.messages)."""

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


# ---- cell parsers ----------------------------------------------------------------------------

Parser = Callable[[str], Any]


def text(limit: int) -> Parser:
    def parse(value: str) -> str:
        if len(value) > limit:
            raise CellError("too_long", limit=limit)
        return value

    return parse


def code(limit: int = 32) -> Parser:
    def parse(value: str) -> str:
        if len(value) > limit:
            raise CellError("too_long", limit=limit)
        if any(ch.isspace() for ch in value):
            raise CellError("has_spaces")
        return value

    return parse


def integer(low: int, high: int) -> Parser:
    def parse(value: str) -> int:
        try:
            number = Decimal(value.replace(",", ".").replace(" ", ""))
        except InvalidOperation:
            raise CellError("not_number") from None
        if number != number.to_integral_value():
            raise CellError("not_whole")
        if not low <= number <= high:
            raise CellError("out_of_range", low=low, high=high)
        return int(number)

    return parse


def mark(value: str) -> Decimal:
    try:
        number = Decimal(value.replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        raise CellError("not_number") from None
    if not number.is_finite() or not 0 <= number <= 100:
        raise CellError("out_of_range", low=0, high=100)
    return number.quantize(Decimal("0.01"))


_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S")


def a_date(value: str) -> date:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise CellError("bad_date")


def a_time(value: str) -> time:
    match = re.fullmatch(r"(\d{1,2})[:.](\d{2})(?::\d{2})?", value)
    if match is None:
        raise CellError("bad_time")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise CellError("bad_time")
    return time(hour, minute)


_TRUE = {"1", "yes", "y", "true", "+", "да", "д", "иә", "ия", "и", "present", "присутствовал"}
_FALSE = {"0", "no", "n", "false", "-", "нет", "жоқ", "absent", "н", "отсутствовал", "ж"}


def boolean(value: str) -> bool:
    folded = value.casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise CellError("bad_yes_no")


def choice(options: Mapping[str, Any]) -> Parser:
    """One of `options` (keys compared case-insensitively); the reason lists the keys."""
    folded = {k.casefold(): v for k, v in options.items()}
    shown = ", ".join(dict.fromkeys(str(v) for v in options.values()))

    def parse(value: str) -> Any:
        result = folded.get(value.casefold())
        if result is None:
            raise CellError("not_one_of", allowed=shown)
        return result

    return parse


def login(value: str) -> str:
    from bot.services.auth import login_is_valid, normalize_login

    if not login_is_valid(value):
        raise CellError("bad_login")
    return normalize_login(value)


PLAIN_TEXT = text(300)


# ---- columns and kinds -----------------------------------------------------------------------


def fold_header(name: str) -> str:
    name = name.replace("\ufeff", "").strip().rstrip("*").strip().casefold().replace("ё", "е")
    return re.sub(r"[\s_\-]+", " ", name)


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    en: str
    ru: str
    kk: str
    parse: Parser = PLAIN_TEXT
    required: bool = False
    note: str = ""
    aliases: tuple[str, ...] = ()

    def names(self) -> list[str]:
        return [self.key, self.en, self.ru, self.kk, *self.aliases]


@dataclass(slots=True)
class Row:
    line: int
    values: dict[str, Any]
    # The header as written in the file, to name the column in a problem.
    headers: Mapping[str, str]

    def has(self, key: str) -> bool:
        return key in self.values

    def get(self, key: str, default: Any = None) -> Any:
        value = self.values.get(key)
        return default if value is None else value


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    column: str
    reason: str
    params: dict[str, Any] = field(default_factory=dict)
    value: str = ""


@dataclass(frozen=True, slots=True)
class Change:
    line: int
    action: str  # created | updated
    label: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IssuedPassword:
    login: str
    last_name: str
    first_name: str
    middle_name: str
    where: str
    password: str


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    passwords: list[IssuedPassword] = field(default_factory=list)
    # Columns of the file that no column of the kind matches: read past, not refused.
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False
    applied: bool = False

    @property
    def refused(self) -> int:
        return len({p.line for p in self.problems})


@dataclass
class ImportOptions:
    dry_run: bool = False
    skip_bad_rows: bool = False
    actor_user_id: int | None = None
    now: datetime | None = None
    # New accounts get a one-time password (False leaves them without a usable password).
    issue_passwords: bool = True


class ImportContext:
    """What a kind's `apply` reports to, row by row."""

    def __init__(self, report: ImportReport, options: ImportOptions, now: datetime) -> None:
        self.report = report
        self.options = options
        self.now = now
        self._refused_lines: set[int] = set()

    def refuse(self, row: Row, column: str, reason: str, **params: Any) -> None:
        header = row.headers.get(column, column)
        value = row.values.get(column)
        self.report.problems.append(
            Problem(row.line, header, reason, params, "" if value is None else str(value)[:80])
        )
        self._refused_lines.add(row.line)

    def refused(self, row: Row) -> bool:
        return row.line in self._refused_lines

    def created(self, row: Row, label: str) -> None:
        self.report.created += 1
        self._note(Change(row.line, "created", label))

    def updated(self, row: Row, label: str, fields: Iterable[str]) -> None:
        self.report.updated += 1
        self._note(Change(row.line, "updated", label, tuple(fields)))

    def unchanged(self, row: Row) -> None:
        self.report.unchanged += 1

    def _note(self, change: Change) -> None:
        if len(self.report.changes) < MAX_CHANGES_SHOWN:
            self.report.changes.append(change)


@dataclass(frozen=True)
class Kind:
    name: str
    columns: tuple[Column, ...]
    apply: Callable[[AsyncSession, list[Row], ImportContext], Awaitable[None]]
    # Columns that together identify a row: a second row with the same values is refused.
    key: tuple[str, ...] = ()
    description: str = ""


def diff(obj: Any, values: Mapping[str, Any]) -> list[str]:
    """Set the attributes that differ; returns their names."""
    changed = []
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


# ---- running ---------------------------------------------------------------------------------


def _map_header(
    kind: Kind, header: Sequence[str], ignored: list[str]
) -> tuple[dict[int, Column], list[Problem]]:
    by_name: dict[str, Column] = {}
    for column in kind.columns:
        for name in column.names():
            by_name.setdefault(fold_header(name), column)
    mapping: dict[int, Column] = {}
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, name in enumerate(header):
        if not name.strip():
            continue
        column = by_name.get(fold_header(name))
        if column is None:
            ignored.append(name.strip())
            continue
        if column.key in seen:
            problems.append(Problem(1, name, "duplicate_column"))
            continue
        seen.add(column.key)
        mapping[index] = column
    for column in kind.columns:
        if column.required and column.key not in seen:
            problems.append(Problem(1, column.en, "missing_column"))
    return mapping, problems


def parse_rows(kind: Kind, table: Table, report: ImportReport) -> list[Row]:
    """Parse every cell; refused rows are reported and left out."""
    mapping, problems = _map_header(kind, table.header, report.ignored_columns)
    report.problems.extend(problems)
    if problems:
        return []
    headers = {column.key: table.header[i].strip() for i, column in mapping.items()}
    rows: list[Row] = []
    seen_keys: dict[tuple[Any, ...], int] = {}
    for line, cells in table.rows:
        report.rows += 1
        values: dict[str, Any] = {}
        bad = False
        for index, column in mapping.items():
            raw = cells[index].strip() if index < len(cells) else ""
            if not raw:
                if column.required:
                    report.problems.append(Problem(line, headers[column.key], "required"))
                    bad = True
                values[column.key] = None
                continue
            try:
                values[column.key] = column.parse(raw)
            except CellError as exc:
                report.problems.append(
                    Problem(line, headers[column.key], exc.reason, exc.params, raw[:80])
                )
                bad = True
        if bad:
            continue
        if kind.key:
            identity = tuple(
                v.casefold() if isinstance(v, str) else v
                for v in (values.get(k) for k in kind.key)
            )
            first = seen_keys.get(identity)
            if first is not None:
                report.problems.append(
                    Problem(
                        line,
                        headers.get(kind.key[0], kind.key[0]),
                        "duplicate_row",
                        {"line": first},
                    )
                )
                continue
            seen_keys[identity] = line
        rows.append(Row(line, values, headers))
    return rows


async def import_table(
    session: AsyncSession, kind: Kind, table: Table, options: ImportOptions
) -> ImportReport:
    """Import one table in the caller's unit of work (inside a savepoint of its own)."""
    from db.base import utcnow

    now = options.now or utcnow()
    report = ImportReport(kind=kind.name, dry_run=options.dry_run)
    rows = parse_rows(kind, table, report)
    if any(p.line == 1 for p in report.problems):
        return report
    ctx = ImportContext(report, options, now)
    savepoint = await session.begin_nested()
    try:
        await kind.apply(session, rows, ctx)
        keep = not options.dry_run and (options.skip_bad_rows or not report.problems)
        if keep:
            await session.flush()
            await savepoint.commit()
            report.applied = True
        else:
            await savepoint.rollback()
    except BaseException:
        if savepoint.is_active:
            await savepoint.rollback()
        raise
    if not report.applied:
        report.passwords.clear()
    report.problems.sort(key=lambda p: p.line)
    return report
