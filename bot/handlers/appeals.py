"""Appeals (§7), the student's side: passed tests of a period, the appeal screen of an attempt
with its countdown and wrong questions, filing with optional comments, withdrawal.

The selection being prepared lives in the FSM data (question ids and comments only); every id
is checked against the student's own attempt again when it is used, and the window is checked
by the service when the appeal is filed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.filters import SignedIn
from bot.i18n import fmt_date, fmt_datetime
from bot.keyboards.appeals import AplCb, markup_of
from bot.keyboards.common import NavCb, PageCb, home_button, pager_buttons, pager_row, short
from bot.modules import MenuItem, Module
from bot.services import appeals as svc
from bot.services import journal
from bot.services.appeals import AttemptAppeal, PassedTest, WrongQuestion
from bot.services.auth import Viewer
from bot.ui import SAFE_TEXT_LIMIT, esc, show
from bot.views.common import current_locale, num
from db.models import AcademicPeriod, Role
from db.models.appeals import AppealItemStatus
from db.models.testing import Difficulty
from db.session import Database

STUDENT = frozenset({Role.student})
LIST_PAGE = 5
QUESTION_PAGE = 6
QUESTION_TEXT_LIMIT = 400
ANSWER_TEXT_LIMIT = 600
PAGER_SCOPE = "apl"


class AppealInput(StatesGroup):
    comment = State()


# ------------------------------------------------------------------------------- wording


def left_text(deadline: datetime, now: datetime) -> str:
    """The countdown of a window as the student sees it when the screen is drawn."""
    seconds = max(int((deadline - now).total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("{days} d {hours} h {minutes} min").format(
            days=days, hours=hours, minutes=minutes
        )
    if hours:
        return _("{hours} h {minutes} min").format(hours=hours, minutes=minutes)
    return _("{minutes} min").format(minutes=max(minutes, 1))


def difficulty_name(value: Difficulty) -> str:
    return {
        Difficulty.easy: _("easy"),
        Difficulty.medium: _("medium"),
        Difficulty.hard: _("hard"),
    }[Difficulty(value)]


def _triple(values: tuple[int, int, int] | None) -> str:
    if values is None:
        return "—"
    return " / ".join(str(v) for v in values)


def item_state(question: WrongQuestion, tz: ZoneInfo) -> str | None:
    item = question.item
    if item is None:
        return None
    if item.status == AppealItemStatus.pending:
        text = _("⏳ Appealed, awaiting a decision")
    elif item.status == AppealItemStatus.accepted:
        text = _("✅ Appeal accepted")
    else:
        text = _("❌ Appeal rejected")
    if item.decided_at is not None:
        text += " · " + fmt_datetime(item.decided_at, current_locale(), tz, "short")
    if item.decision_comment:
        text += "\n" + _("Reviewer's comment: {text}").format(text=esc(item.decision_comment))
    return text


# ------------------------------------------------------------------------------ the list


async def _period(db: Database, viewer: Viewer, period_id: int, now: datetime, tz: ZoneInfo):
    async with db.read() as session:
        period = None
        if period_id:
            period = await session.get(AcademicPeriod, period_id)
        if period is None:
            period = await journal.current_period(session, now.astimezone(tz).date())
        if period is None:
            return None, []
        assert viewer.student_id is not None
        rows = await svc.passed_tests(session, viewer.student_id, period, tz)
    return period, rows


def _row_lines(n: int, row: PassedTest, now: datetime, tz: ZoneInfo) -> list[str]:
    attempt = row.attempt
    finished = attempt.finished_at or attempt.deadline
    lines = [
        f"<b>{n}. {esc(row.test.name)}</b>",
        _("{discipline} · {date}").format(
            discipline=esc(row.discipline.name(current_locale())),
            date=fmt_date(finished.astimezone(tz).date(), current_locale(), "short"),
        ),
        _("Questions (easy / medium / hard): {values}").format(values=_triple(row.totals)),
        _("Correct answers: {values}").format(values=_triple(row.correct_before)),
        _("Correct with appeal: {values}").format(values=_triple(row.correct_with_appeal)),
        _("Score: {score}").format(score=num(attempt.score)),
    ]
    if row.pending:
        lines.append(_("⏳ Questions awaiting a decision: {n}").format(n=row.pending))
    if row.deadline is not None and now < row.deadline:
        lines.append(
            _("⚖️ Appeal possible for {left} more").format(left=left_text(row.deadline, now))
        )
    return lines


async def render_list(
    db: Database, viewer: Viewer, period_id: int, page: int, now: datetime, tz: ZoneInfo
) -> tuple[str, Any]:
    period, rows = await _period(db, viewer, period_id, now, tz)
    buttons: list[list[InlineKeyboardButton]] = []
    if period is None:
        text = _("There are no academic periods yet.")
        return text, markup_of([[home_button()]])
    chunk, page, pages = svc.page_of(rows, page, LIST_PAGE)
    head = [
        _("<b>Passed tests</b>"),
        _("Tests for the period: {start} – {end}").format(
            start=fmt_date(period.starts_on, current_locale(), "short"),
            end=fmt_date(period.ends_on, current_locale(), "short"),
        ),
        "",
    ]
    if not rows:
        head.append(_("You have no finished tests in this period."))
    blocks = []
    for offset, row in enumerate(chunk):
        n = page * LIST_PAGE + offset + 1
        blocks.append("\n".join(_row_lines(n, row, now, tz)))
        buttons.append(
            [
                InlineKeyboardButton(
                    text=f"{n}. {short(row.test.name, 40)}",
                    callback_data=AplCb(a="at", i=row.attempt.id).pack(),
                )
            ]
        )
    text = "\n".join(head) + "\n\n".join(blocks)
    buttons.append(pager_row(PAGER_SCOPE, period.id, page, pages))
    buttons.append(
        [InlineKeyboardButton(text=_("📅 Period"), callback_data=AplCb(a="per").pack())]
    )
    buttons.append([home_button()])
    return text, markup_of(buttons)


async def render_periods(db: Database, viewer: Viewer) -> tuple[str, Any]:
    assert viewer.student_id is not None
    async with db.read() as session:
        periods = await svc.student_periods(session, viewer.student_id)
    buttons = [
        [
            InlineKeyboardButton(
                text=_("{start} – {end}").format(
                    start=fmt_date(p.starts_on, current_locale(), "short"),
                    end=fmt_date(p.ends_on, current_locale(), "short"),
                ),
                callback_data=AplCb(a="ls", i=p.id).pack(),
            )
        ]
        for p in periods[:30]
    ]
    buttons.append([InlineKeyboardButton(text=_("« Back"), callback_data=AplCb(a="ls").pack())])
    text = _("Choose the period:") if periods else _("You have no periods with tests yet.")
    return text, markup_of(buttons)


# ---------------------------------------------------------------------- the appeal screen


def _selection(data: dict[str, Any], attempt_id: int) -> dict[str, str]:
    if data.get("ap_attempt") != attempt_id:
        return {}
    return dict(data.get("ap_sel") or {})


def answer_list(values: list[str]) -> str:
    """Chosen or correct options as one escaped line, cut to a readable length."""
    if not values:
        return _("no answer")
    return esc(short("; ".join(values), ANSWER_TEXT_LIMIT))


def pack_pages(blocks: list[str], budget: int, most: int) -> list[list[int]]:
    """Indices of blocks per page: at most `most` blocks and `budget` characters a page, so a
    page of long questions stays under Telegram's limit."""
    pages: list[list[int]] = [[]]
    used = 0
    for index, block in enumerate(blocks):
        size = len(block) + 2
        if pages[-1] and (len(pages[-1]) >= most or used + size > budget):
            pages.append([])
            used = 0
        pages[-1].append(index)
        used += size
    return pages


