"""🔔 Notifications (under ⚙️ Settings): which kinds of pushes a person gets, the class reminder
lead time, quiet hours and the morning digest.

The choices live in `notification_settings`; `notify` drops a kind switched off, the delivery
worker holds pushes that may wait (bot/services/notify.py: NOTICES) through quiet hours, and
the reminder jobs read the lead time and the digest flag. Changing quiet hours or a kind
recomputes what is held at once. Account notices cannot be switched off and are not listed.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.handlers import reminders_notices  # noqa: F401  (registers the reminder renderers)
from bot.keyboards.common import NavCb
from bot.keyboards.notifications import (
    NotifCb,
    hour_label,
    hours_keyboard,
    lead_keyboard,
    lead_label,
    main_keyboard,
)
from bot.modules import Module
from bot.services import reminders as svc
from bot.services.auth import Viewer
from bot.services.notify import reevaluate_held
from bot.ui import show
from db.session import Database


def _has_classes(viewer: Viewer) -> bool:
    return viewer.student_id is not None or viewer.teacher_id is not None


def _screen(prefs: svc.Preferences, viewer: Viewer) -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        _("🔔 <b>Notifications</b>"),
        "",
        _(
            "Tap a kind to turn it on (🔔) or off (🔕). Notices about your account are always "
            "sent."
        ),
        "",
    ]
    if prefs.quiet_enabled:
        lines.append(
            _(
                "🌙 Quiet hours: {start}–{end}. Notices wait until they end; urgent ones do "
                "not (test and appeal deadlines, decisions, a request waiting on you, your "
                "account)."
            ).format(start=hour_label(prefs.quiet_start), end=hour_label(prefs.quiet_end))
        )
    else:
        lines.append(_("🌙 Quiet hours are off: notices arrive at any time."))
    if _has_classes(viewer):
        lines.append(
            _("⏰ Class reminders: {value}").format(value=lead_label(prefs.class_minutes))
        )
        if prefs.digest:
            lines.append(
                _(
                    "☀️ Morning digest at {time}: today's classes, open tests, unread messages "
                    "and this week's deadlines."
                ).format(time=svc.DIGEST_AT.strftime("%H:%M"))
            )
        else:
            lines.append(_("☀️ Morning digest: off"))
    return "\n".join(lines), main_keyboard(prefs, has_classes=_has_classes(viewer))


async def on_open(callback: CallbackQuery, viewer: Viewer, db: Database) -> None:
    """The Notifications button of the settings screen (and of reminder messages)."""
    await callback.answer()
    async with db.read() as session:
        prefs = await svc.preferences(session, viewer.user_id)
    await show(callback, *_screen(prefs, viewer))


async def on_action(
    callback: CallbackQuery,
    callback_data: NotifCb,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """Every button of the notification screens; values outside what the screens offer are
    refused without touching the settings. A change of quiet hours or of a kind re-evaluates
    the notices already held for quiet hours, in the same write unit."""
    action, value, state = callback_data.a, callback_data.v, callback_data.s
    if action in ("cl", "qs", "qe", "main"):
        async with db.read() as session:
            prefs = await svc.preferences(session, viewer.user_id)
        await callback.answer()
        if action == "cl" and _has_classes(viewer):
            await show(
                callback,
                _("⏰ <b>Class reminders</b>\n\nHow long before each class should I remind you?"),
                lead_keyboard(prefs.class_minutes),
            )
        elif action == "qs" and prefs.quiet_enabled:
            await show(
                callback,
                _("🌙 <b>Quiet hours</b>\n\nFrom what hour should notices wait?"),
                hours_keyboard("qss", prefs.quiet_start),
            )
        elif action == "qe" and prefs.quiet_enabled:
            await show(
                callback,
                _("🌙 <b>Quiet hours</b>\n\nUntil what hour should notices wait?"),
                hours_keyboard("qes", prefs.quiet_end),
            )
        else:
            await show(callback, *_screen(prefs, viewer))
        return
    if state not in (0, 1):
        await callback.answer(_("This is not available."), show_alert=True)
        return
    try:
        async with db.write() as session:
            if action == "k":
                if not 0 <= value < len(svc.SWITCHABLE_KINDS):
                    raise svc.PreferenceError(value)
                prefs = await svc.set_kind(
                    session, viewer.user_id, svc.SWITCHABLE_KINDS[value], bool(state)
                )
            elif action == "cls" and _has_classes(viewer):
                prefs = await svc.set_class_minutes(session, viewer.user_id, value or None)
            elif action == "dg" and _has_classes(viewer):
                prefs = await svc.set_digest(session, viewer.user_id, bool(state))
            elif action == "q":
                prefs = await svc.set_quiet(session, viewer.user_id, enabled=bool(state))
            elif action == "qss" and 0 <= value <= 23:
                prefs = await svc.set_quiet(session, viewer.user_id, start_hour=value)
            elif action == "qes" and 0 <= value <= 23:
                prefs = await svc.set_quiet(session, viewer.user_id, end_hour=value)
            else:
                raise svc.PreferenceError(action)
            if action in ("k", "q", "qss", "qes"):
                await reevaluate_held(session, viewer.user_id, clock.now(), settings.tz)
    except svc.PreferenceError:
        if action in ("qss", "qes") and 0 <= value <= 23:
            await callback.answer(
                _("Quiet hours cannot start and end at the same hour."), show_alert=True
            )
        else:
            await callback.answer(_("This is not available."), show_alert=True)
        return
    await callback.answer(_("Saved."))
    await show(callback, *_screen(prefs, viewer))


def get_router() -> Router:
    router = Router(name="notifications")
    router.callback_query.register(on_open, NavCb.filter(F.to == "notifications"))
    router.callback_query.register(on_action, NotifCb.filter())
    return router


MODULE = Module(name="notifications", router=get_router)
