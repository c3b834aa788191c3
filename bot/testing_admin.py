"""`python -m bot.testing_admin`: question banks and tests from the command line.

    python -m bot.testing_admin import-bank bank.docx --discipline DBS2201 [--bank "Main"]
        [--difficulty medium]
    python -m bot.testing_admin create-test --name "Midterm 1" --discipline DBS2201
        --control midterm1 --minutes 40 --easy 5 --medium 3 --hard 2
        --opens "20.05.2026 10:00" --closes "20.05.2026 18:00" --group IS-24-1 [--student S2024001]
        [--attempts 1] [--no-shuffle-questions] [--no-shuffle-options] [--results-after-close]
        [--appeal-hours 24] [--bank "Main"] [--period 2025-2026-2]
    python -m bot.testing_admin set-rules --locale kk rules.txt   ("-" as the file: built-in)

Times are local to the university (TIMEZONE). The exit code is 0 on success, 1 when the
command was refused (the reason is printed), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.cli import cli_database, cli_settings
from bot.config import SUPPORTED_LOCALES
from bot.services import testing as svc
from bot.services.bounded import BoundedRunError
from bot.services.errors import DomainError
from bot.services.question_import import MAX_FILE_BYTES, parse_bank_bounded
from bot.services.question_import import Difficulty as ImportDifficulty
from bot.services.testing import DEFAULT_APPEAL_HOURS, MAX_APPEAL_HOURS
from db.base import utcnow
from db.models import AcademicPeriod, Discipline, Group, Student
from db.models.testing import ControlKind, Difficulty, QuestionBank

DEFAULT_BANK = "Main"


class CommandError(Exception):
    pass


def parse_local(value: str, tz: ZoneInfo) -> datetime:
    for fmt in ("%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"):
        try:
            return datetime.strptime(value.strip(), fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    raise CommandError(f"cannot read the time {value!r}: use DD.MM.YYYY HH:MM")


async def _discipline(session: object, code: str) -> Discipline:
    found = await session.scalar(select(Discipline).where(Discipline.code == code))  # type: ignore[attr-defined]
    if found is None:
        raise CommandError(f"no discipline with code {code!r}")
    return found


def read_file(name: str, limit: int | None = None) -> bytes:
    """The file's bytes; a file over ``limit`` is refused before it is read."""
    path = Path(name)
    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    size = path.stat().st_size
    if limit is not None and size > limit:
        raise CommandError(f"{path} is {size} bytes; the limit is {limit // 2**20} MB")
    return path.read_bytes()


async def import_bank(args: argparse.Namespace) -> str:
    path = Path(args.file)
    data = await asyncio.to_thread(read_file, args.file, MAX_FILE_BYTES)
    try:
        parsed = await parse_bank_bounded(path.name, data, ImportDifficulty(args.difficulty))
    except BoundedRunError as exc:
        what = "too much memory" if exc.reason == "memory" else "too long"
        raise CommandError(f"{path} took {what} to read; split it into smaller files") from None
    settings = cli_settings()
    async with cli_database(settings) as db, db.write() as session:
        discipline = await _discipline(session, args.discipline)
        added = 0
        problems = list(parsed.problems)
        if parsed.questions:
            bank = await svc.get_or_create_bank(session, discipline.id, args.bank, None, utcnow())
            outcome = await svc.import_questions(
                session, bank.id, parsed.questions, Difficulty(args.difficulty), utcnow()
            )
            added = outcome.added
            problems += outcome.problems
    lines = [
        f"{path.name} ({parsed.format}): imported {added} question(s) into "
        f"{args.discipline} / {args.bank}; refused {len(problems)}"
    ]
    for problem in sorted(problems, key=lambda p: p.line):
        where = "file" if problem.line == 0 else f"line {problem.line}"
        lines.append(f"  {where}: {problem.reason.value} {problem.detail}".rstrip())
    return "\n".join(lines)


async def create_test(args: argparse.Namespace) -> str:
    settings = cli_settings()
    tz = settings.tz
    opens, closes = parse_local(args.opens, tz), parse_local(args.closes, tz)
    async with cli_database(settings) as db, db.write() as session:
        discipline = await _discipline(session, args.discipline)
        bank = await session.scalar(
            select(QuestionBank).where(
                QuestionBank.discipline_id == discipline.id, QuestionBank.name == args.bank
            )
        )
        if bank is None:
            raise CommandError(f"no bank {args.bank!r} for {args.discipline}: import-bank first")
        period_id = None
        if args.period:
            period_id = await session.scalar(
                select(AcademicPeriod.id).where(AcademicPeriod.code == args.period)
            )
            if period_id is None:
                raise CommandError(f"no academic period {args.period!r}")
        group_ids = []
        for code in args.group:
            gid = await session.scalar(select(Group.id).where(Group.code == code))
            if gid is None:
                raise CommandError(f"no group {code!r}")
            group_ids.append(gid)
        student_ids = []
        for number in args.student:
            sid = await session.scalar(select(Student.id).where(Student.student_no == number))
            if sid is None:
                raise CommandError(f"no student with record-book number {number!r}")
            student_ids.append(sid)
        spec = svc.TestSpec(
            name=args.name,
            discipline_id=discipline.id,
            bank_id=bank.id,
            control=ControlKind(args.control),
            time_limit_minutes=args.minutes,
            easy_count=args.easy,
            medium_count=args.medium,
            hard_count=args.hard,
            opens_at=opens,
            closes_at=closes,
            attempts_allowed=args.attempts,
            shuffle_questions=not args.no_shuffle_questions,
            shuffle_options=not args.no_shuffle_options,
            results_after_close=args.results_after_close,
            appeal_window_hours=args.appeal_hours,
            period_id=period_id,
        )
        test = await svc.create_test(
            session,
            spec,
            group_ids=group_ids,
            student_ids=student_ids,
            created_by_user_id=None,
            now=utcnow(),
            tz=tz,
        )
        assigned = len(await svc.assigned_user_ids(session, test.id))
    return (
        f"created test #{test.id} {test.name!r}: {test.question_count} questions, "
        f"assigned to {assigned} student(s)"
    )


