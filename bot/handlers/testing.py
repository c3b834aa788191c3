"""Testing (§4.6-6), the student's side: assigned tests, rules, a timed attempt, the result.

The attempt lives in the database, not in the chat: every screen is drawn from the attempt's
rows with the time really left, so a student whose phone died (or a bot that restarted)
continues where they were. Test screens are sent with content protection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.filters import SignedIn
from bot.i18n import fmt_datetime
from bot.keyboards.appeals import offer_keyboard as appeal_offer_keyboard
from bot.keyboards.appeals import offer_text as appeal_offer_text
from bot.keyboards.common import NavCb, back_button, home_button
from bot.keyboards.testing import (
    AnswerCb,
    ConfirmCb,
    QuizCb,
    back_to_test_keyboard,
    finish_keyboard,
    grid_keyboard,
    letter,
    question_keyboard,
    result_keyboard,
    start_keyboard,
    to_list_button,
)
from bot.modules import HomeContext, MenuItem, Module
from bot.services import appeals as appeals_svc
from bot.services import testing as svc
from bot.services.auth import Viewer
from bot.services.errors import DomainError
from bot.services.testing import AssignedTest, QuestionScreen
from bot.ui import SAFE_TEXT_LIMIT, esc, show
from bot.views.common import current_locale, num
from db.models import Role
from db.models.testing import Attempt, ControlKind, FinishReason, QuestionKind
from db.session import Database

STUDENT = frozenset({Role.student})


# ------------------------------------------------------------------------------ settings


# ------------------------------------------------------------------------------- wording


def control_name(control: ControlKind | str) -> str:
    return {
        ControlKind.current: _("Current control"),
        ControlKind.midterm1: _("Midterm control 1"),
        ControlKind.midterm2: _("Midterm control 2"),
        ControlKind.exam: _("Exam"),
    }[ControlKind(control)]


def error_text(exc: DomainError) -> str:
    """A refusal as the reader sees it."""
    return exc.user_message() or _("This action is not available.")


def _when(value: datetime, tz: ZoneInfo) -> str:
    return fmt_datetime(value, current_locale(), tz, "short")


def _clock_text(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%H:%M:%S")


def _left(deadline: datetime, now: datetime) -> str:
    seconds = max(int((deadline - now).total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


# ------------------------------------------------------------------------------ screens


def _test_lines(item: AssignedTest, now: datetime, tz: ZoneInfo) -> list[str]:
    test = item.test
    state = item.state(now)
    status = {
        "in_progress": lambda: _("⏳ In progress: {left} left").format(
            left=_left(item.open_deadline or now, now)
        ),
        "upcoming": lambda: _("🕓 Opens {time}").format(time=_when(test.opens_at, tz)),
        "open": lambda: _("🟢 Open now"),
        "used_up": lambda: _("✅ No attempts left"),
        "closed": lambda: _("⛔️ Closed"),
    }[state]()
    return [
        f"📝 <b>{esc(test.name)}</b>",
        _("Discipline: {name}").format(name=esc(test.discipline.name(current_locale()))),
        _("Kind of control: {kind}").format(kind=control_name(test.control)),
        _("Window: {start} – {end}").format(
            start=_when(test.opens_at, tz), end=_when(test.closes_at, tz)
        ),
        _("Time limit: {minutes} min").format(minutes=test.time_limit_minutes),
        _("Attempts left: {left} of {total}").format(
            left=item.attempts_left, total=test.attempts_allowed
        ),
        status,
    ]


async def render_list(
    db: Database, viewer: Viewer, now: datetime, tz: ZoneInfo
) -> tuple[str, InlineKeyboardMarkup]:
    assert viewer.student_id is not None
    async with db.read() as session:
        items = await svc.assigned_tests(session, viewer.student_id, now)
    if not items:
        text = _("<b>Testing</b>\n\nNo tests are assigned to you.")
        return text, InlineKeyboardMarkup(inline_keyboard=[[back_button()]])
    blocks = [_("<b>Testing</b>")]
    rows: list[list[InlineKeyboardButton]] = []
    for item in items[:20]:
        blocks.append("\n".join(_test_lines(item, now, tz)))
        label = item.test.name if len(item.test.name) <= 40 else item.test.name[:39] + "…"
        rows.append(
            [
                InlineKeyboardButton(
                    text=("⏳ " if item.open_attempt_id else "📝 ") + label,
                    callback_data=QuizCb(a="view", i=item.test.id).pack(),
                )
            ]
        )
    rows.append([back_button()])
    text = "\n\n".join(blocks)
    if len(text) > SAFE_TEXT_LIMIT:
        text = text[:SAFE_TEXT_LIMIT].rsplit("\n\n", 1)[0]
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def _view_keyboard(item: AssignedTest, now: datetime, has_result: int | None) -> Any:
    test_id = item.test.id
    rows: list[list[InlineKeyboardButton]] = [
        [
            InlineKeyboardButton(
                text=_("📜 Rules of testing"), callback_data=QuizCb(a="rules", i=test_id).pack()
            )
        ]
    ]
    state = item.state(now)
    if state == "in_progress":
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("▶️ Continue the test"),
                    callback_data=QuizCb(a="cont", i=test_id).pack(),
                )
            ]
        )
    elif state == "open":
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("▶️ Take the test"), callback_data=QuizCb(a="start", i=test_id).pack()
                )
            ]
        )
    if has_result is not None:
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("📊 My result"), callback_data=QuizCb(a="res", i=has_result).pack()
                )
            ]
        )
    rows.append([to_list_button()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def show_test(
    event: CallbackQuery, db: Database, viewer: Viewer, test_id: int, now: datetime, tz: ZoneInfo
) -> None:
    assert viewer.student_id is not None
    async with db.read() as session:
        item = await svc.assigned_test(session, viewer.student_id, test_id, now)
        finished = await svc.latest_finished_attempt(session, viewer.student_id, test_id)
    text = "\n".join(_test_lines(item, now, tz))
    await show(event, text, _view_keyboard(item, now, finished.id if finished else None))


def default_rules() -> str:
    lines = [
        _("Before you start, make sure your connection is stable and you have enough time."),
        _(
            "The timer starts when you confirm the start and runs on the server even if you "
            "close the chat; when the time is up, the attempt is closed and scored "
            "automatically."
        ),
        _(
            "Answer each question with the buttons under it. A question with several correct "
            'answers needs every correct option ticked and then "Confirm answer".'
        ),
        _('You can change answers, go back and forth and open "All questions" until you finish.'),
        _(
            "Work on your own: do not use other people's help, other devices or materials "
            "unless the teacher allowed them. Test messages cannot be forwarded or saved."
        ),
        _('Press "Finish" when you are done; an unanswered question counts as wrong.'),
    ]
    return "\n".join(f"{n}. {line}" for n, line in enumerate(lines, start=1))


async def rules_body(db: Database) -> str:
    async with db.read() as session:
        custom = await svc.rules_text(session, current_locale())
    return esc(custom) if custom else default_rules()


def question_text(screen: QuestionScreen, now: datetime) -> str:
    head = [
        _("Discipline: {name}").format(name=esc(screen.discipline.name(current_locale()))),
        _("Kind of control: {kind}").format(kind=control_name(screen.control)),
        _("Testing time: {minutes} min").format(minutes=screen.time_limit_minutes),
        _("⏳ Time left: <b>{left}</b>").format(left=_left(screen.deadline, now)),
        _("Answered {k} of {n}").format(k=screen.answered, n=screen.total),
        "",
        _("<b>Question {n} of {total}</b>").format(n=screen.position, total=screen.total),
    ]
    if screen.kind == QuestionKind.multiple:
        head.append(_("<i>Several answers are correct: tick them all, then confirm.</i>"))
    body = screen.text
    options = [text for _, text in screen.options]
    fixed = len("\n".join(head)) + 200
    budget = SAFE_TEXT_LIMIT - fixed
    if len(body) + sum(len(o) + 6 for o in options) > budget:
        # Rare, very long items: cut the option texts first, then the question.
        per_option = max((budget - min(len(body), budget // 2)) // max(len(options), 1) - 6, 40)
        options = [o if len(o) <= per_option else o[: per_option - 1] + "…" for o in options]
        room = budget - sum(len(o) + 6 for o in options)
        body = body if len(body) <= room else body[: max(room - 1, 100)] + "…"
    lines = [*head, esc(body), ""]
    lines.extend(f"<b>{letter(i)})</b> {esc(o)}" for i, o in enumerate(options))
    if screen.kind == QuestionKind.multiple and screen.draft is not None:
        if set(screen.draft) != set(screen.chosen):
            lines.append("")
            lines.append(_("⚠️ Ticked, not yet confirmed."))
    return "\n".join(lines)


def _unconfirmed(screen: QuestionScreen) -> bool:
    if not screen.chosen:
        return True
    return screen.draft is not None and set(screen.draft) != set(screen.chosen)


def question_markup(screen: QuestionScreen) -> InlineKeyboardMarkup:
    multiple = screen.kind == QuestionKind.multiple
    marked = screen.draft if (multiple and screen.draft is not None) else screen.chosen
    return question_keyboard(
        attempt_id=screen.attempt_id,
        aq_id=screen.attempt_question_id,
        position=screen.position,
        total=screen.total,
        multiple=multiple,
        options=screen.options,
        marked=marked,
        confirm=multiple and _unconfirmed(screen),
    )


def result_text(
    view: svc.ResultView, viewer: Viewer, tz: ZoneInfo, note: str | None = None
) -> str:
    attempt, test = view.attempt, view.test
    lines = []
    if note:
        lines += [note, ""]
    lines += [
        _("<b>Testing finished</b>"),
        esc(viewer.full_name),
        _("Discipline: {name}").format(name=esc(view.discipline.name(current_locale()))),
        _("Kind of control: {kind}").format(kind=control_name(test.control)),
        _("Attempt: {n}").format(n=attempt.number),
        _("Start of testing: {time}").format(time=_clock_text(attempt.started_at, tz)),
        _("End of testing: {time}").format(
            time=_clock_text(attempt.finished_at or attempt.deadline, tz)
        ),
    ]
    if attempt.finish_reason == FinishReason.timeout:
        lines.append(_("The time was up: the attempt was closed automatically."))
    elif attempt.finish_reason == FinishReason.late:
        lines.append(_("An answer arrived after the deadline: the attempt was closed."))
    if not view.visible:
        lines += [
            "",
            _(
                "Your answers are recorded. The results will be shown after the test window "
                "closes ({time}); you will get a message."
            ).format(time=_when(test.closes_at, tz)),
        ]
        return "\n".join(lines)
    final = view.final
    if final is not None:
        lines += [
            "",
            _("<b>Final grades</b>"),
            _("Current average: {value}").format(value=num(final.current)),
            _("Midterm control 1: {value}").format(value=num(final.midterm1)),
            _("Midterm control 2: {value}").format(value=num(final.midterm2)),
            _("Admission rating: {value}").format(value=num(final.admission)),
            _("Exam: {value}").format(value=num(final.exam)),
            _("Final grade: {value}").format(
                value=num(final.final) + (f" ({esc(final.letter)})" if final.letter else "")
            ),
        ]
    lines += [
        "",
        _("<b>Test results</b>"),
        _("Questions: easy {easy}, medium {medium}, hard {hard}").format(
            easy=attempt.easy_total, medium=attempt.medium_total, hard=attempt.hard_total
        ),
        _("Correct: easy {easy}, medium {medium}, hard {hard}").format(
            easy=attempt.easy_correct, medium=attempt.medium_correct, hard=attempt.hard_correct
        ),
        _("<b>Test score: {score}</b>").format(score=num(attempt.score)),
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ handlers


async def on_open(
    callback: CallbackQuery, db: Database, viewer: Viewer, clock: Clock, settings: Settings
) -> None:
    """The "Testing" menu item and the "« Tests" button."""
    await callback.answer()
    text, keyboard = await render_list(db, viewer, clock.now(), settings.tz)
    await show(callback, text, keyboard)


async def cmd_tests(
    message: Message, db: Database, viewer: Viewer, clock: Clock, settings: Settings
) -> None:
    """/tests: the list of assigned tests."""
    text, keyboard = await render_list(db, viewer, clock.now(), settings.tz)
    await message.answer(text, reply_markup=keyboard)


async def _draw_question(
    event: CallbackQuery,
    db: Database,
    viewer: Viewer,
    attempt_id: int,
    position: int,
    now: datetime,
    settings: Settings,
    *,
    new_message: bool = False,
) -> None:
    assert viewer.student_id is not None
    async with db.read() as session:
        attempt = await session.get(Attempt, attempt_id)
        if (
            attempt is not None
            and attempt.student_id == viewer.student_id
            and svc.is_late(attempt, now, svc.grace_period(settings))
        ):
            late = True
        else:
            late = False
            screen = await svc.question_screen(session, viewer.student_id, attempt_id, position)
    if late:
        await _close_late_and_show(event, db, viewer, attempt_id, now, settings)
        return
    text, markup = question_text(screen, now), question_markup(screen)
    if new_message and event.from_user is not None and event.bot is not None:
        await event.bot.send_message(
            event.from_user.id, text, reply_markup=markup, protect_content=True
        )
        return
    await show(event, text, markup, protect=True)


async def _close_late_and_show(
    event: CallbackQuery,
    db: Database,
    viewer: Viewer,
    attempt_id: int,
    now: datetime,
    settings: Settings,
) -> None:
    assert viewer.student_id is not None
    async with db.write() as session:
        attempt = await session.get(Attempt, attempt_id)
        if attempt is not None and attempt.student_id == viewer.student_id:
            await svc.finish_attempt(session, attempt, now, FinishReason.timeout)
    await _show_result(event, db, viewer, attempt_id, settings, _("⏰ The time is up."), now)


async def _show_result(
    event: CallbackQuery,
    db: Database,
    viewer: Viewer,
    attempt_id: int,
    settings: Settings,
    note: str | None = None,
    now: datetime | None = None,
) -> None:
    assert viewer.student_id is not None
    async with db.read() as session:
        view = await svc.result_view(session, viewer.student_id, attempt_id)
    text, keyboard = result_text(view, viewer, settings.tz, note), result_keyboard()
    # §7: a result the student may still contest asks "Do you want to file an appeal?"
    if now is not None and view.visible and appeals_svc.can_offer(view.test, view.attempt, now):
        text += "\n\n" + appeal_offer_text()
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=appeal_offer_keyboard(attempt_id) + keyboard.inline_keyboard
        )
    await show(event, text, keyboard, protect=True)


@asynccontextmanager
async def _refusal_as_alert(callback: CallbackQuery) -> AsyncIterator[None]:
    """A refused testing button: an alert, except for a thing that is gone (a toast)."""
    try:
        yield
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=exc.code not in ("not_found",))


async def on_view_test(
    callback: CallbackQuery,
    callback_data: QuizCb,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    settings: Settings,
) -> None:
    """One assigned test: its window, time limit and attempts."""
    async with _refusal_as_alert(callback):
        await show_test(callback, db, viewer, callback_data.i, clock.now(), settings.tz)
        await callback.answer()


async def on_rules(
    callback: CallbackQuery, callback_data: QuizCb, db: Database, viewer: Viewer, clock: Clock
) -> None:
    """The rules of verification and testing, from a test's screen."""
    assert viewer.student_id is not None
    async with _refusal_as_alert(callback):
        async with db.read() as session:
            await svc.assigned_test(session, viewer.student_id, callback_data.i, clock.now())
        await callback.answer()
        text = _("<b>Rules of verification and testing</b>") + "\n\n" + await rules_body(db)
        await show(callback, text, back_to_test_keyboard(callback_data.i))


