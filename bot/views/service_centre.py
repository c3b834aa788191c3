"""The service centre's shared texts and pushes: a request's status, a document checked or
revoked."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _

from bot.delivery.render import Rendered, renderer
from bot.keyboards.service_centre import sc_button
from bot.services import service_centre as sc
from bot.ui import esc
from db.models.services import RequestStatus

COMMENT_PREVIEW = 300


def status_label(status: RequestStatus | str) -> str:
    return {
        RequestStatus.submitted: _("🆕 Submitted"),
        RequestStatus.in_progress: _("🔄 In progress"),
        RequestStatus.needs_info: _("❓ Needs information"),
        RequestStatus.ready: _("📦 Ready"),
        RequestStatus.issued: _("✅ Issued"),
        RequestStatus.rejected: _("⛔ Rejected"),
    }.get(RequestStatus(status) if status in set(RequestStatus) else status, str(status))


def clip(text: str, limit: int = COMMENT_PREVIEW) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _open_button(request_id: int) -> list[list[InlineKeyboardButton]]:
    return [[sc_button(_("Open the request"), "req", id=int(request_id))]]


@renderer("services.status_changed")
def render_status_changed(params: dict[str, Any], locale: str) -> Rendered:
    lines = [
        _("🏛 Request №{number}. {service}").format(
            number=esc(params.get("number")),
            service=esc(sc.localized(params.get("service") or {}, locale)),
        ),
        _("New status: {status}").format(status=status_label(params.get("status", ""))),
    ]
    if params.get("comment"):
        lines.append(_("Comment: {comment}").format(comment=esc(clip(params["comment"]))))
    return Rendered(text="\n".join(lines), buttons=_open_button(params["request_id"]))


@renderer("services.document_verified")
def render_document_verified(params: dict[str, Any], locale: str) -> Rendered:
    text = _(
        "🔎 Your document {service} №{number} has just been checked through its QR code."
    ).format(
        service=esc(sc.localized(params.get("service") or {}, locale)),
        number=esc(params.get("number")),
    )
    return Rendered(text=text, buttons=_open_button(params["request_id"]))


@renderer("services.document_revoked")
def render_document_revoked(params: dict[str, Any], locale: str) -> Rendered:
    text = _("⛔ Your document №{number} has been revoked. Reason: {reason}").format(
        number=esc(params.get("number")), reason=esc(clip(params.get("reason") or ""))
    )
    return Rendered(text=text, buttons=_open_button(params["request_id"]))
