"""The timetable (§4.3): this week's classes by day, other weeks, today and tomorrow, an `.ics`
file of the week; the home screen's "today" line for students and teachers."""

from __future__ import annotations

from datetime import date, timedelta

from aiogram import F, Router
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardMarkup,
)
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import fmt_date
from bot.keyboards.academic import (
    MAX_WEEK_OFFSET,
    TimetableCb,
    class_kind_label,
    valid_page,
)
from bot.keyboards.common import NavCb
from bot.modules import HomeContext, MenuItem, Module
from bot.services import timetable as svc
from bot.services.auth import Viewer
from bot.ui import esc, show
from bot.views import timetable as views
from db.models import Role, Student
from db.session import Database


def _who(viewer: Viewer) -> dict[str, int] | None:
    if viewer.student_id is not None:
        return {"student": viewer.student_id}
    if viewer.teacher_id is not None:
        return {"teacher": viewer.teacher_id}
    return None


async def _classes(
    session: object, viewer: Viewer, first: date, last: date
) -> dict[date, list[svc.ClassItem]] | None:
    if viewer.student_id is not None:
        group_id = await session.scalar(  # type: ignore[attr-defined]
            select(Student.group_id).where(Student.id == viewer.student_id)
        )
        if group_id is None:
            return None
        return await svc.classes_between(session, first, last, group_id=group_id)  # type: ignore[arg-type]
    if viewer.teacher_id is not None:
        return await svc.classes_between(session, first, last, teacher_id=viewer.teacher_id)  # type: ignore[arg-type]
    return None


def _today(clock: Clock, settings: Settings) -> date:
    return clock.now().astimezone(settings.tz).date()