async def on_start_ask(
    callback: CallbackQuery, callback_data: QuizCb, db: Database, viewer: Viewer, clock: Clock
) -> None:
    """«Start»: what the test is, confirmed before the timer starts."""
    assert viewer.student_id is not None
    async with _refusal_as_alert(callback):
        async with db.read() as session:
            item = await svc.assigned_test(
                session, viewer.student_id, callback_data.i, clock.now()
            )
        await callback.answer()
        test = item.test
        text = _(
            "<b>Start the test «{name}»?</b>\n\n"
            "Questions: {count}. Time limit: {minutes} min.\n"
            "The timer starts now and runs even if you leave the chat. "
            "Attempts left after this one: {left}."
        ).format(
            name=esc(test.name),
            count=test.question_count,
            minutes=test.time_limit_minutes,
            left=max(item.attempts_left - 1, 0),
        )
        await show(callback, text, start_keyboard(callback_data.i))


async def on_start(
    callback: CallbackQuery,
    callback_data: QuizCb,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    settings: Settings,
) -> None:
    """«OK, start» (go) or «Continue» (cont): the attempt starts or resumes, the first
    unanswered question comes in a new message."""
    assert viewer.student_id is not None
    now, ident = clock.now(), callback_data.i
    async with _refusal_as_alert(callback):
        async with db.write() as session:
            if callback_data.a == "cont":
                item = await svc.assigned_test(session, viewer.student_id, ident, now)
                if item.open_attempt_id is None:
                    raise svc.refusal("attempt_finished")
            attempt, created = await svc.start_attempt(session, viewer.student_id, ident, now)
            attempt_id = attempt.id
            first = 1
            if not created:
                first = await svc.first_unanswered(session, attempt_id)
        await callback.answer(_("The test has started.") if created else _("Welcome back."))
        if callback.message is not None and isinstance(callback.message, Message):
            await show(
                callback,
                _("▶️ The test is in progress: see the next message."),
                InlineKeyboardMarkup(inline_keyboard=[[home_button()]]),
            )
        await _draw_question(
            callback, db, viewer, attempt_id, first, now, settings, new_message=True
        )


