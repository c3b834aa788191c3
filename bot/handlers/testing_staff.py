"""Testing, the staff side: question banks (import from a file), a guided dialogue that creates
and assigns a test, results per test and the rules text.

Teachers work with the disciplines they teach; staff and administrators with all of them. Every
press re-checks those rights on the server, whatever the payload or the dialogue state says.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select

from bot.clock import Clock
from bot.config import SUPPORTED_LOCALES, Settings
from bot.downloads import DownloadRefused, download_bounded
from bot.filters import SignedIn
from bot.handlers.testing import control_name, default_rules, error_text
from bot.i18n import LANGUAGE_NAMES, fmt_datetime, fmt_number
from bot.keyboards.common import NavCb, back_button, markup, pager_buttons, short
from bot.keyboards.exports import test_results_button
from bot.keyboards.testing import StaffCb
from bot.modules import MenuItem, Module
from bot.services import testing as svc
from bot.services.auth import Viewer
from bot.services.bounded import BoundedRunError
from bot.services.errors import DomainError
from bot.services.notify import NoticeKind, notify_many
from bot.services.question_import import (
    MAX_FILE_BYTES,
    ImportProblem,
    ProblemReason,
    parse_bank_bounded,
)
from bot.services.question_import import Difficulty as ImportDifficulty
from bot.ui import esc, show, split_text
from bot.views.common import current_locale
from db.models import Group, Role, Student
from db.models.testing import AttemptStatus, ControlKind, Difficulty, OnlineTest, QuestionBank
from db.session import Database

STAFF_ROLES = frozenset({Role.teacher, Role.staff, Role.admin})
PAGE = 8
DEFAULT_BANK = "Main"
ACCEPTED_SUFFIXES = (".txt", ".docx", ".gift", ".aiken")
APPEAL_CHOICES = (0, 24, 48, 72)
MAX_RULES_LENGTH = 3000
MAX_STUDENT_NUMBERS = 200
# Refused questions listed on screen; a longer report comes as one .txt file.
REPORT_LINES_ON_SCREEN = 50


class ImportBank(StatesGroup):
    file = State()


class NewTest(StatesGroup):
    name = State()
    minutes = State()
    counts = State()
    window = State()
    students = State()


class EditRules(StatesGroup):
    text = State()


# ------------------------------------------------------------------------------- wording


def reason_text(reason: ProblemReason | str) -> str:
    return {
        ProblemReason.no_options: lambda: _("no options"),
        ProblemReason.one_option: lambda: _("only one option"),
        ProblemReason.no_correct: lambda: _("no correct option"),
        ProblemReason.duplicate: lambda: _("a duplicate question"),
        ProblemReason.empty_text: lambda: _("empty text"),
        ProblemReason.empty_option: lambda: _("an empty option"),
        ProblemReason.duplicate_option: lambda: _("two identical options"),
        ProblemReason.too_long: lambda: _("too long"),
        ProblemReason.bad_syntax: lambda: _("broken markup"),
        ProblemReason.unsupported: lambda: _("unsupported question type"),
        ProblemReason.bad_file: lambda: _("the file cannot be read"),
    }.get(ProblemReason(reason), lambda: _("refused for another reason"))()


def _back(action: str = "home", i: int = 0, p: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("« Back"), callback_data=StaffCb(a=action, i=i, p=p).pack())


def _btn(text: str, action: str, i: int = 0, p: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=StaffCb(a=action, i=i, p=p).pack())


def _paged(
    buttons: list[InlineKeyboardButton], action: str, key: int, page: int
) -> tuple[list[list[InlineKeyboardButton]], int]:
    pages = max((len(buttons) + PAGE - 1) // PAGE, 1)
    page = min(max(page, 0), pages - 1)
    rows = [[b] for b in buttons[page * PAGE : (page + 1) * PAGE]]
    if nav := pager_buttons(lambda p: StaffCb(a=action, i=key, p=p).pack(), page, pages):
        rows.append(nav)
    return rows, page


# ------------------------------------------------------------------------------- screens


def staff_home() -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "<b>Tests (staff)</b>\n\nQuestion banks, new tests and their assignment, results, "
        "and the rules students read before a test."
    )
    return text, markup(
        [_btn(_("📚 Question banks"), "banks")],
        [_btn(_("➕ New test"), "new")],
        [_btn(_("📋 Tests and results"), "tests")],
        [_btn(_("📜 Rules of testing"), "rules")],
        [back_button()],
    )


async def on_open(callback: CallbackQuery, state: FSMContext) -> None:
    """The "Tests (staff)" menu item."""
    await state.clear()
    await callback.answer()
    text, keyboard = staff_home()
    await show(callback, text, keyboard)


async def cmd_tests(message: Message, state: FSMContext) -> None:
    """/tests for teachers and staff."""
    await state.clear()
    text, keyboard = staff_home()
    await message.answer(text, reply_markup=keyboard)


async def _disciplines_screen(
    db: Database, viewer: Viewer, locale: str, action: str, page: int, title: str
) -> tuple[str, InlineKeyboardMarkup]:
    async with db.read() as session:
        disciplines = await svc.disciplines_for(session, viewer.role, viewer.teacher_id)
    if not disciplines:
        return _("You have no disciplines to work with."), markup([_back()])
    buttons = [
        InlineKeyboardButton(
            text=short(f"{d.code} · {d.name(locale)}", 60),
            callback_data=StaffCb(a=action, i=d.id).pack(),
        )
        for d in disciplines
    ]
    rows, _page = _paged(buttons, action + "s", 0, page)
    rows.append([_back()])
    return title, InlineKeyboardMarkup(inline_keyboard=rows)


async def _discipline_banks(
    db: Database, viewer: Viewer, discipline_id: int, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    async with db.read() as session:
        discipline = await svc.check_discipline_rights(
            session, viewer.role, viewer.teacher_id, discipline_id
        )
        banks = await svc.banks_of(session, [discipline_id])
        counts = {b.id: await svc.bank_counts(session, b.id) for b in banks}
    lines = [f"📚 <b>{esc(discipline.code)} · {esc(discipline.name(locale))}</b>", ""]
    if not banks:
        lines.append(_("No question banks yet."))
    for bank in banks:
        c = counts[bank.id]
        lines.append(
            _("<b>{name}</b>: easy {easy}, medium {medium}, hard {hard}").format(
                name=esc(bank.name),
                easy=c[Difficulty.easy],
                medium=c[Difficulty.medium],
                hard=c[Difficulty.hard],
            )
        )
    return "\n".join(lines), markup(
        [_btn(_("📥 Import questions from a file"), "imp", discipline_id)],
        [_back("banks")],
    )


def _import_prompt() -> str:
    return _(
        "<b>Import questions</b>\n\n"
        "Send the bank as a file: <b>.txt</b> or <b>.docx</b> with "
        "<code>&lt;question&gt;</code> / <code>&lt;variant&gt;</code> tags "
        "(the first variant is correct; "
        "<code>&lt;question1&gt;</code>…<code>&lt;question3&gt;</code> set the level, "
        "<code>&lt;variantright&gt;</code> marks several correct ones), or Moodle "
        "<b>GIFT</b> / <b>Aiken</b>.\n\n"
        "The caption of the file names the bank (default: {default}). Questions without a "
        "level are medium."
    ).format(default=esc(DEFAULT_BANK))


def _problem_line(problem: ImportProblem) -> str:
    where = _("the whole file") if problem.line == 0 else _("line {n}").format(n=problem.line)
    detail = f" — {short(problem.detail, 80)}" if problem.detail else ""
    return f"{where}: {reason_text(problem.reason)}{detail}"


def format_report(filename: str, fmt: str, added: int, problems: list[ImportProblem]) -> list[str]:
    """The import report on screen: totals and the first :data:`REPORT_LINES_ON_SCREEN`
    refused questions (the rest go to the file of :func:`report_document`)."""
    blocks = [
        _(
            "<b>Import of {file}</b> ({format})\nQuestions imported: {added}\nRefused: {refused}"
        ).format(file=esc(filename), format=esc(fmt), added=added, refused=len(problems))
    ]
    ordered = sorted(problems, key=lambda p: p.line)
    blocks += [f"• {esc(_problem_line(p))}" for p in ordered[:REPORT_LINES_ON_SCREEN]]
    if len(ordered) > REPORT_LINES_ON_SCREEN:
        blocks.append(
            _("…and {n} more: the whole report is in the file below.").format(
                n=len(ordered) - REPORT_LINES_ON_SCREEN
            )
        )
    return split_text(blocks)


def report_document(
    filename: str, fmt: str, added: int, problems: list[ImportProblem]
) -> BufferedInputFile | None:
    """The whole report as one plain-text file, when it does not fit on screen."""
    if len(problems) <= REPORT_LINES_ON_SCREEN:
        return None
    head = _("Import of {file} ({format}): imported {added}, refused {refused}").format(
        file=filename, format=fmt, added=added, refused=len(problems)
    )
    lines = [head, ""] + [_problem_line(p) for p in sorted(problems, key=lambda p: p.line)]
    stem = re.sub(r"[^\w.-]+", "_", filename.rsplit(".", 1)[0])[:60] or "bank"
    return BufferedInputFile(
        ("\n".join(lines) + "\n").encode("utf-8"), filename=f"import-report-{stem}.txt"
    )


def upload_problem_text(reason: str) -> str:
    """A bank file that was not read, in words."""
    return {
        "too_big": lambda: _("The file is too large: the limit is {mb} MB.").format(
            mb=MAX_FILE_BYTES // 2**20
        ),
        "timeout": lambda: _(
            "The file took too long to read and was refused. Split it into smaller files."
        ),
        "memory": lambda: _(
            "The file needs too much memory to read and was refused. Split it into smaller files."
        ),
    }.get(reason, lambda: _("Telegram did not give the file. Please send it again."))()


# ------------------------------------------------------------------------------- handlers


def _button(code: str, action: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """The handler of one staff testing button (StaffCb.a == code): the action with the
    press's ids. Rights are checked again on each press; a refusal (DomainError) is answered
    by the errors router."""

    async def handler(
        callback: CallbackQuery,
        callback_data: StaffCb,
        state: FSMContext,
        db: Database,
        viewer: Viewer,
        clock: Clock,
        settings: Settings,
    ) -> None:
        await action(
            callback,
            state,
            db,
            viewer,
            clock,
            settings,
            current_locale(),
            callback_data.i,
            callback_data.p,
        )

    handler.__name__ = handler.__qualname__ = f"on_{code}"
    return handler


async def on_stale_button(callback: CallbackQuery) -> None:
    """A staff testing button of an action this version no longer has."""
    await callback.answer(_("This button is no longer available."))


async def _home(cb, state, db, viewer, clock, settings, locale, i, p) -> None:
    await state.clear()
    await cb.answer()
    text, keyboard = staff_home()
    await show(cb, text, keyboard)


async def _banks(cb, state, db, viewer, clock, settings, locale, i, p) -> None:
    await state.clear()
    text, keyboard = await _disciplines_screen(
        db, viewer, locale, "disc", p, _("<b>Question banks</b>\n\nChoose a discipline:")
    )
    await cb.answer()
    await show(cb, text, keyboard)


async def _disc(cb, state, db, viewer, clock, settings, locale, i, p) -> None:
    await state.clear()
    text, keyboard = await _discipline_banks(db, viewer, i, locale)
    await cb.answer()
    await show(cb, text, keyboard)


async def _imp(cb, state, db, viewer, clock, settings, locale, i, p) -> None:
    async with db.read() as session:
        await svc.check_discipline_rights(session, viewer.role, viewer.teacher_id, i)
    await state.set_state(ImportBank.file)
    await state.update_data(discipline_id=i)
    await cb.answer()
    await show(cb, _import_prompt(), markup([_btn(_("✖️ Cancel"), "disc", i)]))


async def on_bank_file(
    message: Message,
    state: FSMContext,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    bot: Bot,
) -> None:
    """A bank file sent while the import screen waits for one."""
    document = message.document
    discipline_id = int((await state.get_data()).get("discipline_id", 0))
    if document is None:
        await message.answer(_("Please send the bank as a file (a document)."))
        return
    filename = document.file_name or "bank.txt"
    if not filename.lower().endswith(ACCEPTED_SUFFIXES):
        await message.answer(
            _("This file type is not supported. Send a .txt, .docx, .gift or .aiken file.")
        )
        return
    try:
        data = await download_bounded(bot, document.file_id, document.file_size, MAX_FILE_BYTES)
        parsed = await parse_bank_bounded(filename, data, ImportDifficulty.medium)
    except DownloadRefused as exc:
        await message.answer(upload_problem_text(exc.reason))
        return
    except BoundedRunError as exc:
        await state.clear()
        await message.answer(upload_problem_text(exc.reason))
        return
    bank_name = " ".join((message.caption or "").split())[:200] or DEFAULT_BANK
    now = clock.now()
    try:
        async with db.write() as session:
            await svc.check_discipline_rights(
                session, viewer.role, viewer.teacher_id, discipline_id
            )
            problems = list(parsed.problems)
            added = 0
            if parsed.questions:
                bank = await svc.get_or_create_bank(
                    session, discipline_id, bank_name, viewer.user_id, now
                )
                outcome = await svc.import_questions(
                    session, bank.id, parsed.questions, Difficulty.medium, now
                )
                added = outcome.added
                problems += outcome.problems
    except DomainError as exc:
        await state.clear()
        await message.answer(error_text(exc))
        return
    await state.clear()
    pages = format_report(filename, parsed.format, added, problems)
    for page in pages[:-1]:
        await message.answer(page)
    document_report = report_document(filename, parsed.format, added, problems)
    if document_report is not None:
        await message.answer_document(document_report)
    await message.answer(
        pages[-1],
        reply_markup=markup(
            [_btn(_("📥 Import another file"), "imp", discipline_id)],
            [_btn(_("« Back to the banks"), "disc", discipline_id)],
        ),
    )


# -------------------------------------------------------------------------- new test dialogue


def _summary(data: dict[str, Any], tz: ZoneInfo, locale: str) -> list[str]:
    lines = []
    if "name" in data:
        lines.append(_("Name: {name}").format(name=esc(data["name"])))
    if "control" in data:
        lines.append(_("Kind of control: {kind}").format(kind=control_name(data["control"])))
    if "minutes" in data:
        lines.append(_("Time limit: {minutes} min").format(minutes=data["minutes"]))
    if "counts" in data:
        e, m, h = data["counts"]
        lines.append(
            _("Questions: easy {easy}, medium {medium}, hard {hard}").format(
                easy=e, medium=m, hard=h
            )
        )
    if "opens" in data:
        lines.append(
            _("Window: {start} – {end}").format(
                start=fmt_datetime(datetime.fromisoformat(data["opens"]), locale, tz, "short"),
                end=fmt_datetime(datetime.fromisoformat(data["closes"]), locale, tz, "short"),
            )
        )
    return lines


async def _new(cb, state, db, viewer, clock, settings, locale, i, p) -> None:
    await state.clear()
    text, keyboard = await _disciplines_screen(
        db, viewer, locale, "nd", p, _("<b>New test</b>\n\nStep 1. Choose the discipline:")
    )
    await cb.answer()
    await show(cb, text, keyboard)


async def _new_pages(cb, state, db, viewer, clock, settings, locale, i, p) -> None:
    await _new(cb, state, db, viewer, clock, settings, locale, i, p)


async def _banks_pages(cb, state, db, viewer, clock, settings, locale, i, p) -> None:
    await _banks(cb, state, db, viewer, clock, settings, locale, i, p)


async def _nd(cb, state, db, viewer, clock, settings, locale, i, p) -> None:
    async with db.read() as session:
        await svc.check_discipline_rights(session, viewer.role, viewer.teacher_id, i)
        banks = await svc.banks_of(session, [i])
        counts = {b.id: await svc.bank_counts(session, b.id) for b in banks}
    await cb.answer()
    if not banks:
        await show(
            cb,
            _("This discipline has no question bank yet: import questions first."),
            markup([_btn(_("📥 Import questions from a file"), "imp", i)], [_back("new")]),
        )
        return
    await state.clear()
    await state.update_data(discipline_id=i)
    rows = [
        [
            _btn(
                short(
                    f"{b.name} ({counts[b.id][Difficulty.easy]}/"
                    f"{counts[b.id][Difficulty.medium]}/{counts[b.id][Difficulty.hard]})",
                    60,
                ),
                "nb",
                b.id,
            )
        ]
        for b in banks
    ]
    rows.append([_back("new")])
    await show(
        cb,
        _("<b>New test</b>\n\nStep 2. Choose the question bank (easy/medium/hard questions):"),
        InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def _dialogue_bank(db: Database, viewer: Viewer, data: dict[str, Any]) -> QuestionBank:
    """The bank the dialogue is about, with the rights re-checked."""
    async with db.read() as session:
        bank = await session.get(QuestionBank, int(data.get("bank_id", 0)))
        if bank is None or bank.discipline_id != int(data.get("discipline_id", 0)):
            raise svc.refusal("not_found")
        await svc.check_discipline_rights(
            session, viewer.role, viewer.teacher_id, bank.discipline_id
        )
    return bank


async def _nb(cb, state, db, viewer, clock, settings, locale, i, p) -> None:
    data = await state.get_data()
    await _dialogue_bank(db, viewer, {**data, "bank_id": i})
    await state.update_data(bank_id=i)
    await state.set_state(NewTest.name)
    await cb.answer()
    await show(
        cb,
        _("<b>New test</b>\n\nStep 3. Send the name of the test (up to 200 characters)."),
        markup([_btn(_("✖️ Cancel"), "home")]),
    )


async def on_name(message: Message, state: FSMContext) -> None:
    """The test's name typed in the dialogue."""
    name = " ".join((message.text or "").split())
    if not name or len(name) > 200:
        await message.answer(_("The name must be 1 to 200 characters. Send the name again:"))
        return
    await state.update_data(name=name)
    await state.set_state(None)
    rows = [[_btn(control_name(c), "nc", 0, n)] for n, c in enumerate(ControlKind)]
    rows.append([_btn(_("✖️ Cancel"), "home")])
    await message.answer(
        _(
            "<b>New test</b>\n\nStep 4. Which kind of control is it? The score goes to that "
            "column of the journal."
        ),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def _nc(cb, state, db, viewer, clock, settings, locale, i, p) -> None:
    data = await state.get_data()
    kinds = list(ControlKind)
    if "name" not in data or not 0 <= p < len(kinds):
        raise svc.refusal("not_found")
    await state.update_data(control=kinds[p].value)
    await state.set_state(NewTest.minutes)
    await cb.answer()
    await show(
        cb,
        _("<b>New test</b>\n\nStep 5. Send the time limit in minutes (1–1440)."),
        markup([_btn(_("✖️ Cancel"), "home")]),
    )


async def on_minutes(message: Message, state: FSMContext, db: Database, viewer: Viewer) -> None:
    """The time limit typed in the dialogue."""
    raw = (message.text or "").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= svc.MAX_TIME_LIMIT_MINUTES:
        await message.answer(_("Send a whole number of minutes from 1 to 1440:"))
        return
    data = await state.get_data()
    try:
        bank = await _dialogue_bank(db, viewer, data)
    except DomainError as exc:
        await state.clear()
        await message.answer(error_text(exc))
        return
    async with db.read() as session:
        counts = await svc.bank_counts(session, bank.id)
    await state.update_data(minutes=int(raw))
    await state.set_state(NewTest.counts)
    await message.answer(
        _(
            "<b>New test</b>\n\nStep 6. How many questions of each level to draw? Send three "
            "numbers: easy, medium, hard (for example <code>5 3 2</code>).\n"
            "In the bank: easy {easy}, medium {medium}, hard {hard}."
        ).format(
            easy=counts[Difficulty.easy],
            medium=counts[Difficulty.medium],
            hard=counts[Difficulty.hard],
        ),
        reply_markup=markup([_btn(_("✖️ Cancel"), "home")]),
    )


async def on_counts(message: Message, state: FSMContext, db: Database, viewer: Viewer) -> None:
    """The numbers of questions per level typed in the dialogue."""
    parts = re.split(r"[\s,;/]+", (message.text or "").strip())
    if len(parts) != 3 or not all(x.isdigit() and len(x) <= 3 for x in parts):
        await message.answer(_("Send three whole numbers: easy, medium, hard (e.g. 5 3 2):"))
        return
    e, m, h = (int(x) for x in parts)
    if not 0 < e + m + h <= svc.MAX_QUESTIONS:
        await message.answer(_("Draw at least one question and at most 200."))
        return
    data = await state.get_data()
    try:
        bank = await _dialogue_bank(db, viewer, data)
    except DomainError as exc:
        await state.clear()
        await message.answer(error_text(exc))
        return
    async with db.read() as session:
        counts = await svc.bank_counts(session, bank.id)
    for difficulty, wanted in zip(
        (Difficulty.easy, Difficulty.medium, Difficulty.hard), (e, m, h), strict=True
    ):
        if wanted > counts[difficulty]:
            await message.answer(
                svc.too_few_text(difficulty.value, counts[difficulty], wanted)
                + "\n"
                + _("Send the three numbers again:")
            )
            return
    await state.update_data(counts=[e, m, h])
    await state.set_state(NewTest.window)
    await message.answer(
        _(
            "<b>New test</b>\n\nStep 7. Send the window in which the test can be started: "
            "<code>DD.MM.YYYY HH:MM - DD.MM.YYYY HH:MM</code> (local time)."
        ),
        reply_markup=markup([_btn(_("✖️ Cancel"), "home")]),
    )


_STAMP = r"(\d{1,2})\.(\d{1,2})\.(\d{4})\s+(\d{1,2}):(\d{2})"
_WINDOW = re.compile(rf"^\s*{_STAMP}\s*[-–—]\s*{_STAMP}\s*$")


def parse_window(text: str, tz: ZoneInfo) -> tuple[datetime, datetime] | None:
    match = _WINDOW.match(text)
    if match is None:
        return None
    g = [int(x) for x in match.groups()]
    try:
        start = datetime(g[2], g[1], g[0], g[3], g[4], tzinfo=tz)
        end = datetime(g[7], g[6], g[5], g[8], g[9], tzinfo=tz)
    except ValueError:
        return None
    return start, end


async def on_window(
    message: Message, state: FSMContext, settings: Settings, clock: Clock, viewer: Viewer
) -> None:
    """The window typed in the dialogue."""
    window = parse_window((message.text or "")[:100], settings.tz)
    if window is None:
        await message.answer(_("Send it as <code>20.05.2026 10:00 - 20.05.2026 18:00</code>:"))
        return
    start, end = window
    if end <= start:
        await message.answer(_("The window must end after it starts. Send it again:"))
        return
    if end <= clock.now():
        await message.answer(_("This window is already over. Send it again:"))
        return
    await state.update_data(opens=start.isoformat(), closes=end.isoformat())
    await state.set_state(None)
    text, keyboard = _options_screen(await state.get_data(), settings.tz, current_locale())
    await message.answer(text, reply_markup=keyboard)


def _options_screen(
    data: dict[str, Any], tz: ZoneInfo, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    attempts = int(data.get("attempts", 1))
    sq = bool(data.get("sq", True))
    so = bool(data.get("so", True))
    held = bool(data.get("held", False))
    appeal = int(data.get("appeal", svc.DEFAULT_APPEAL_HOURS))
    lines = [
        _("<b>New test</b>\n\nStep 8. Settings (tap to change):"),
        "",
        *_summary(data, tz, locale),
    ]
    yes, no = "✅", "❌"
    keyboard = markup(
        [_btn(_("Attempts allowed: {n}").format(n=attempts), "na")],
        [_btn(_("Shuffle questions: {v}").format(v=yes if sq else no), "nq")],
        [_btn(_("Shuffle options: {v}").format(v=yes if so else no), "no")],
        [
            _btn(
                _("Results: after the window closes") if held else _("Results: at once"),
                "nr",
            )
        ],
        [_btn(_("Appeal window: {hours} h").format(hours=appeal), "nw")],
        [_btn(_("Next: assign »"), "ng")],
        [_btn(_("✖️ Cancel"), "home")],
    )
    return "\n".join(lines), keyboard


async def _dialogue_data(state: FSMContext, *keys: str) -> dict[str, Any]:
    data = await state.get_data()
    if any(k not in data for k in keys):
        raise svc.refusal("not_found")
    return data


_READY = ("discipline_id", "bank_id", "name", "control", "minutes", "counts", "opens")


async def _toggle(cb, state, db, viewer, clock, settings, locale, i, p, key: str) -> None:
    data = await _dialogue_data(state, *_READY)
    if key == "attempts":
        data["attempts"] = int(data.get("attempts", 1)) % 3 + 1
    elif key == "appeal":
        current = int(data.get("appeal", svc.DEFAULT_APPEAL_HOURS))
        index = APPEAL_CHOICES.index(current) if current in APPEAL_CHOICES else 0
        data["appeal"] = APPEAL_CHOICES[(index + 1) % len(APPEAL_CHOICES)]
    else:
        default = key != "held"
        data[key] = not bool(data.get(key, default))
    await state.set_data(data)
    await cb.answer()
    text, keyboard = _options_screen(data, settings.tz, locale)
    await show(cb, text, keyboard)


async def _na(*args: Any) -> None:
    await _toggle(*args, key="attempts")


async def _nq(*args: Any) -> None:
    await _toggle(*args, key="sq")


async def _no(*args: Any) -> None:
    await _toggle(*args, key="so")


async def _nr(*args: Any) -> None:
    await _toggle(*args, key="held")


async def _nw(*args: Any) -> None:
    await _toggle(*args, key="appeal")


async def _assign_screen(
    db: Database, data: dict[str, Any], page: int
) -> tuple[str, InlineKeyboardMarkup]:
    chosen = set(data.get("groups", []))
    async with db.read() as session:
        groups = list(await session.scalars(select(Group).order_by(Group.code)))
        numbers = list(
            await session.scalars(
                select(Student.student_no).where(Student.id.in_(data.get("students", [])))
            )
        )
    buttons = [
        InlineKeyboardButton(
            text=("☑️ " if g.id in chosen else "☐ ") + g.code,
            callback_data=StaffCb(a="gt", i=g.id, p=page).pack(),
        )
        for g in groups
    ]
    rows, page = _paged(buttons, "ng", 0, page)
    lines = [
        _("<b>New test</b>\n\nStep 9. Assign it to groups (tap to tick) and/or single students."),
        _("Groups: {list}").format(
            list=esc(", ".join(g.code for g in groups if g.id in chosen)) or "—"
        ),
        _("Students: {list}").format(list=esc(", ".join(sorted(numbers))) or "—"),
    ]
    rows.append([_btn(_("➕ Students by record-book number"), "ns")])
    rows.append([_btn(_("✅ Create the test"), "nx")])
    rows.append([_btn(_("« Back"), "nopt"), _btn(_("✖️ Cancel"), "home")])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def _ng(cb, state, db, viewer, clock, settings, locale, i, p) -> None:
    data = await _dialogue_data(state, *_READY)
    await state.set_state(None)
    await cb.answer()
    text, keyboard = await _assign_screen(db, data, p)
    await show(cb, text, keyboard)


async def _nopt(cb, state, db, viewer, clock, settings, locale, i, p) -> None:
    data = await _dialogue_data(state, *_READY)
    await cb.answer()
    text, keyboard = _options_screen(data, settings.tz, locale)
    await show(cb, text, keyboard)


async def _gt(cb, state, db, viewer, clock, settings, locale, i, p) -> None:
    data = await _dialogue_data(state, *_READY)
    async with db.read() as session:
        if await session.get(Group, i) is None:
            raise svc.refusal("not_found")
    groups = set(data.get("groups", []))
    groups ^= {i}
    data["groups"] = sorted(groups)
    await state.set_data(data)
    await cb.answer()
    text, keyboard = await _assign_screen(db, data, p)
    await show(cb, text, keyboard)


async def _ns(cb, state, db, viewer, clock, settings, locale, i, p) -> None:
    await _dialogue_data(state, *_READY)
    await state.set_state(NewTest.students)
    await cb.answer()
    await show(
        cb,
        _("Send the record-book numbers of the students, separated by spaces or commas."),
        markup([_btn(_("« Back"), "ng")]),
    )


async def on_students(message: Message, state: FSMContext, db: Database) -> None:
    """Record-book numbers typed in the assignment step."""
    numbers = [n for n in re.split(r"[\s,;]+", (message.text or "")[:4000]) if n]
    if not numbers or len(numbers) > MAX_STUDENT_NUMBERS:
        await message.answer(_("Send from 1 to 200 record-book numbers:"))
        return
    async with db.read() as session:
        found = dict(
            (
                await session.execute(
                    select(Student.student_no, Student.id).where(Student.student_no.in_(numbers))
                )
            ).all()
        )
    unknown = [n for n in numbers if n not in found]
    data = await state.get_data()
    data["students"] = sorted(set(data.get("students", [])) | set(found.values()))
    await state.set_data(data)
    await state.set_state(None)
    if unknown:
        await message.answer(_("Not found: {list}").format(list=esc(", ".join(unknown[:50]))))
    text, keyboard = await _assign_screen(db, data, 0)
    await message.answer(text, reply_markup=keyboard)


async def _nx(cb, state, db, viewer, clock, settings, locale, i, p) -> None:
    data = await _dialogue_data(state, *_READY)
    now = clock.now()
    e, m, h = data["counts"]
    spec = svc.TestSpec(
        name=data["name"],
        discipline_id=int(data["discipline_id"]),
        bank_id=int(data["bank_id"]),
        control=ControlKind(data["control"]),
        time_limit_minutes=int(data["minutes"]),
        easy_count=int(e),
        medium_count=int(m),
        hard_count=int(h),
        opens_at=datetime.fromisoformat(data["opens"]),
        closes_at=datetime.fromisoformat(data["closes"]),
        attempts_allowed=int(data.get("attempts", 1)),
        shuffle_questions=bool(data.get("sq", True)),
        shuffle_options=bool(data.get("so", True)),
        results_after_close=bool(data.get("held", False)),
        appeal_window_hours=int(data.get("appeal", svc.DEFAULT_APPEAL_HOURS)),
    )
    async with db.write() as session:
        await svc.check_discipline_rights(
            session, viewer.role, viewer.teacher_id, spec.discipline_id
        )
        test = await svc.create_test(
            session,
            spec,
            group_ids=data.get("groups", []),
            student_ids=data.get("students", []),
            created_by_user_id=viewer.user_id,
            now=now,
            tz=settings.tz,
        )
        await session.refresh(test, ["discipline"])
        users = await svc.assigned_user_ids(session, test.id)
        await notify_many(
            session,
            user_ids=users,
            kind=NoticeKind.tests,
            template="testing.assigned",
            params=assigned_params(test, settings),
            now=now,
            ref_type="online_test",
            ref_id=test.id,
            dedupe_prefix=f"testing:assigned:{test.id}",
        )
        test_id, test_name = test.id, test.name
    await state.clear()
    await cb.answer(_("The test is created."))
    await show(
        cb,
        _("✅ The test «{name}» is created and assigned: students notified: {n}.").format(
            name=esc(test_name), n=len(users)
        ),
        markup([_btn(_("📋 Open the test"), "test", test_id)], [_back()]),
    )


def assigned_params(test: OnlineTest, settings: Settings) -> dict[str, Any]:
    return {
        "test_id": test.id,
        "name": test.name,
        "discipline_kk": test.discipline.name_kk,
        "discipline_ru": test.discipline.name_ru,
        "discipline_en": test.discipline.name_en,
        "opens_at": test.opens_at.isoformat(),
        "closes_at": test.closes_at.isoformat(),
        "minutes": test.time_limit_minutes,
        "tz": settings.timezone,
    }


# ------------------------------------------------------------------------------- results


async def _tests(cb, state, db, viewer, clock, settings, locale, i, p) -> None:
    await state.clear()
    async with db.read() as session:
        ids = await svc.manageable_discipline_ids(session, viewer.role, viewer.teacher_id)
        tests = await svc.tests_overview(session, ids, limit=200)
    await cb.answer()
    if not tests:
        await show(cb, _("<b>Tests and results</b>\n\nNo tests yet."), markup([_back()]))
        return
    buttons = [
        InlineKeyboardButton(
            text=short(f"{t.discipline.code} · {t.name}", 60),
            callback_data=StaffCb(a="test", i=t.id).pack(),
        )
        for t in tests
    ]
    rows, _page = _paged(buttons, "tests", 0, p)
    rows.append([_back()])
    await show(
        cb,
        _("<b>Tests and results</b>\n\nChoose a test:"),
        InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def _owned_test(db: Database, viewer: Viewer, test_id: int) -> OnlineTest:
    async with db.read() as session:
        test = await session.get(OnlineTest, test_id)
        if test is None:
            raise svc.refusal("not_found")
        await svc.check_discipline_rights(
            session, viewer.role, viewer.teacher_id, test.discipline_id
        )
        await session.refresh(test, ["discipline"])
    return test


async def _test(cb, state, db, viewer, clock, settings, locale, i, p) -> None:
    test = await _owned_test(db, viewer, i)
    async with db.read() as session:
        rows = await svc.results_of_test(session, i)
    tz = settings.tz
    finished = [a for _s, _u, a in rows if a is not None and a.status == AttemptStatus.finished]
    started = [a for _s, _u, a in rows if a is not None]
    scores = [a.score for a in finished if a.score is not None]
    average = sum(scores) / len(scores) if scores else None
    yes, no = "✅", "❌"
    lines = [
        f"📋 <b>{esc(test.name)}</b>",
        _("Discipline: {name}").format(name=esc(test.discipline.name(locale))),
        _("Kind of control: {kind}").format(kind=control_name(test.control)),
        _("Window: {start} – {end}").format(
            start=fmt_datetime(test.opens_at, locale, tz, "short"),
            end=fmt_datetime(test.closes_at, locale, tz, "short"),
        ),
        _("Time limit: {minutes} min").format(minutes=test.time_limit_minutes),
        _("Questions: easy {easy}, medium {medium}, hard {hard}").format(
            easy=test.easy_count, medium=test.medium_count, hard=test.hard_count
        ),
        _("Attempts allowed: {n}").format(n=test.attempts_allowed),
        _("Shuffle questions: {v}").format(v=yes if test.shuffle_questions else no),
        _("Shuffle options: {v}").format(v=yes if test.shuffle_options else no),
        _("Results: after the window closes")
        if test.results_after_close
        else _("Results: at once"),
        _("Appeal window: {hours} h").format(hours=test.appeal_window_hours),
        "",
        _("Assigned: {n} · started: {s} · finished: {f}").format(
            n=len(rows), s=len(started), f=len(finished)
        ),
        _("Average score: {value}").format(
            value=fmt_number(average, locale) if average is not None else "—"
        ),
    ]
    await cb.answer()
    await show(
        cb,
        "\n".join(lines),
        markup(
            [_btn(_("👥 Results by student"), "tres", i)],
            [test_results_button(i)],
            [_back("tests")],
        ),
    )


async def _tres(cb, state, db, viewer, clock, settings, locale, i, p) -> None:
    test = await _owned_test(db, viewer, i)
    async with db.read() as session:
        rows = await svc.results_of_test(session, i)
    per_page = 30
    pages = max((len(rows) + per_page - 1) // per_page, 1)
    page = min(max(p, 0), pages - 1)
    lines = [f"👥 <b>{esc(test.name)}</b>", ""]
    for student, user, attempt in rows[page * per_page : (page + 1) * per_page]:
        if attempt is None:
            status = _("not started yet")
        elif attempt.status == AttemptStatus.open:
            status = _("attempt in progress")
        else:
            status = _("score {score} ({correct} of {total}), attempt {n}").format(
                score=fmt_number(attempt.score, locale),
                correct=attempt.correct,
                total=attempt.total,
                n=attempt.number,
            )
        lines.append(f"{esc(student.student_no)} {esc(user.full_name)}: {status}")
    if not rows:
        lines.append(_("Nobody is assigned."))
    nav: list[InlineKeyboardButton] = []
    if pages > 1:
        if page > 0:
            nav.append(_btn("‹", "tres", i, page - 1))
        nav.append(_btn(f"{page + 1}/{pages}", "tres", i, page))
        if page < pages - 1:
            nav.append(_btn("›", "tres", i, page + 1))
    await cb.answer()
    await show(cb, "\n".join(lines)[:3900], markup(nav, [_back("test", i)]))


# --------------------------------------------------------------------------------- rules


async def _rules(cb, state, db, viewer, clock, settings, locale, i, p) -> None:
    await state.clear()
    async with db.read() as session:
        custom = {code: await svc.rules_text(session, code) for code in SUPPORTED_LOCALES}
    lines = [_("<b>Rules of testing</b>"), ""]
    for code in SUPPORTED_LOCALES:
        state_text = _("own text") if custom[code] else _("built-in text")
        lines.append(f"{LANGUAGE_NAMES[code]}: {state_text}")
    lines += ["", _("Built-in text in your language:"), default_rules()]
    rows = [
        [_btn(_("✏️ Edit: {language}").format(language=LANGUAGE_NAMES[code]), "re", 0, n)]
        for n, code in enumerate(SUPPORTED_LOCALES)
    ]
    rows.append([_back()])
    await cb.answer()
    await show(cb, "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows))


async def _re(cb, state, db, viewer, clock, settings, locale, i, p) -> None:
    if viewer.role not in (Role.staff, Role.admin):
        raise svc.refusal("not_found")
    if not 0 <= p < len(SUPPORTED_LOCALES):
        raise svc.refusal("not_found")
    await state.set_state(EditRules.text)
    await state.update_data(rules_locale=SUPPORTED_LOCALES[p])
    await cb.answer()
    await show(
        cb,
        _(
            'Send the rules text in {language} (up to {n} characters), or "-" to use the '
            "built-in text."
        ).format(language=LANGUAGE_NAMES[SUPPORTED_LOCALES[p]], n=MAX_RULES_LENGTH),
        markup([_btn(_("✖️ Cancel"), "rules")]),
    )


async def on_rules_text(
    message: Message, state: FSMContext, db: Database, viewer: Viewer, clock: Clock
) -> None:
    """The new rules text typed by staff."""
    code = (await state.get_data()).get("rules_locale")
    text = (message.text or "").strip()
    if code not in SUPPORTED_LOCALES or viewer.role not in (Role.staff, Role.admin):
        await state.clear()
        await message.answer(_("This action is not available."))
        return
    if not text or len(text) > MAX_RULES_LENGTH:
        await message.answer(
            _("The text must be 1 to {n} characters. Send it again:").format(n=MAX_RULES_LENGTH)
        )
        return
    async with db.write() as session:
        if text == "-":
            await svc.clear_rules_text(session, code)
        else:
            await svc.set_rules_text(session, code, text, viewer.user_id, clock.now())
    await state.clear()
    await message.answer(
        _("The rules are saved."), reply_markup=markup([_btn(_("« Back"), "rules")])
    )


# The staff testing buttons by their StaffCb.a; each becomes a handler of its own (_button).
_ACTIONS: dict[str, Callable[..., Awaitable[None]]] = {
    "home": _home,
    "banks": _banks,
    "discs": _banks_pages,
    "disc": _disc,
    "imp": _imp,
    "new": _new,
    "nds": _new_pages,
    "nd": _nd,
    "nb": _nb,
    "nc": _nc,
    "na": _na,
    "nq": _nq,
    "no": _no,
    "nr": _nr,
    "nw": _nw,
    "ng": _ng,
    "nopt": _nopt,
    "gt": _gt,
    "ns": _ns,
    "nx": _nx,
    "tests": _tests,
    "test": _test,
    "tres": _tres,
    "rules": _rules,
    "re": _re,
}


def get_router() -> Router:
    router = Router(name="testing_staff")
    router.message.filter(SignedIn(*STAFF_ROLES))
    router.callback_query.filter(SignedIn(*STAFF_ROLES))
    router.callback_query.register(on_open, NavCb.filter(F.to == "testing_staff"))
    router.message.register(cmd_tests, Command("tests"))
    for code, action in _ACTIONS.items():
        router.callback_query.register(_button(code, action), StaffCb.filter(F.a == code))
    # Last: a button of an action that no longer exists.
    router.callback_query.register(on_stale_button, StaffCb.filter())
    router.message.register(on_bank_file, StateFilter(ImportBank.file))
    not_command = ~F.text.startswith("/")
    router.message.register(on_name, StateFilter(NewTest.name), F.text, not_command)
    router.message.register(on_minutes, StateFilter(NewTest.minutes), F.text, not_command)
    router.message.register(on_counts, StateFilter(NewTest.counts), F.text, not_command)
    router.message.register(on_window, StateFilter(NewTest.window), F.text, not_command)
    router.message.register(on_students, StateFilter(NewTest.students), F.text, not_command)
    router.message.register(on_rules_text, StateFilter(EditRules.text), F.text, not_command)
    return router


MODULE = Module(
    name="testing_staff",
    router=get_router,
    menu=(
        MenuItem(
            to="testing_staff", label=lambda: _("🧪 Tests (staff)"), roles=STAFF_ROLES, order=45
        ),
    ),
)
