"""The online tests' pushes: a test assigned, an attempt closed by the clock, results out."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _

from bot.delivery.render import Rendered, renderer
from bot.i18n import fmt_datetime, fmt_number
from bot.keyboards.common import NavCb
from bot.keyboards.testing import QuizCb
from bot.ui import esc
from bot.views.common import param_discipline


@renderer("testing.result_released")
def render_result_released(params: dict[str, Any], locale: str) -> Rendered:
    text = _(
        "📊 <b>Test results are out</b>\n\n{name}\nDiscipline: {discipline}\n"
        "Correct answers: {correct} of {total}\n<b>Test score: {score}</b>"
    ).format(
        name=esc(params.get("name", "")),
        discipline=esc(param_discipline(params, locale)),
        correct=params.get("correct", 0),
        total=params.get("total", 0),
        score=esc(fmt_number(Decimal(str(params.get("score", "0"))), locale)),
    )
    button = InlineKeyboardButton(
        text=_("📊 Open the result"),
        callback_data=QuizCb(a="res", i=int(params.get("attempt_id", 0))).pack(),
    )
    return Rendered(text=text, buttons=[[button]], protect=True)


@renderer("testing.attempt_closed")
def render_attempt_closed(params: dict[str, Any], locale: str) -> Rendered:
    if params.get("score") is None:
        text = _(
            "⏰ The time for the test «{name}» is up. Your answers are recorded; the results "
            "will be shown after the test window closes."
        ).format(name=esc(params.get("name", "")))
    else:
        text = _(
            "⏰ The time for the test «{name}» is up: the attempt was closed and scored.\n"
            "<b>Test score: {score}</b>"
        ).format(
            name=esc(params.get("name", "")),
            score=esc(fmt_number(Decimal(str(params["score"])), locale)),
        )
    button = InlineKeyboardButton(
        text=_("📊 Open the result"),
        callback_data=QuizCb(a="res", i=int(params.get("attempt_id", 0))).pack(),
    )
    return Rendered(text=text, buttons=[[button]], protect=True)


@renderer("testing.assigned")
def render_assigned(params: dict[str, Any], locale: str) -> Rendered:
    tz = ZoneInfo(str(params.get("tz", "Asia/Almaty")))
    opens = datetime.fromisoformat(str(params["opens_at"]))
    closes = datetime.fromisoformat(str(params["closes_at"]))
    text = _(
        "📝 <b>A test is assigned to you</b>\n\n{name}\nDiscipline: {discipline}\n"
        "Window: {start} – {end}\nTime limit: {minutes} min"
    ).format(
        name=esc(params.get("name", "")),
        discipline=esc(param_discipline(params, locale)),
        start=fmt_datetime(opens, locale, tz, "short"),
        end=fmt_datetime(closes, locale, tz, "short"),
        minutes=params.get("minutes", 0),
    )
    button = InlineKeyboardButton(text=_("📝 Testing"), callback_data=NavCb(to="testing").pack())
    return Rendered(text=text, buttons=[[button]])