async def on_question(
    callback: CallbackQuery,
    callback_data: QuizCb,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    settings: Settings,
) -> None:
    """A question of the attempt, by its position."""
    async with _refusal_as_alert(callback):
        await _draw_question(
            callback, db, viewer, callback_data.i, callback_data.p, clock.now(), settings
        )
        await callback.answer()


async def on_grid(
    callback: CallbackQuery, callback_data: QuizCb, db: Database, viewer: Viewer, clock: Clock
) -> None:
    """The grid of all questions, answered ones marked."""
    assert viewer.student_id is not None
    ident = callback_data.i
    async with _refusal_as_alert(callback):
        async with db.read() as session:
            screen = await svc.question_screen(session, viewer.student_id, ident, 1)
        await callback.answer()
        text = _("<b>All questions</b>\nAnswered {k} of {n}. ⏳ Time left: {left}").format(
            k=screen.answered, n=screen.total, left=_left(screen.deadline, clock.now())
        )
        await show(
            callback,
            text,
            grid_keyboard(ident, screen.total, screen.answered_positions, callback_data.p),
            protect=True,
        )


async def on_finish_ask(
    callback: CallbackQuery, callback_data: QuizCb, db: Database, viewer: Viewer
) -> None:
    """«Finish»: the unanswered questions listed, confirmed first."""
    assert viewer.student_id is not None
    ident = callback_data.i
    async with _refusal_as_alert(callback):
        async with db.read() as session:
            missing = await svc.unanswered_positions(session, viewer.student_id, ident)
        await callback.answer()
        if missing:
            listed = ", ".join(str(p) for p in missing[:100])
            if len(missing) > 100:
                listed += ", …"
            text = _(
                "<b>Finish the test?</b>\n\nUnanswered questions ({count}): {list}.\n"
                "An unanswered question counts as wrong."
            ).format(count=len(missing), list=listed)
        else:
            text = _("<b>Finish the test?</b>\n\nYou have answered every question.")
        await show(
            callback,
            text,
            finish_keyboard(ident, missing[0] if missing else None),
            protect=True,
        )


