"""Data import: CSV or .xlsx files of every kind of the university's data.

    report = await run_import(db, "students", data, filename="students.xlsx", dry_run=True)

Kinds and their headers: docs/import/README.md (example files in docs/import/examples/).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from bot.importer import (
    assignments,
    attendance,
    calendars,
    disciplines,
    faculties,
    grades,
    groups,
    library,
    periods,
    programmes,
    question_banks,
    services,
    staff,
    students,
    study_forms,
    teachers,
    timetable,
)
from bot.importer.base import (
    Change,
    ImportOptions,
    ImportReport,
    IssuedPassword,
    Kind,
    Problem,
    import_table,
)
from bot.importer.reader import FileProblem, Table, read_table, read_table_bounded
from db.session import Database

# In dependency order: a file of a later kind names things of the earlier ones.
KINDS: dict[str, Kind] = {
    module.KIND.name: module.KIND
    for module in (
        faculties,
        programmes,
        study_forms,
        periods,
        groups,
        disciplines,
        teachers,
        staff,
        students,
        timetable,
        assignments,
        grades,
        attendance,
        calendars,
        library,
        services,
        question_banks,
    )
}

# A caption or a CLI argument may name the kind in any of the three languages.
KIND_ALIASES = {
    "faculties": ("faculty", "факультеты", "факультеттер"),
    "programmes": ("programs", "programme", "программы", "бағдарламалар", "оп", "ббб"),
    "study_forms": ("forms", "формы обучения", "оқу түрлері"),
    "periods": ("terms", "периоды", "семестры", "кезеңдер"),
    "groups": ("group", "группы", "топтар"),
    "disciplines": ("courses", "дисциплины", "пәндер"),
    "teachers": ("teacher", "преподаватели", "оқытушылар", "ппс"),
    "staff": ("employees", "сотрудники", "қызметкерлер"),
    "students": ("student", "студенты", "студенттер", "контингент"),
    "assignments": ("teaching", "нагрузка", "назначения", "жүктеме"),
    "timetable": ("schedule", "расписание", "сабақ кестесі", "кесте"),
    "grades": ("marks", "оценки", "бағалар", "журнал"),
    "attendance": ("посещаемость", "қатысу"),
    "calendars": ("calendar", "академический календарь", "календарь", "академиялық күнтізбе"),
    "library": ("books", "библиотека", "кітапхана"),
    "services": ("service_catalogue", "услуги", "қызметтер", "цос"),
    "question_banks": ("questions", "банк вопросов", "вопросы", "сұрақтар"),
}


def kind_named(name: str) -> Kind | None:
    folded = " ".join(name.strip().casefold().replace("_", " ").replace("-", " ").split())
    for key, aliases in KIND_ALIASES.items():
        names = {key.replace("_", " "), *(a.replace("_", " ") for a in aliases)}
        if folded in names:
            return KINDS[key]
    return None


async def run_import(
    db: Database,
    kind: Kind | str,
    data: bytes | Table,
    *,
    filename: str = "",
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    actor_user_id: int | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Read and import a file in one write unit, recording it in the audit log when applied.

    The file is read in a child process bounded in time and memory (read_table_bounded),
    never on the event loop. Raises FileProblem when the file is not a readable table.
    """
    from bot.services import audit
    from db.base import utcnow

    chosen = KINDS[kind] if isinstance(kind, str) else kind
    table = data if isinstance(data, Table) else await read_table_bounded(data, filename)
    options = ImportOptions(
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
        actor_user_id=actor_user_id,
        now=now or utcnow(),
    )
    async with db.write() as session:
        report = await import_table(session, chosen, table, options)
        if report.applied and (report.created or report.updated):
            await audit.record(
                session,
                actor_user_id,
                f"import.{chosen.name}",
                filename or chosen.name,
                {
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "refused": report.refused,
                    "passwords": len(report.passwords),
                },
                options.now,
            )
    return report


def passwords_csv(passwords: list[IssuedPassword]) -> bytes:
    """The registrar's list of one-time passwords, as Excel opens it (UTF-8 with BOM).

    Names come from imported files: a cell that would start a formula is neutralised
    (bot.services.cells), so a name like ``=HYPERLINK(...)`` cannot leak the password beside it.
    """
    from bot.services.cells import safe_row

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["login", "last_name", "first_name", "middle_name", "group", "password"])
    for item in passwords:
        writer.writerow(
            safe_row(
                [
                    item.login,
                    item.last_name,
                    item.first_name,
                    item.middle_name,
                    item.where,
                    item.password,
                ]
            )
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


__all__ = [
    "KINDS",
    "Change",
    "FileProblem",
    "ImportOptions",
    "ImportReport",
    "Kind",
    "Problem",
    "Table",
    "import_table",
    "kind_named",
    "passwords_csv",
    "read_table",
    "read_table_bounded",
    "run_import",
]