async def set_rules(args: argparse.Namespace) -> str:
    if args.locale not in SUPPORTED_LOCALES:
        raise CommandError(f"--locale must be one of {', '.join(SUPPORTED_LOCALES)}")
    settings = cli_settings()
    text = None
    if args.file != "-":
        raw = await asyncio.to_thread(read_file, args.file, 64 * 1024)
        try:
            text = raw.decode("utf-8-sig").strip()
        except UnicodeDecodeError:
            raise CommandError("the rules file is not UTF-8 text") from None
        if not text or len(text) > 3000:
            raise CommandError("the rules text must be 1 to 3000 characters")
    async with cli_database(settings) as db, db.write() as session:
        if text is None:
            await svc.clear_rules_text(session, args.locale)
        else:
            await svc.set_rules_text(session, args.locale, text, None, utcnow())
    return f"rules for {args.locale}: {'built-in text' if text is None else 'saved'}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot.testing_admin",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    imp = sub.add_parser("import-bank", help="import a question bank file")
    imp.add_argument("file")
    imp.add_argument("--discipline", required=True, help="discipline code, e.g. DBS2201")
    imp.add_argument("--bank", default=DEFAULT_BANK, help="bank name (created if new)")
    imp.add_argument(
        "--difficulty",
        default="medium",
        choices=[d.value for d in Difficulty],
        help="level of questions whose file states none",
    )
    imp.set_defaults(func=import_bank)

    new = sub.add_parser("create-test", help="create and assign a test")
    new.add_argument("--name", required=True)
    new.add_argument("--discipline", required=True)
    new.add_argument("--bank", default=DEFAULT_BANK)
    new.add_argument("--control", required=True, choices=[c.value for c in ControlKind])
    new.add_argument("--minutes", type=int, required=True)
    new.add_argument("--easy", type=int, default=0)
    new.add_argument("--medium", type=int, default=0)
    new.add_argument("--hard", type=int, default=0)
    new.add_argument("--opens", required=True, help="DD.MM.YYYY HH:MM, local time")
    new.add_argument("--closes", required=True, help="DD.MM.YYYY HH:MM, local time")
    new.add_argument("--attempts", type=int, default=1)
    new.add_argument("--no-shuffle-questions", action="store_true")
    new.add_argument("--no-shuffle-options", action="store_true")
    new.add_argument("--results-after-close", action="store_true")
    new.add_argument("--appeal-hours", type=int, default=DEFAULT_APPEAL_HOURS)
    new.add_argument("--period", help="academic period code (default: the one of the window)")
    new.add_argument("--group", action="append", default=[], help="group code (repeatable)")
    new.add_argument(
        "--student", action="append", default=[], help="record-book number (repeatable)"
    )
    new.set_defaults(func=create_test)

    rules = sub.add_parser("set-rules", help="set the rules of testing in one language")
    rules.add_argument("file", help='a UTF-8 text file, or "-" for the built-in text')
    rules.add_argument("--locale", required=True, choices=list(SUPPORTED_LOCALES))
    rules.set_defaults(func=set_rules)
    return parser


REFUSALS = {
    "not_found": "not found",
    "bad_name": "the name must be 1 to 200 characters",
    "bad_time_limit": "the time limit is 1 to 1440 minutes",
    "bad_counts": "draw at least one question and at most 200",
    "bad_window": "the window must end after it starts",
    "bad_attempts": "attempts: 1 to 10",
    "bad_appeal_window": f"the appeal window is 0 to {MAX_APPEAL_HOURS} hours",
    "no_targets": "assign the test to at least one --group or --student",
    "bank_name_empty": "the bank name is empty",
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        print(asyncio.run(args.func(args)))
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DomainError as exc:
        if exc.code == "bank_too_small":
            p = exc.params
            reason = (
                f"the bank has {p['have']} {p['difficulty']} question(s), "
                f"the test needs {p['wanted']}"
            )
        else:
            reason = REFUSALS.get(exc.code, exc.code)
        print(f"error: {reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