async def on_finish(
    callback: CallbackQuery,
    callback_data: QuizCb,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    settings: Settings,
) -> None:
    """The finish confirmed: the attempt is scored, the result shown."""
    assert viewer.student_id is not None
    now, ident = clock.now(), callback_data.i
    async with _refusal_as_alert(callback):
        async with db.write() as session:
            _attempt, now_finished = await svc.finish_by_student(
                session, viewer.student_id, ident, now, svc.grace_period(settings)
            )
        await callback.answer(
            _("The test is finished.") if now_finished else _("Already finished.")
        )
        await _show_result(callback, db, viewer, ident, settings, now=now)


async def on_result(
    callback: CallbackQuery,
    callback_data: QuizCb,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    settings: Settings,
) -> None:
    """The result of an attempt (when the test releases it)."""
    async with _refusal_as_alert(callback):
        await _show_result(callback, db, viewer, callback_data.i, settings, now=clock.now())
        await callback.answer()


async def on_stale_button(callback: CallbackQuery) -> None:
    """A testing button of an action this version no longer has."""
    await callback.answer(_("This button is no longer available."))


async def on_answer(
    callback: CallbackQuery,
    callback_data: AnswerCb,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    settings: Settings,
) -> None:
    """An option pressed on a question screen: recorded with the time it arrived."""
    now = clock.now()
    assert viewer.student_id is not None
    try:
        async with db.write() as session:
            result = await svc.choose_option(
                session,
                viewer.student_id,
                callback_data.q,
                callback_data.o,
                now,
                svc.grace_period(settings),
                selected=bool(callback_data.s),
            )
            screen = None
            if not result.late and result.status == "recorded":
                screen = await svc.question_screen(
                    session, viewer.student_id, result.attempt_id, result.position, result
                )
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=exc.code == "attempt_finished")
        return
    if result.late:
        await callback.answer(
            _("Time is up: this answer came after the deadline and was not accepted."),
            show_alert=True,
        )
        await _show_result(
            callback, db, viewer, result.attempt_id, settings, _("⏰ The time is up.")
        )
        return
    if screen is None:
        await callback.answer(_("Already recorded."))
        return
    await callback.answer(_("Answer saved.") if screen.kind == QuestionKind.single else None)
    await show(callback, question_text(screen, now), question_markup(screen), protect=True)


