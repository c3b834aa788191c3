"""The mailbox's pushes: a new letter, task or announcement; an announcement's delivery report."""

from __future__ import annotations

from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.delivery.render import Rendered, renderer
from bot.i18n import fmt_number
from bot.keyboards.messages import MailCb, button
from bot.services import messaging as svc
from bot.ui import esc
from db.models.messaging import MessageKind


@renderer(svc.TEMPLATE_NEW)
def render_new_message(params: dict[str, Any], locale: str) -> Rendered:
    try:
        kind = MessageKind(params.get("kind", "letter"))
    except ValueError:
        kind = MessageKind.letter
    title = {
        MessageKind.letter: _("📨 New letter"),
        MessageKind.task: _("📋 New task"),
        MessageKind.announcement: _("📢 New announcement"),
    }[kind]
    lines = [
        f"<b>{title}</b>",
        _("From: {name}").format(name=esc(params.get("sender", ""))),
        _("Subject: {subject}").format(subject=esc(params.get("subject", ""))),
    ]
    if params.get("attachments"):
        lines.append(_("Attachments: {count}").format(count=int(params["attachments"])))
    return Rendered(
        text="\n".join(lines),
        buttons=[[button(_("Open"), MailCb(a="open", id=int(params["message_id"])))]],
    )


@renderer(svc.TEMPLATE_DONE)
def render_broadcast_done(params: dict[str, Any], locale: str) -> Rendered:
    def n(key: str) -> str:
        return fmt_number(int(params.get(key, 0)), locale, 0)

    text = "\n".join(
        [
            _("📊 <b>The announcement has been delivered</b>"),
            _("Subject: {subject}").format(subject=esc(params.get("subject", ""))),
            _("Recipients: {count}").format(count=n("recipients")),
            _("Delivered: {count}").format(count=n("delivered")),
            _("Failed: {count}").format(count=n("failed")),
            _("Not sent (notifications off, no Telegram, expired): {count}").format(
                count=n("not_sent")
            ),
        ]
    )
    return Rendered(
        text=text,
        buttons=[[button(_("Open"), MailCb(a="open", id=int(params["message_id"])))]],
    )