def appeal_head(view: AttemptAppeal, now: datetime, tz: ZoneInfo) -> str:
    attempt = view.attempt
    lines = [
        _("<b>Appeal: {name}</b>").format(name=esc(view.test.name)),
        _("Discipline: {name}").format(name=esc(view.discipline.name(current_locale()))),
        _("Score: {score}").format(score=num(attempt.score)),
    ]
    if view.deadline is None:
        lines.append(_("This test does not allow appeals."))
    elif view.is_open(now):
        lines.append(
            _("⏳ The appeal window is limited: {left} left (until {time}).").format(
                left=left_text(view.deadline, now),
                time=fmt_datetime(view.deadline, current_locale(), tz, "short"),
            )
        )
    else:
        lines.append(
            _("The appeal window closed on {time}.").format(
                time=fmt_datetime(view.deadline, current_locale(), tz, "short")
            )
        )
    lines.append("")
    if not view.questions:
        lines.append(_("You have no wrongly answered questions in this attempt."))
    else:
        lines.append(_("<b>Questions answered wrongly</b>"))
    return "\n".join(lines)


def question_block(q: WrongQuestion, selection: dict[str, str], tz: ZoneInfo) -> str:
    block = [
        _("<b>Question {n}</b> ({level})").format(
            n=q.position, level=difficulty_name(q.difficulty)
        ),
        esc(short(q.text, QUESTION_TEXT_LIMIT)),
        _("Your answer: {answer}").format(answer=answer_list(q.chosen)),
    ]
    state = item_state(q, tz)
    if state:
        if q.item is not None and q.item.comment:
            block.append(_("Your comment: {text}").format(text=esc(q.item.comment)))
        block.append(state)
    elif str(q.aq_id) in selection:
        block.append(_("☑ Selected for the appeal"))
        if selection[str(q.aq_id)]:
            block.append(_("Your comment: {text}").format(text=esc(selection[str(q.aq_id)])))
    return "\n".join(block)