async def week_screen(
    db: Database, viewer: Viewer, settings: Settings, clock: Clock, offset: int, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    monday = svc.monday_of(_today(clock, settings)) + timedelta(weeks=offset)
    sunday = monday + timedelta(days=6)
    async with db.read() as session:
        days = await _classes(session, viewer, monday, sunday)
        parity = await svc.week_parity(session, monday)
    return views.week_page(
        days,
        parity,
        monday,
        sunday,
        offset,
        page,
        for_teacher=viewer.student_id is None,
        locale=get_i18n().current_locale,
    )


async def day_screen(
    db: Database, viewer: Viewer, settings: Settings, clock: Clock, offset: int
) -> tuple[str, InlineKeyboardMarkup]:
    day = _today(clock, settings) + timedelta(days=offset)
    async with db.read() as session:
        days = await _classes(session, viewer, day, day)
    week_offset = (svc.monday_of(day) - svc.monday_of(_today(clock, settings))).days // 7
    return views.day_page(
        day,
        days,
        offset,
        week_offset,
        for_teacher=viewer.student_id is None,
        locale=get_i18n().current_locale,
    )


async def send_ics(
    callback: CallbackQuery,
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
    offset: int,
) -> None:
    locale = get_i18n().current_locale
    monday = svc.monday_of(_today(clock, settings)) + timedelta(weeks=offset)
    sunday = monday + timedelta(days=6)
    async with db.read() as session:
        days = await _classes(session, viewer, monday, sunday)
    items = [item for day_items in (days or {}).values() for item in day_items]
    summary = {}
    description = {}
    for item in items:
        slot = item.slot
        summary[slot.id] = f"{slot.discipline.name(locale)} ({class_kind_label(slot.kind)})"
        details = [slot.discipline.code]
        if viewer.student_id is None:
            details.append(_("group {group}").format(group=slot.group.code))
        elif item.teacher_name:
            details.append(item.teacher_name)
        description[slot.id] = " · ".join(details)
    data = svc.week_ics(
        items,
        tz=settings.tz,
        calendar_name=_("Timetable {first} – {last}").format(
            first=fmt_date(monday, locale), last=fmt_date(sunday, locale)
        ),
        summary=summary,
        description=description,
        stamp=clock.now(),
    )
    await callback.answer()
    message = callback.message
    if message is None or callback.bot is None:
        return
    await callback.bot.send_document(
        callback.from_user.id,
        BufferedInputFile(data, filename=f"timetable-{monday.isoformat()}.ics"),
        caption=_(
            "Classes: {count}. Open the file to add the week to your phone's calendar."
        ).format(count=len(items)),
    )


async def on_open(
    callback: CallbackQuery, viewer: Viewer, db: Database, settings: Settings, clock: Clock
) -> None:
    """The Timetable button of the home screen."""
    if _who(viewer) is None:
        await callback.answer(_("There is no timetable for your account."), show_alert=True)
        return
    await callback.answer()
    await show(callback, *await week_screen(db, viewer, settings, clock, 0, 0))


async def _allowed(callback: CallbackQuery, callback_data: TimetableCb, viewer: Viewer) -> bool:
    """The checks every timetable button shares: a timetable to show, not too far away."""
    if _who(viewer) is None:
        await callback.answer(_("There is no timetable for your account."), show_alert=True)
        return False
    limit = MAX_WEEK_OFFSET * (7 if callback_data.a == "d" else 1)
    if abs(callback_data.n) > limit or not valid_page(callback_data.pg):
        await callback.answer(_("This is too far from today."), show_alert=True)
        return False
    return True


async def on_week(
    callback: CallbackQuery,
    callback_data: TimetableCb,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """A week (`n` weeks from this one), a page of it."""
    if not await _allowed(callback, callback_data, viewer):
        return
    await callback.answer()
    await show(
        callback,
        *await week_screen(db, viewer, settings, clock, callback_data.n, callback_data.pg),
    )


async def on_day(
    callback: CallbackQuery,
    callback_data: TimetableCb,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """A day (`n` days from today)."""
    if not await _allowed(callback, callback_data, viewer):
        return
    await callback.answer()
    await show(callback, *await day_screen(db, viewer, settings, clock, callback_data.n))


async def on_ics(
    callback: CallbackQuery,
    callback_data: TimetableCb,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """A week as a calendar file (.ics)."""
    if not await _allowed(callback, callback_data, viewer):
        return
    await send_ics(callback, db, viewer, settings, clock, callback_data.n)


async def on_stale_button(
    callback: CallbackQuery, callback_data: TimetableCb, viewer: Viewer
) -> None:
    """A timetable button of an action this version no longer has."""
    if not await _allowed(callback, callback_data, viewer):
        return
    await callback.answer(_("This is not available."), show_alert=True)


async def home_lines(ctx: HomeContext) -> list[str]:
    """Today's classes in short form, for students and teachers."""
    viewer = ctx.viewer
    if _who(viewer) is None:
        return []
    today = ctx.now.astimezone(ctx.settings.tz).date()
    days = await _classes(ctx.session, viewer, today, today)
    items = (days or {}).get(today, [])
    if not items:
        return [_("🗓 No classes today.")]
    parts = []
    for item in items[:8]:
        slot = item.slot
        text = f"{slot.starts_at.strftime('%H:%M')} {esc(slot.discipline.name(ctx.locale))}"
        if viewer.student_id is None:
            text += f" ({esc(slot.group.code)})"
        elif slot.room:
            text += f" ({esc(slot.room)})"
        parts.append(text)
    if len(items) > 8:
        parts.append("…")
    if viewer.student_id is None:
        return [_("🗓 Your classes today: {classes}").format(classes="; ".join(parts))]
    return [_("🗓 Today: {classes}").format(classes="; ".join(parts))]


def get_router() -> Router:
    router = Router(name="timetable")
    router.callback_query.register(on_open, NavCb.filter(F.to == "timetable"))
    router.callback_query.register(on_week, TimetableCb.filter(F.a == "w"))
    router.callback_query.register(on_day, TimetableCb.filter(F.a == "d"))
    router.callback_query.register(on_ics, TimetableCb.filter(F.a == "ics"))
    # Last: a button of an action that no longer exists.
    router.callback_query.register(on_stale_button, TimetableCb.filter())
    return router


MODULE = Module(
    name="timetable",
    router=get_router,
    menu=(
        MenuItem(
            to="timetable",
            label=lambda: _("🗓 Timetable"),
            roles=frozenset({Role.student, Role.teacher}),
            order=20,
        ),
    ),
    home_lines=home_lines,
)
