"""Import problems in words, in the reader's language (the bot) or in English (the CLI)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.importer.base import Problem

REASONS: dict[str, Callable[[], str]] = {
    "required": lambda: _("the value is required"),
    "too_long": lambda: _("too long (at most {limit} characters)"),
    "has_spaces": lambda: _("a code has no spaces"),
    "not_number": lambda: _("not a number"),
    "not_whole": lambda: _("not a whole number"),
    "out_of_range": lambda: _("must be from {low} to {high}"),
    "bad_date": lambda: _("not a date (use 2026-09-01 or 01.09.2026)"),
    "bad_time": lambda: _("not a time (use 08:30)"),
    "bad_yes_no": lambda: _("use yes or no (1 or 0)"),
    "not_one_of": lambda: _("must be one of: {allowed}"),
    "bad_login": lambda: _("a login is 3-64 Latin letters, digits, dots, dashes or underscores"),
    "missing_column": lambda: _("the file has no such column"),
    "duplicate_column": lambda: _("the column appears twice"),
    "duplicate_row": lambda: _("the same row as line {line}"),
    "no_name": lambda: _("a name in at least one language is required"),
    "unknown_faculty": lambda: _("no faculty with this code"),
    "unknown_programme": lambda: _("no programme with this code"),
    "unknown_study_form": lambda: _("no form of study with this code"),
    "unknown_group": lambda: _("no group with this code"),
    "unknown_teacher": lambda: _("no teacher with this login"),
    "unknown_discipline": lambda: _("no discipline with this code"),
    "unknown_period": lambda: _("no academic period with this code"),
    "unknown_student": lambda: _("no student with this login or number"),
    "unknown_category": lambda: _("no category with this code: give its name to create it"),
    "login_other_role": lambda: _("this login belongs to an account with the role {role}"),
    "student_no_taken": lambda: _("this student number belongs to another student"),
    "ends_before_start": lambda: _("the end is before the start"),
    "bad_academic_year": lambda: _("an academic year looks like 2026-2027"),
    "bad_iin": lambda: _("an IIN is 12 digits"),
    "bad_email": lambda: _("not an e-mail address"),
    "date_required": lambda: _("a current mark needs its date"),
    "no_class": lambda: _("the group has no class of this discipline on this day"),
    "ambiguous_class": lambda: _("the group has several classes that day: give the start time"),
    "outside_period": lambda: _("the date is outside the academic period"),
    "bad_copies": lambda: _("free copies cannot exceed the total"),
    "bad_url": lambda: _("a link starts with http:// or https://"),
    "bad_correct": lambda: _("list the numbers or letters of the correct options"),
    "two_options": lambda: _("a question needs at least two options"),
    "duplicate_option": lambda: _("two options are the same"),
    "invalid": lambda: _("the value cannot be used"),
}

FILE_PROBLEMS: dict[str, Callable[[], str]] = {
    "bad_encoding": lambda: _("The file is not UTF-8 or Windows-1251 text."),
    "not_a_table": lambda: _("This is not a CSV or .xlsx table."),
    "empty": lambda: _("The file is empty: the first line must be the header."),
    "too_many_rows": lambda: _("The file has more than {limit} rows: split it."),
    "too_big": lambda: _("The file is larger than {limit_mb} MB."),
    "unpacks_too_big": lambda: _(
        "The .xlsx file unpacks to more than {limit_mb} MB. Save it as CSV or split it."
    ),
    "too_slow": lambda: _("The file took too long to read. Save it as CSV or split it."),
    "too_much_memory": lambda: _(
        "The file needs too much memory to read. Save it as CSV or split it."
    ),
    "unavailable": lambda: _("Telegram did not give the file. Please send it again."),
}


def _format(template: str, params: dict[str, Any]) -> str:
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


def reason_text(problem: Problem) -> str:
    factory = REASONS.get(problem.reason, REASONS["invalid"])
    return _format(factory(), problem.params)


def file_problem_text(reason: str, params: dict[str, Any]) -> str:
    factory = FILE_PROBLEMS.get(reason, FILE_PROBLEMS["not_a_table"])
    return _format(factory(), params)