def appeal_buttons(
    view: AttemptAppeal,
    chunk: list[WrongQuestion],
    page: int,
    pages: int,
    selection: dict[str, str],
    now: datetime,
) -> Any:
    attempt_id = view.attempt.id
    rows: list[list[InlineKeyboardButton]] = []
    is_open = view.is_open(now)
    if is_open:
        for q in chunk:
            if q.item is not None:
                continue
            picked = str(q.aq_id) in selection
            row = [
                InlineKeyboardButton(
                    text=("☑ " if picked else "☐ ") + _("Question {n}").format(n=q.position),
                    callback_data=AplCb(a="tg", i=q.aq_id).pack(),
                )
            ]
            if picked:
                row.append(
                    InlineKeyboardButton(
                        text="💬 " + _("Comment"), callback_data=AplCb(a="cm", i=q.aq_id).pack()
                    )
                )
            rows.append(row)
    if pager := pager_buttons(lambda p: AplCb(a="at", i=attempt_id, p=p).pack(), page, pages):
        rows.append(pager)
    if is_open and selection:
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("📨 File the appeal ({n})").format(n=len(selection)),
                    callback_data=AplCb(a="file", i=attempt_id).pack(),
                )
            ]
        )
    if view.pending:
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("↩️ Withdraw the appeal"),
                    callback_data=AplCb(a="wd", i=attempt_id).pack(),
                )
            ]
        )
    rows.append(
        [
            InlineKeyboardButton(
                text=_("« Passed tests"),
                callback_data=AplCb(a="ls", i=view.test.period_id or 0).pack(),
            )
        ]
    )
    return markup_of(rows)


