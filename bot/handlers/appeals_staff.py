"""Appeals (§7), the reviewers' side: the queue of undecided appeals, each appealed question
with the correct answer, the student's answer and comment, and a decision per question.

Who may decide is one rule in the service (`reviewable_discipline_ids`): the discipline's
teacher, the appeal commission, an admin. It is checked again on every press.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.filters import SignedIn
from bot.handlers.appeals import answer_list, difficulty_name, pack_pages
from bot.i18n import fmt_datetime
from bot.keyboards.appeals import AprCb, markup_of
from bot.keyboards.common import NavCb, home_button, pager_buttons, short
from bot.modules import MenuItem, Module
from bot.services import appeals as svc
from bot.services.appeals import AppealReview, Reviewer, WrongQuestion
from bot.services.auth import Viewer
from bot.ui import SAFE_TEXT_LIMIT, esc, show
from bot.views.common import current_locale, num
from db.models import Role
from db.models.appeals import AppealItemStatus
from db.session import Database

REVIEWERS = frozenset({Role.teacher, Role.staff, Role.admin})
QUEUE_PAGE = 8
ITEM_PAGE = 3
TEXT_LIMIT = 600


class DecisionInput(StatesGroup):
    comment = State()


def _reviewer(viewer: Viewer) -> Reviewer:
    return Reviewer(user_id=viewer.user_id, role=viewer.role, teacher_id=viewer.teacher_id)


# -------------------------------------------------------------------------------- screens


async def render_queue(db: Database, viewer: Viewer, page: int, tz: ZoneInfo) -> tuple[str, Any]:
    who = _reviewer(viewer)
    async with db.read() as session:
        allowed = await svc.is_reviewer(session, who)
        queue = await svc.review_queue(session, who) if allowed else []
    if not allowed:
        return (
            _("Appeals are decided by the discipline's teacher and the appeal commission."),
            markup_of([[home_button()]]),
        )
    chunk, page, pages = svc.page_of(queue, page, QUEUE_PAGE)
    lines = [_("<b>Appeals to review</b>"), ""]
    rows: list[list[InlineKeyboardButton]] = []
    if not queue:
        lines.append(_("No appeals are waiting for a decision."))
    for offset, entry in enumerate(chunk):
        n = page * QUEUE_PAGE + offset + 1
        group = f" ({esc(entry.group_code)})" if entry.group_code else ""
        lines.append(
            _("{n}. {student}{group} — {test}, {discipline}; undecided: {pending}; {time}").format(
                n=n,
                student=esc(entry.student_name),
                group=group,
                test=esc(entry.test_name),
                discipline=esc(entry.discipline.name(current_locale())),
                pending=entry.pending,
                time=fmt_datetime(entry.filed_at, current_locale(), tz, "short"),
            )
        )
        rows.append(
            [
                InlineKeyboardButton(
                    text=f"{n}. {short(entry.student_name, 30)} — {short(entry.test_name, 25)}",
                    callback_data=AprCb(a="ap", i=entry.appeal_id).pack(),
                )
            ]
        )
    if pager := pager_buttons(lambda p: AprCb(a="q", p=p).pack(), page, pages):
        rows.append(pager)
    rows.append([home_button()])
    return "\n".join(lines), markup_of(rows)


def _decision_line(q: WrongQuestion, review: AppealReview, tz: ZoneInfo) -> str:
    item = q.item
    assert item is not None
    if item.status == AppealItemStatus.pending:
        return _("⏳ Awaiting a decision")
    verdict = _("✅ Accepted") if item.status == AppealItemStatus.accepted else _("❌ Rejected")
    who = review.deciders.get(item.decided_by_user_id or 0, "—")
    line = _("{verdict} by {who}, {time}").format(
        verdict=verdict,
        who=esc(who),
        time=(
            fmt_datetime(item.decided_at, current_locale(), tz, "short")
            if item.decided_at
            else "—"
        ),
    )
    if item.decision_comment:
        line += "\n" + _("Comment: {text}").format(text=esc(item.decision_comment))
    return line


def review_head(review: AppealReview) -> str:
    attempt = review.attempt
    group = f" ({esc(review.group_code)})" if review.group_code else ""
    return "\n".join(
        [
            _("<b>Appeal of {student}</b>{group}").format(
                student=esc(review.student_name), group=group
            ),
            _("Test: {name}").format(name=esc(review.test.name)),
            _("Discipline: {name}").format(name=esc(review.discipline.name(current_locale()))),
            _("Score now: {score} (before the appeal: {before})").format(
                score=num(attempt.score), before=num(review.appeal.score_before)
            ),
        ]
    )


def item_block(q: WrongQuestion, review: AppealReview, tz: ZoneInfo) -> str:
    assert q.item is not None
    return "\n".join(
        [
            _("<b>Question {n}</b> ({level})").format(
                n=q.position, level=difficulty_name(q.difficulty)
            ),
            esc(short(q.text, TEXT_LIMIT)),
            _("Correct answer: {answer}").format(answer=answer_list(q.correct)),
            _("Student's answer: {answer}").format(answer=answer_list(q.chosen)),
            _("Student's comment: {text}").format(
                text=esc(q.item.comment) if q.item.comment else "—"
            ),
            _decision_line(q, review, tz),
        ]
    )


def review_buttons(review: AppealReview, chunk: list[WrongQuestion], page: int, pages: int) -> Any:
    appeal_id = review.appeal.id
    rows: list[list[InlineKeyboardButton]] = []
    for q in chunk:
        if q.item is None or q.item.status != AppealItemStatus.pending:
            continue
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("✅ Accept {n}").format(n=q.position),
                    callback_data=AprCb(a="ok", i=q.item.id).pack(),
                ),
                InlineKeyboardButton(
                    text=_("❌ Reject {n}").format(n=q.position),
                    callback_data=AprCb(a="no", i=q.item.id).pack(),
                ),
            ]
        )
    if pager := pager_buttons(lambda p: AprCb(a="ap", i=appeal_id, p=p).pack(), page, pages):
        rows.append(pager)
    rows.append(
        [InlineKeyboardButton(text=_("« Appeals to review"), callback_data=AprCb(a="q").pack())]
    )
    return markup_of(rows)


async def draw_review(
    event: CallbackQuery | Message,
    db: Database,
    viewer: Viewer,
    appeal_id: int,
    page: int,
    tz: ZoneInfo,
) -> None:
    async with db.read() as session:
        review = await svc.appeal_review(session, _reviewer(viewer), appeal_id)
    head = review_head(review)
    blocks = [item_block(q, review, tz) for q in review.questions]
    layout = pack_pages(blocks, SAFE_TEXT_LIMIT - len(head), ITEM_PAGE)
    page = min(max(page, 0), len(layout) - 1)
    chunk = [review.questions[i] for i in layout[page]]
    text = "\n\n".join([head, *(blocks[i] for i in layout[page])])
    markup = review_buttons(review, chunk, page, len(layout))
    await show(event, text, markup)


# ------------------------------------------------------------------------------ handlers


async def on_open(
    callback: CallbackQuery, db: Database, viewer: Viewer, settings: Settings, state: FSMContext
) -> None:
    """The "Appeals to review" menu item."""
    await state.set_state(None)
    await callback.answer()
    text, markup = await render_queue(db, viewer, 0, settings.tz)
    await show(callback, text, markup)


async def on_queue(
    callback: CallbackQuery,
    callback_data: AprCb,
    db: Database,
    viewer: Viewer,
    settings: Settings,
    state: FSMContext,
) -> None:
    """A page of the appeals waiting for this reviewer."""
    await state.set_state(None)
    await callback.answer()
    text, markup = await render_queue(db, viewer, callback_data.p, settings.tz)
    await show(callback, text, markup)


async def on_review(
    callback: CallbackQuery,
    callback_data: AprCb,
    db: Database,
    viewer: Viewer,
    settings: Settings,
    state: FSMContext,
) -> None:
    """One appeal: its contested questions, a page of them (rights checked on the server)."""
    await state.set_state(None)
    await draw_review(callback, db, viewer, callback_data.i, callback_data.p, settings.tz)
    await callback.answer()


async def on_decision_ask(
    callback: CallbackQuery,
    callback_data: AprCb,
    db: Database,
    viewer: Viewer,
    state: FSMContext,
) -> None:
    """«Accept» (ok) or «Reject» (no) on a question: a comment is asked for."""
    await _ask_decision(callback, db, viewer, state, callback_data.i, callback_data.a == "ok")


async def on_decide(
    callback: CallbackQuery,
    callback_data: AprCb,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    settings: Settings,
    state: FSMContext,
) -> None:
    """The decision without a comment (p=1 accepts)."""
    await state.set_state(None)
    await _decide(
        callback,
        db,
        viewer,
        callback_data.i,
        callback_data.p == 1,
        None,
        clock.now(),
        settings.tz,
    )


async def on_stale_button(callback: CallbackQuery) -> None:
    """A reviewer button of an action this version no longer has."""
    await callback.answer(_("This button is no longer available."), show_alert=True)


async def _pending_item(
    db: Database, viewer: Viewer, item_id: int
) -> tuple[AppealReview, WrongQuestion]:
    async with db.read() as session:
        appeal_id = await svc.appeal_of_item(session, item_id)
        review = await svc.appeal_review(session, _reviewer(viewer), appeal_id)
    for q in review.questions:
        if q.item is not None and q.item.id == item_id:
            if q.item.status != AppealItemStatus.pending:
                raise svc.refuse("already_decided")
            return review, q
    raise svc.refuse("not_found")


async def _ask_decision(
    callback: CallbackQuery,
    db: Database,
    viewer: Viewer,
    state: FSMContext,
    item_id: int,
    accept: bool,
) -> None:
    review, question = await _pending_item(db, viewer, item_id)
    await state.set_state(DecisionInput.comment)
    await state.update_data(ar_item=item_id, ar_accept=accept, ar_appeal=review.appeal.id)
    await callback.answer()
    prompt = (
        _("Accept question {n} of the appeal of {student}?")
        if accept
        else _("Reject question {n} of the appeal of {student}?")
    ).format(n=question.position, student=esc(review.student_name))
    prompt += "\n" + _(
        "Send a comment for the student (at most {limit} characters), or decide without one."
    ).format(limit=svc.DECISION_COMMENT_LIMIT)
    await show(
        callback,
        prompt,
        markup_of(
            [
                [
                    InlineKeyboardButton(
                        text=_("Decide without a comment"),
                        callback_data=AprCb(a="dc", i=item_id, p=int(accept)).pack(),
                    )
                ],
                [
                    InlineKeyboardButton(
                        text=_("« Back"), callback_data=AprCb(a="ap", i=review.appeal.id).pack()
                    )
                ],
            ]
        ),
    )


async def _decide(
    event: CallbackQuery | Message,
    db: Database,
    viewer: Viewer,
    item_id: int,
    accept: bool,
    comment: str | None,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    async with db.write() as session:
        decision = await svc.decide(session, _reviewer(viewer), item_id, accept, comment, now)
    verdict = _("Accepted") if decision.accepted else _("Rejected")
    note = _("{verdict}. Score: {before} → {after}").format(
        verdict=verdict, before=num(decision.score_before), after=num(decision.score_after)
    )
    if isinstance(event, CallbackQuery):
        await event.answer(note, show_alert=True)
    else:
        await event.answer(note)
    await draw_review(event, db, viewer, decision.appeal_id, 0, tz)


async def on_comment(
    message: Message,
    db: Database,
    viewer: Viewer,
    clock: Clock,
    settings: Settings,
    state: FSMContext,
) -> None:
    """A text while a decision's comment is expected: decide with it."""
    data = await state.get_data()
    text = " ".join((message.text or "").split())
    if len(text) > svc.DECISION_COMMENT_LIMIT:
        await message.answer(
            _("The comment is too long: at most {limit} characters. Send a shorter one.").format(
                limit=svc.DECISION_COMMENT_LIMIT
            )
        )
        return
    await state.set_state(None)
    item_id, accept = data.get("ar_item"), data.get("ar_accept")
    if not isinstance(item_id, int) or not isinstance(accept, bool):
        await message.answer(_("This button is no longer available."))
        return
    await _decide(message, db, viewer, item_id, accept, text or None, clock.now(), settings.tz)


