"""The journal's pushes: a changed mark, the absence limit reached."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _

from bot.delivery.render import Rendered, renderer
from bot.keyboards.academic import JournalCb, control_label, work_kind_label
from bot.ui import esc
from bot.views.common import num
from db.models.academic import WorkKind


def _name(params: dict[str, Any], locale: str) -> str:
    names = params.get("discipline") or {}
    if isinstance(names, dict):
        return str(names.get(locale) or names.get("ru") or names.get("en") or "")
    return str(names)


@renderer("journal.mark_changed")
def render_mark_changed(params: dict[str, Any], locale: str) -> Rendered:
    name = esc(_name(params, locale))
    control = str(params.get("control", ""))
    if control == "current":
        kind = params.get("work_kind")
        what = _("New current mark{kind}: {new}. Current average: {average}.").format(
            kind=f" ({work_kind_label(kind)})" if kind in {k.value for k in WorkKind} else "",
            new=num(params.get("new"), locale),
            average=num(params.get("average"), locale),
        )
    elif params.get("old") is None:
        what = _("{control}: {new}.").format(
            control=control_label(control).capitalize(), new=num(params.get("new"), locale)
        )
    else:
        what = _("{control}: {old} → {new}.").format(
            control=control_label(control).capitalize(),
            old=num(params.get("old"), locale),
            new=num(params.get("new"), locale),
        )
    final = params.get("final")
    if final is None:
        tail = _("Final grade: not yet (the exam is pending).")
    else:
        letter = str(params.get("letter") or "").replace("-", "−")
        tail = _("Final grade: {final} ({letter}).").format(
            final=num(final, locale), letter=esc(letter)
        )
    text = _("📘 <b>{discipline}</b>").format(discipline=name) + "\n" + what + "\n" + tail
    buttons: list[list[InlineKeyboardButton]] = []
    enrolment_id = params.get("enrolment_id")
    if isinstance(enrolment_id, int):
        buttons.append(
            [
                InlineKeyboardButton(
                    text=_("Open in the journal"),
                    callback_data=JournalCb(a="d", id=enrolment_id).pack(),
                )
            ]
        )
    return Rendered(text=text, buttons=buttons)


@renderer("journal.absence_limit")
def render_absence_limit(params: dict[str, Any], locale: str) -> Rendered:
    text = _(
        "⚠️ <b>{discipline}</b>: {absent} absences of {base} classes. You have reached the "
        "absence limit of {limit}%: talk to your advisor or the dean's office."
    ).format(
        discipline=esc(_name(params, locale)),
        absent=int(params.get("absent", 0)),
        base=int(params.get("base", 0)),
        limit=int(params.get("limit", 0)),
    )
    return Rendered(text=text)