async def draw_appeal(
    event: CallbackQuery | Message,
    db: Database,
    viewer: Viewer,
    state: FSMContext,
    attempt_id: int,
    page: int | None,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    assert viewer.student_id is not None
    async with db.read() as session:
        view = await svc.attempt_appeal(session, viewer.student_id, attempt_id)
    data = await state.get_data()
    selection = _selection(data, attempt_id)
    # Questions filed meanwhile (another device) leave the selection.
    selectable = {str(q.aq_id) for q in view.selectable}
    selection = {k: v for k, v in selection.items() if k in selectable}
    if page is None:
        page = int(data.get("ap_page", 0)) if data.get("ap_attempt") == attempt_id else 0
    head = appeal_head(view, now, tz)
    blocks = [question_block(q, selection, tz) for q in view.questions]
    layout = pack_pages(blocks, SAFE_TEXT_LIMIT - len(head), QUESTION_PAGE)
    page = min(max(page, 0), len(layout) - 1)
    await state.update_data(ap_attempt=attempt_id, ap_sel=selection, ap_page=page)
    chunk = [view.questions[i] for i in layout[page]]
    text = "\n\n".join([head, *(blocks[i] for i in layout[page])])
    markup = appeal_buttons(view, chunk, page, len(layout), selection, now)
    await show(event, text, markup)


# ------------------------------------------------------------------------------ handlers


async def on_open(
    callback: CallbackQuery, db: Database, viewer: Viewer, clock: Clock, settings: Settings
) -> None:
    """The "Appeals" menu item: passed tests of the current period."""
    await callback.answer()
    text, markup = await render_list(db, viewer, 0, 0, clock.now(), settings.tz)
    await show(callback, text, markup)


async def cmd_appeals(
    message: Message,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    settings: Settings,
    state: FSMContext,
) -> None:
    """/appeals: passed tests of the current period."""
    await state.set_state(None)
    text, markup = await render_list(db, viewer, 0, 0, clock.now(), settings.tz)
    await message.answer(text, reply_markup=markup)


async def on_page(
    callback: CallbackQuery,
    callback_data: PageCb,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    settings: Settings,
) -> None:
    """‹ › under passed tests."""
    await callback.answer()
    text, markup = await render_list(
        db, viewer, callback_data.key, callback_data.page, clock.now(), settings.tz
    )
    await show(callback, text, markup)


async def on_list(
    callback: CallbackQuery,
    callback_data: AplCb,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    settings: Settings,
    state: FSMContext,
) -> None:
    """A page of the passed tests of a period, each with its appeal state."""
    await state.set_state(None)
    await callback.answer()
    text, markup = await render_list(
        db, viewer, callback_data.i, callback_data.p, clock.now(), settings.tz
    )
    await show(callback, text, markup)


async def on_periods(callback: CallbackQuery, db: Database, viewer: Viewer) -> None:
    """The periods to choose the tests from."""
    await callback.answer()
    text, markup = await render_periods(db, viewer)
    await show(callback, text, markup)


async def on_attempt(
    callback: CallbackQuery,
    callback_data: AplCb,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    settings: Settings,
    state: FSMContext,
) -> None:
    """One attempt's appeal: the wrong questions to contest, a page of them."""
    await state.set_state(None)
    await draw_appeal(
        callback, db, viewer, state, callback_data.i, callback_data.p, clock.now(), settings.tz
    )
    await callback.answer()


async def on_toggle(
    callback: CallbackQuery,
    callback_data: AplCb,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    settings: Settings,
    state: FSMContext,
) -> None:
    """A question ticked or unticked for the appeal."""
    await _toggle(callback, db, viewer, state, callback_data.i, clock.now(), settings.tz)


async def on_comment_ask(
    callback: CallbackQuery,
    callback_data: AplCb,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    state: FSMContext,
) -> None:
    """«Comment» on a question: the comment is asked for."""
    await _ask_comment(callback, db, viewer, state, callback_data.i, clock.now())


async def on_file(
    callback: CallbackQuery,
    callback_data: AplCb,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    settings: Settings,
    state: FSMContext,
) -> None:
    """«File the appeal» for the ticked questions."""
    await _file(callback, db, viewer, state, callback_data.i, clock.now(), settings.tz)


async def on_withdraw_ask(
    callback: CallbackQuery, callback_data: AplCb, db: Database, viewer: Viewer
) -> None:
    """«Withdraw»: asks to confirm."""
    await _confirm_withdraw(callback, db, viewer, callback_data.i)


async def on_withdraw(
    callback: CallbackQuery,
    callback_data: AplCb,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    settings: Settings,
    state: FSMContext,
) -> None:
    """The withdrawal confirmed: the pending questions of the appeal are withdrawn."""
    assert viewer.student_id is not None
    now = clock.now()
    async with db.write() as session:
        count = await svc.withdraw(session, viewer.student_id, callback_data.i, now)
    await callback.answer(_("Withdrawn: {n}").format(n=count))
    await draw_appeal(callback, db, viewer, state, callback_data.i, None, now, settings.tz)


async def on_stale_button(callback: CallbackQuery) -> None:
    """An appeals button of an action this version no longer has."""
    await callback.answer(_("This button is no longer available."), show_alert=True)


async def _question_of(
    db: Database, viewer: Viewer, aq_id: int
) -> tuple[AttemptAppeal, WrongQuestion]:
    """The attempt's appeal screen and the question, if it is the student's and selectable."""
    assert viewer.student_id is not None
    async with db.read() as session:
        # Whose attempt this is gets checked by attempt_appeal, with the student's own id.
        attempt_id = await svc.attempt_of_question(session, aq_id)
        view = await svc.attempt_appeal(session, viewer.student_id, attempt_id)
    for q in view.questions:
        if q.aq_id == aq_id:
            if q.item is not None:
                raise svc.refuse("already_filed")
            return view, q
    raise svc.refuse("not_wrong")


async def _toggle(
    callback: CallbackQuery,
    db: Database,
    viewer: Viewer,
    state: FSMContext,
    aq_id: int,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    view, _question = await _question_of(db, viewer, aq_id)
    if not view.is_open(now):
        raise svc.refuse("window_closed")
    attempt_id = view.attempt.id
    data = await state.get_data()
    selection = _selection(data, attempt_id)
    key = str(aq_id)
    if key in selection:
        del selection[key]
    else:
        selection[key] = ""
    await state.update_data(ap_attempt=attempt_id, ap_sel=selection)
    await callback.answer()
    await draw_appeal(callback, db, viewer, state, attempt_id, None, now, tz)


async def _ask_comment(
    callback: CallbackQuery,
    db: Database,
    viewer: Viewer,
    state: FSMContext,
    aq_id: int,
    now: datetime,
) -> None:
    view, question = await _question_of(db, viewer, aq_id)
    if not view.is_open(now):
        raise svc.refuse("window_closed")
    selection = _selection(await state.get_data(), view.attempt.id)
    if str(aq_id) not in selection:
        selection[str(aq_id)] = ""
    await state.update_data(ap_attempt=view.attempt.id, ap_sel=selection, ap_comment_for=aq_id)
    await state.set_state(AppealInput.comment)
    await callback.answer()
    await show(
        callback,
        _(
            "Send a short comment to question {n} (at most {limit} characters): why you think "
            "your answer is right."
        ).format(n=question.position, limit=svc.COMMENT_LIMIT),
        markup_of(
            [
                [
                    InlineKeyboardButton(
                        text=_("« Back"), callback_data=AplCb(a="at", i=view.attempt.id).pack()
                    )
                ]
            ]
        ),
    )


async def on_comment(
    message: Message,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    settings: Settings,
    state: FSMContext,
) -> None:
    """A text while a comment to a selected question is expected."""
    data = await state.get_data()
    attempt_id = data.get("ap_attempt")
    aq_id = data.get("ap_comment_for")
    text = " ".join((message.text or "").split())
    if len(text) > svc.COMMENT_LIMIT:
        await message.answer(
            _("The comment is too long: at most {limit} characters. Send a shorter one.").format(
                limit=svc.COMMENT_LIMIT
            )
        )
        return
    await state.set_state(None)
    if not isinstance(attempt_id, int) or not isinstance(aq_id, int):
        await message.answer(_("This button is no longer available."))
        return
    selection = _selection(data, attempt_id)
    selection[str(aq_id)] = text
    await state.update_data(ap_sel=selection, ap_comment_for=None)
    await message.answer(_("Comment saved."))
    await draw_appeal(message, db, viewer, state, attempt_id, None, clock.now(), settings.tz)


async def on_comment_not_text(message: Message) -> None:
    """Anything but text while a comment is expected."""
    await message.answer(_("Send the comment as text, or press « Back."))


async def _file(
    callback: CallbackQuery,
    db: Database,
    viewer: Viewer,
    state: FSMContext,
    attempt_id: int,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    assert viewer.student_id is not None
    selection = _selection(await state.get_data(), attempt_id)
    picked = {int(k): (v or None) for k, v in selection.items()}
    async with db.write() as session:
        await svc.file_appeal(session, viewer.student_id, attempt_id, picked, now)
    await state.update_data(ap_sel={})
    await callback.answer(
        _("The appeal is filed: {n}. You will be told the decision.").format(n=len(picked)),
        show_alert=True,
    )
    await draw_appeal(callback, db, viewer, state, attempt_id, None, now, tz)


async def _confirm_withdraw(
    callback: CallbackQuery, db: Database, viewer: Viewer, attempt_id: int
) -> None:
    assert viewer.student_id is not None
    async with db.read() as session:
        view = await svc.attempt_appeal(session, viewer.student_id, attempt_id)
    if not view.pending:
        raise svc.refuse("nothing_to_withdraw")
    await callback.answer()
    await show(
        callback,
        _("Withdraw the undecided questions of your appeal ({n})?").format(n=view.pending),
        markup_of(
            [
                [
                    InlineKeyboardButton(
                        text=_("Yes, withdraw"),
                        callback_data=AplCb(a="wdy", i=attempt_id).pack(),
                    ),
                    InlineKeyboardButton(
                        text=_("« Back"), callback_data=AplCb(a="at", i=attempt_id).pack()
                    ),
                ]
            ]
        ),
    )


def get_router() -> Router:
    router = Router(name="appeals")
    router.message.filter(SignedIn(Role.student))
    router.callback_query.filter(SignedIn(Role.student))
    router.callback_query.register(on_open, NavCb.filter(F.to == "appeals"))
    router.callback_query.register(on_page, PageCb.filter(F.scope == PAGER_SCOPE))
    router.callback_query.register(on_list, AplCb.filter(F.a == "ls"))
    router.callback_query.register(on_periods, AplCb.filter(F.a == "per"))
    router.callback_query.register(on_attempt, AplCb.filter(F.a == "at"))
    router.callback_query.register(on_toggle, AplCb.filter(F.a == "tg"))
    router.callback_query.register(on_comment_ask, AplCb.filter(F.a == "cm"))
    router.callback_query.register(on_file, AplCb.filter(F.a == "file"))
    router.callback_query.register(on_withdraw_ask, AplCb.filter(F.a == "wd"))
    router.callback_query.register(on_withdraw, AplCb.filter(F.a == "wdy"))
    # Last: a button of an action that no longer exists.
    router.callback_query.register(on_stale_button, AplCb.filter())
    router.message.register(cmd_appeals, Command("appeals"))
    router.message.register(
        on_comment, StateFilter(AppealInput.comment), F.text, ~F.text.startswith("/")
    )
    router.message.register(on_comment_not_text, StateFilter(AppealInput.comment), ~F.text)
    return router


MODULE = Module(
    name="appeals",
    router=get_router,
    menu=(MenuItem(to="appeals", label=lambda: _("⚖️ Appeals"), roles=STUDENT, order=42),),
    commands=(("appeals", lambda: _("Appeals: passed tests and appeals")),),
)
