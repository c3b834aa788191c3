"""The appeals' pushes: an appeal decided, an appeal window about to close."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _

from bot.delivery.render import Rendered, renderer
from bot.i18n import fmt_datetime, fmt_number
from bot.keyboards.appeals import AplCb
from bot.ui import esc
from bot.views.common import param_discipline


def _param_score(value: Any, locale: str) -> str:
    return fmt_number(Decimal(str(value)), locale) if value is not None else "—"


@renderer("appeals.decided")
def render_decided(params: dict[str, Any], locale: str) -> Rendered:
    verdict = _("accepted") if params.get("accepted") else _("rejected")
    text = _(
        "⚖️ <b>Your appeal is decided</b>\n\n{name}\nDiscipline: {discipline}\n"
        "Question {n}: {verdict}\nScore before: {before}\nScore after: {after}"
    ).format(
        name=esc(params.get("name", "")),
        discipline=esc(param_discipline(params, locale)),
        n=int(params.get("position", 0)),
        verdict=verdict,
        before=esc(_param_score(params.get("before"), locale)),
        after=esc(_param_score(params.get("after"), locale)),
    )
    if params.get("comment"):
        text += "\n" + _("Reviewer's comment: {text}").format(text=esc(params["comment"]))
    button = InlineKeyboardButton(
        text=_("⚖️ Open the appeal"),
        callback_data=AplCb(a="at", i=int(params.get("attempt_id", 0))).pack(),
    )
    return Rendered(text=text, buttons=[[button]])


@renderer("appeals.closing")
def render_closing(params: dict[str, Any], locale: str) -> Rendered:
    deadline = datetime.fromisoformat(str(params["deadline"]))
    tz = ZoneInfo(str(params.get("tz", "Asia/Almaty")))
    text = _(
        "⚖️ The appeal window of the test «{name}» ({discipline}) closes at {time}. "
        "If you want to contest a question, file the appeal before then."
    ).format(
        name=esc(params.get("name", "")),
        discipline=esc(param_discipline(params, locale)),
        time=fmt_datetime(deadline, locale, tz, "short"),
    )
    button = InlineKeyboardButton(
        text=_("⚖️ Open the appeal"),
        callback_data=AplCb(a="at", i=int(params.get("attempt_id", 0))).pack(),
    )
    return Rendered(text=text, buttons=[[button]])