async def on_confirm(
    callback: CallbackQuery,
    callback_data: ConfirmCb,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    settings: Settings,
) -> None:
    """ "Confirm answer" of a multiple-answer question."""
    now = clock.now()
    assert viewer.student_id is not None
    try:
        async with db.write() as session:
            result = await svc.confirm_multiple(
                session, viewer.student_id, callback_data.q, now, svc.grace_period(settings)
            )
            screen = None
            if not result.late and result.status == "recorded":
                screen = await svc.question_screen(
                    session, viewer.student_id, result.attempt_id, result.position, result
                )
    except DomainError as exc:
        await callback.answer(error_text(exc), show_alert=exc.code != "not_found")
        return
    if result.late:
        await callback.answer(
            _("Time is up: this answer came after the deadline and was not accepted."),
            show_alert=True,
        )
        await _show_result(
            callback, db, viewer, result.attempt_id, settings, _("⏰ The time is up.")
        )
        return
    if screen is None:
        await callback.answer(_("Already recorded."))
        return
    await callback.answer(_("Answer saved."))
    await show(callback, question_text(screen, now), question_markup(screen), protect=True)


# ------------------------------------------------------------------------------ home, push


async def home_lines(ctx: HomeContext) -> list[str]:
    if ctx.viewer.role is not Role.student or ctx.viewer.student_id is None:
        return []
    tests = await svc.open_tests_for_home(ctx.session, ctx.viewer.student_id, ctx.now)
    return [
        _("📝 You have a test assigned: {name}, open until {time}").format(
            name=esc(t.name), time=fmt_datetime(t.closes_at, ctx.locale, ctx.settings.tz, "short")
        )
        for t in tests[:3]
    ]


