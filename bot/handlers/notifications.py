"""🔔 Notifications (under ⚙️ Settings): which kinds of pushes a person gets, the class reminder
lead time, quiet hours and the morning digest.

The choices live in `notification_settings`; `notify` drops a kind switched off, the delivery
worker holds pushes that may wait (bot/services/notify.py: NOTICES) through quiet hours, and
the reminder jobs read the lead time and the digest flag. Changing quiet hours or a kind
recomputes what is held at once. Account notices cannot be switched off and are not listed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
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
from bot.services.errors import DomainError
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


# ---- the screens: reading the settings -------------------------------------------------------


async def _preferences(db: Database, viewer: Viewer) -> svc.Preferences:
    async with db.read() as session:
        return await svc.preferences(session, viewer.user_id)


async def on_main(callback: CallbackQuery, viewer: Viewer, db: Database) -> None:
    """The notification settings, as they are."""
    prefs = await _preferences(db, viewer)
    await callback.answer()
    await show(callback, *_screen(prefs, viewer))


async def on_class_lead_screen(callback: CallbackQuery, viewer: Viewer, db: Database) -> None:
    """How long before a class to remind (for those who have classes)."""
    prefs = await _preferences(db, viewer)
    await callback.answer()
    if not _has_classes(viewer):
        await show(callback, *_screen(prefs, viewer))
        return
    await show(
        callback,
        _("⏰ <b>Class reminders</b>\n\nHow long before each class should I remind you?"),
        lead_keyboard(prefs.class_minutes),
    )


async def on_quiet_start_screen(callback: CallbackQuery, viewer: Viewer, db: Database) -> None:
    """The hour quiet hours begin (when they are on)."""
    prefs = await _preferences(db, viewer)
    await callback.answer()
    if not prefs.quiet_enabled:
        await show(callback, *_screen(prefs, viewer))
        return
    await show(
        callback,
        _("🌙 <b>Quiet hours</b>\n\nFrom what hour should notices wait?"),
        hours_keyboard("qss", prefs.quiet_start),
    )


async def on_quiet_end_screen(callback: CallbackQuery, viewer: Viewer, db: Database) -> None:
    """The hour quiet hours end (when they are on)."""
    prefs = await _preferences(db, viewer)
    await callback.answer()
    if not prefs.quiet_enabled:
        await show(callback, *_screen(prefs, viewer))
        return
    await show(
        callback,
        _("🌙 <b>Quiet hours</b>\n\nUntil what hour should notices wait?"),
        hours_keyboard("qes", prefs.quiet_end),
    )


# ---- the changes: each refuses values the screens do not offer, without touching anything --

Change = Callable[[AsyncSession], Awaitable[svc.Preferences]]


async def _change(
    callback: CallbackQuery,
    callback_data: NotifCb,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
    change: Change,
    *,
    held_again: bool,
) -> None:
    """Apply one change and show the settings again. A change of quiet hours or of a kind
    re-evaluates the notices already held for quiet hours (`held_again`), in the same unit."""
    if callback_data.s not in (0, 1):
        await callback.answer(_("This is not available."), show_alert=True)
        return
    try:
        async with db.write() as session:
            prefs = await change(session)
            if held_again:
                await reevaluate_held(session, viewer.user_id, clock.now(), settings.tz)
    except DomainError as exc:
        await callback.answer(exc.user_message(), show_alert=True)
        return
    await callback.answer(_("Saved."))
    await show(callback, *_screen(prefs, viewer))


async def on_kind_switch(
    callback: CallbackQuery,
    callback_data: NotifCb,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """A kind of notice switched on or off."""
    value, enabled = callback_data.v, bool(callback_data.s)

    async def change(session: AsyncSession) -> svc.Preferences:
        if not 0 <= value < len(svc.SWITCHABLE_KINDS):
            raise svc.not_offered()
        return await svc.set_kind(session, viewer.user_id, svc.SWITCHABLE_KINDS[value], enabled)

    await _change(callback, callback_data, viewer, db, settings, clock, change, held_again=True)


async def on_class_lead(
    callback: CallbackQuery,
    callback_data: NotifCb,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """How long before a class to remind, chosen (0: no reminders)."""

    async def change(session: AsyncSession) -> svc.Preferences:
        if not _has_classes(viewer):
            raise svc.not_offered()
        return await svc.set_class_minutes(session, viewer.user_id, callback_data.v or None)

    await _change(callback, callback_data, viewer, db, settings, clock, change, held_again=False)


async def on_digest(
    callback: CallbackQuery,
    callback_data: NotifCb,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """The morning digest switched on or off."""

    async def change(session: AsyncSession) -> svc.Preferences:
        if not _has_classes(viewer):
            raise svc.not_offered()
        return await svc.set_digest(session, viewer.user_id, bool(callback_data.s))

    await _change(callback, callback_data, viewer, db, settings, clock, change, held_again=False)


async def on_quiet_switch(
    callback: CallbackQuery,
    callback_data: NotifCb,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """Quiet hours switched on or off."""

    async def change(session: AsyncSession) -> svc.Preferences:
        return await svc.set_quiet(session, viewer.user_id, enabled=bool(callback_data.s))

    await _change(callback, callback_data, viewer, db, settings, clock, change, held_again=True)


async def on_quiet_hour(
    callback: CallbackQuery,
    callback_data: NotifCb,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """The hour quiet hours begin (qss) or end (qes), chosen."""
    hour = callback_data.v

    async def change(session: AsyncSession) -> svc.Preferences:
        if not 0 <= hour <= 23:
            raise svc.not_offered()
        if callback_data.a == "qss":
            return await svc.set_quiet(session, viewer.user_id, start_hour=hour)
        return await svc.set_quiet(session, viewer.user_id, end_hour=hour)

    await _change(callback, callback_data, viewer, db, settings, clock, change, held_again=True)


async def on_stale_button(callback: CallbackQuery) -> None:
    """A notification button of an action this version no longer has."""
    await callback.answer(_("This is not available."), show_alert=True)


def get_router() -> Router:
    router = Router(name="notifications")
    router.callback_query.register(on_open, NavCb.filter(F.to == "notifications"))
    router.callback_query.register(on_main, NotifCb.filter(F.a == "main"))
    router.callback_query.register(on_class_lead_screen, NotifCb.filter(F.a == "cl"))
    router.callback_query.register(on_quiet_start_screen, NotifCb.filter(F.a == "qs"))
    router.callback_query.register(on_quiet_end_screen, NotifCb.filter(F.a == "qe"))
    router.callback_query.register(on_kind_switch, NotifCb.filter(F.a == "k"))
    router.callback_query.register(on_class_lead, NotifCb.filter(F.a == "cls"))
    router.callback_query.register(on_digest, NotifCb.filter(F.a == "dg"))
    router.callback_query.register(on_quiet_switch, NotifCb.filter(F.a == "q"))
    router.callback_query.register(on_quiet_hour, NotifCb.filter(F.a.in_({"qss", "qes"})))
    # Last: a button of an action that no longer exists.
    router.callback_query.register(on_stale_button, NotifCb.filter())
    return router


MODULE = Module(name="notifications", router=get_router)