async def on_comment_not_text(message: Message) -> None:
    """Anything but text while a decision's comment is expected."""
    await message.answer(_("Send the comment as text, or press « Back."))


def get_router() -> Router:
    router = Router(name="appeals_staff")
    router.message.filter(SignedIn(*REVIEWERS))
    router.callback_query.filter(SignedIn(*REVIEWERS))
    router.callback_query.register(on_open, NavCb.filter(F.to == "appeals_review"))
    router.callback_query.register(on_queue, AprCb.filter(F.a == "q"))
    router.callback_query.register(on_review, AprCb.filter(F.a == "ap"))
    router.callback_query.register(on_decision_ask, AprCb.filter(F.a.in_({"ok", "no"})))
    router.callback_query.register(on_decide, AprCb.filter(F.a == "dc"))
    # Last: a button of an action that no longer exists.
    router.callback_query.register(on_stale_button, AprCb.filter())
    router.message.register(
        on_comment, StateFilter(DecisionInput.comment), F.text, ~F.text.startswith("/")
    )
    router.message.register(on_comment_not_text, StateFilter(DecisionInput.comment), ~F.text)
    return router


MODULE = Module(
    name="appeals_staff",
    router=get_router,
    menu=(
        MenuItem(
            to="appeals_review",
            label=lambda: _("⚖️ Appeals to review"),
            roles=REVIEWERS,
            order=46,
        ),
    ),
)