def get_router() -> Router:
    router = Router(name="testing")
    router.message.filter(SignedIn(Role.student))
    router.callback_query.filter(SignedIn(Role.student))
    router.callback_query.register(on_open, NavCb.filter(F.to == "testing"))
    router.message.register(cmd_tests, Command("tests"))
    router.callback_query.register(on_view_test, QuizCb.filter(F.a == "view"))
    router.callback_query.register(on_rules, QuizCb.filter(F.a == "rules"))
    router.callback_query.register(on_start_ask, QuizCb.filter(F.a == "start"))
    router.callback_query.register(on_start, QuizCb.filter(F.a.in_({"go", "cont"})))
    router.callback_query.register(on_question, QuizCb.filter(F.a == "q"))
    router.callback_query.register(on_grid, QuizCb.filter(F.a == "grid"))
    router.callback_query.register(on_finish_ask, QuizCb.filter(F.a == "fin"))
    router.callback_query.register(on_finish, QuizCb.filter(F.a == "end"))
    router.callback_query.register(on_result, QuizCb.filter(F.a == "res"))
    # Last: a button of an action that no longer exists.
    router.callback_query.register(on_stale_button, QuizCb.filter())
    router.callback_query.register(on_answer, AnswerCb.filter())
    router.callback_query.register(on_confirm, ConfirmCb.filter())
    return router


MODULE = Module(
    name="testing",
    router=get_router,
    menu=(MenuItem(to="testing", label=lambda: _("📝 Testing"), roles=STUDENT, order=40),),
    home_lines=home_lines,
    commands=(("tests", lambda: _("Testing: assigned tests")),),
)
