"""Callback payloads and keyboards of online testing.

Payloads carry opaque ids only (a test, an attempt, an attempt's question, an option); the
handlers check every one against the student's own open attempt. No payload says whether an
option is correct.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.keyboards.common import NavCb, home_button, pager_buttons, short

GRID_PAGE = 40
OPTION_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class QuizCb(CallbackData, prefix="qz"):
    """Student screens: `a` is the action, `i` a test or attempt id, `p` a position or page."""

    a: str
    i: int = 0
    p: int = 0


class AnswerCb(CallbackData, prefix="qa"):
    """An option pressed: `q` the attempt's question, `o` the option, `s` 1 to tick, 0 to
    untick (a repeated press sends the same wish, so it changes nothing)."""

    q: int
    o: int
    s: int = 1


class ConfirmCb(CallbackData, prefix="qc"):
    """Confirm the ticked options of a multiple-answer question."""

    q: int


class StaffCb(CallbackData, prefix="qs"):
    """Staff screens: `a` action, `i` an id, `p` a page or a value."""

    a: str
    i: int = 0
    p: int = 0


def letter(index: int) -> str:
    return OPTION_LETTERS[index] if index < len(OPTION_LETTERS) else str(index + 1)


def to_list_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("« Tests"), callback_data=NavCb(to="testing").pack())


def question_keyboard(
    *,
    attempt_id: int,
    aq_id: int,
    position: int,
    total: int,
    multiple: bool,
    options: list[tuple[int, str]],
    marked: frozenset[int],
    confirm: bool,
) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    for index, (option_id, text) in enumerate(options):
        selected = option_id in marked
        if multiple:
            mark = "☑️ " if selected else "☐ "
            data = AnswerCb(q=aq_id, o=option_id, s=0 if selected else 1)
        else:
            mark = "🔘 " if selected else "⚪️ "
            data = AnswerCb(q=aq_id, o=option_id, s=1)
        rows.append(
            [
                InlineKeyboardButton(
                    text=f"{mark}{letter(index)}) {short(text, 48)}", callback_data=data.pack()
                )
            ]
        )
    if multiple:
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("✔️ Confirm answer") if confirm else _("✔️ Answer confirmed"),
                    callback_data=ConfirmCb(q=aq_id).pack(),
                )
            ]
        )
    nav: list[InlineKeyboardButton] = []
    if position > 1:
        nav.append(
            InlineKeyboardButton(
                text=_("‹ Previous"),
                callback_data=QuizCb(a="q", i=attempt_id, p=position - 1).pack(),
            )
        )
    nav.append(
        InlineKeyboardButton(
            text="🔄", callback_data=QuizCb(a="q", i=attempt_id, p=position).pack()
        )
    )
    if position < total:
        nav.append(
            InlineKeyboardButton(
                text=_("Next ›"),
                callback_data=QuizCb(a="q", i=attempt_id, p=position + 1).pack(),
            )
        )
    rows.append(nav)
    rows.append(
        [
            InlineKeyboardButton(
                text=_("🔢 All questions"),
                callback_data=QuizCb(a="grid", i=attempt_id, p=(position - 1) // GRID_PAGE).pack(),
            ),
            InlineKeyboardButton(
                text=_("🏁 Finish"), callback_data=QuizCb(a="fin", i=attempt_id).pack()
            ),
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def grid_keyboard(
    attempt_id: int, total: int, answered: frozenset[int], page: int
) -> InlineKeyboardMarkup:
    pages = max((total + GRID_PAGE - 1) // GRID_PAGE, 1)
    page = min(max(page, 0), pages - 1)
    first = page * GRID_PAGE + 1
    last = min(first + GRID_PAGE - 1, total)
    buttons = [
        InlineKeyboardButton(
            text=f"{'✅' if pos in answered else '⬜️'} {pos}",
            callback_data=QuizCb(a="q", i=attempt_id, p=pos).pack(),
        )
        for pos in range(first, last + 1)
    ]
    rows = [buttons[i : i + 5] for i in range(0, len(buttons), 5)]
    if nav := pager_buttons(lambda p: QuizCb(a="grid", i=attempt_id, p=p).pack(), page, pages):
        rows.append(nav)
    rows.append(
        [
            InlineKeyboardButton(
                text=_("🏁 Finish"), callback_data=QuizCb(a="fin", i=attempt_id).pack()
            )
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def finish_keyboard(attempt_id: int, first_unanswered: int | None) -> InlineKeyboardMarkup:
    back_to = first_unanswered or 1
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("✅ Yes, finish"), callback_data=QuizCb(a="end", i=attempt_id).pack()
                )
            ],
            [
                InlineKeyboardButton(
                    text=_("« Back to the questions"),
                    callback_data=QuizCb(a="q", i=attempt_id, p=back_to).pack(),
                )
            ],
        ]
    )


def result_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[to_list_button()], [home_button()]])


def back_to_test_keyboard(test_id: int) -> InlineKeyboardMarkup:
    """«« Back» to a test's screen."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("« Back"), callback_data=QuizCb(a="view", i=test_id).pack()
                )
            ]
        ]
    )


def start_keyboard(test_id: int) -> InlineKeyboardMarkup:
    """Start the attempt, or cancel back to the test."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("✅ OK, start"), callback_data=QuizCb(a="go", i=test_id).pack()
                )
            ],
            [
                InlineKeyboardButton(
                    text=_("✖️ Cancel"), callback_data=QuizCb(a="view", i=test_id).pack()
                )
            ],
        ]
    )
