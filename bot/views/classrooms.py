"""The classrooms' push: a post, with a reply button, to the other members of a classroom."""

from __future__ import annotations

from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.delivery.render import Rendered, renderer
from bot.keyboards.classrooms import cls_button, kind_label, room_button
from bot.services import classrooms as svc
from bot.ui import esc


def cut(text: str, limit: int) -> str:
    """`text` at most `limit` characters long, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@renderer("classrooms.post")
def render_post(params: dict[str, Any], locale: str) -> Rendered:
    names = params.get("discipline") or {}
    discipline = names.get(locale) or names.get("ru") or names.get("en") or ""
    role = _("teacher") if params.get("by_teacher") else _("student")
    text = _(
        "💬 <b>{discipline}</b> · {kind} · {group}\n"
        "<b>{author}</b> ({role}) wrote in the classroom:\n\n{text}"
    ).format(
        discipline=esc(discipline),
        kind=kind_label(str(params.get("kind", ""))),
        group=esc(params.get("group", "")),
        author=esc(params.get("author", "")),
        role=role,
        text=esc(cut(str(params.get("text", "")), svc.MAX_POST_LENGTH)),
    )
    cid = int(params.get("classroom_id") or 0)
    return Rendered(
        text=text,
        buttons=[
            [
                cls_button(_("↩️ Reply"), a="reply", c=cid),
                room_button(_("🏫 Open the classroom"), cid),
            ]
        ],
    )
