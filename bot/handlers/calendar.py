"""The academic calendar (§4.4): the student's own calendar, the university's calendars and
"what is next" with the days left."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from itertools import groupby

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.keyboards.academic import (
    CalendarCb,
    date_range,
    event_section_label,
    nav_row,
    valid_page,
)
from bot.keyboards.common import NavCb, home_button
from bot.modules import MenuItem, Module
from bot.services import academic_calendar as svc
from bot.services.auth import Viewer
from bot.ui import esc, show, split_text
from db.models.academic import AcademicCalendar, CalendarEvent
from db.session import Database


def _today(clock: Clock, settings: Settings) -> date:
    return clock.now().astimezone(settings.tz).date()


def calendar_text(calendar: AcademicCalendar, locale: str) -> list[str]:
    """The calendar as blocks: one per term, events grouped by section as in Figure 5."""
    blocks = [f"📅 <b>{esc(calendar.name(locale))}</b>"]

    def term_key(event: CalendarEvent) -> int:
        return event.term if event.term is not None else 99

    events = sorted(calendar.events, key=lambda e: (term_key(e), e.starts_on, e.id))
    for term, items in groupby(events, key=term_key):
        heading = (
            _("<b>Term {term}</b>").format(term=term) if term != 99 else _("<b>The whole year</b>")
        )
        lines = [heading]
        ordered = sorted(items, key=lambda e: (list(type(e.kind)).index(e.kind), e.starts_on))
        for kind, group in groupby(ordered, key=lambda e: e.kind):
            lines.append(f"<u>{event_section_label(kind)}</u>")
            for event in group:
                when = date_range(event.starts_on, event.ends_on, locale)
                lines.append(f"• {esc(event.name(locale))}: {when}")
        blocks.append("\n".join(lines))
    if not calendar.events:
        blocks.append(_("No events in this calendar yet."))
    return blocks


def _screen(
    blocks: list[str], page: int, cb_fields: dict, extra: list[list[InlineKeyboardButton]]
) -> tuple[str, InlineKeyboardMarkup]:
    pages = split_text(blocks)
    page = min(page, len(pages) - 1)
    buttons = []
    pager = nav_row(CalendarCb, page, len(pages), **cb_fields)
    if pager:
        buttons.append(pager)
    buttons += extra
    buttons.append([home_button()])
    return pages[page], InlineKeyboardMarkup(inline_keyboard=buttons)


def _menu_row() -> list[list[InlineKeyboardButton]]:
    return [
        [
            InlineKeyboardButton(
                text=_("⏭ What is next"), callback_data=CalendarCb(a="next").pack()
            ),
            InlineKeyboardButton(
                text=_("🏛 University calendars"), callback_data=CalendarCb(a="list").pack()
            ),
        ]
    ]


async def mine_screen(
    db: Database, viewer: Viewer, settings: Settings, clock: Clock, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    locale = get_i18n().current_locale
    year = svc.academic_year_of(_today(clock, settings))
    async with db.read() as session:
        calendar = None
        if viewer.student_id is not None:
            calendar = await svc.calendar_for_student(session, viewer.student_id, year)
    if calendar is None:
        blocks = [
            _("📅 <b>Academic calendar</b>"),
            _("No calendar is assigned to you for {year}. See the university calendars.").format(
                year=year
            ),
        ]
    else:
        blocks = calendar_text(calendar, locale)
    return _screen(blocks, page, {"a": "mine"}, _menu_row())


async def list_screen(
    db: Database, settings: Settings, clock: Clock
) -> tuple[str, InlineKeyboardMarkup]:
    locale = get_i18n().current_locale
    year = svc.academic_year_of(_today(clock, settings))
    async with db.read() as session:
        calendars = await svc.list_calendars(session, year)
    text = _("🏛 <b>University calendars</b> · {year}").format(year=year)
    if not calendars:
        text += "\n\n" + _("No calendars for this academic year yet.")
    buttons = [
        [
            InlineKeyboardButton(
                text=c.name(locale)[:60], callback_data=CalendarCb(a="view", id=c.id).pack()
            )
        ]
        for c in calendars[:40]
    ]
    buttons.append(
        [InlineKeyboardButton(text=_("« Back"), callback_data=CalendarCb(a="mine").pack())]
    )
    buttons.append([home_button()])
    return text, InlineKeyboardMarkup(inline_keyboard=buttons)


async def view_screen(
    db: Database, calendar_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup] | None:
    locale = get_i18n().current_locale
    async with db.read() as session:
        calendar = await svc.calendar_with_events(session, calendar_id)
    if calendar is None:
        return None
    back = [[InlineKeyboardButton(text=_("« Back"), callback_data=CalendarCb(a="list").pack())]]
    return _screen(calendar_text(calendar, locale), page, {"a": "view", "id": calendar_id}, back)


async def next_screen(
    db: Database, viewer: Viewer, settings: Settings, clock: Clock
) -> tuple[str, InlineKeyboardMarkup]:
    locale = get_i18n().current_locale
    today = _today(clock, settings)
    year = svc.academic_year_of(today)
    async with db.read() as session:
        calendar = None
        if viewer.student_id is not None:
            calendar = await svc.calendar_for_student(session, viewer.student_id, year)
        if calendar is None:
            calendars = await svc.list_calendars(session, year)
            general = [c for c in calendars if c.course is None and c.programme_id is None]
            if general:
                calendar = await svc.calendar_with_events(session, general[0].id)
    lines = [_("⏭ <b>What is next</b>")]
    coming = svc.upcoming(list(calendar.events), today) if calendar is not None else []
    if not coming:
        lines.append(_("Nothing is planned ahead in the calendar."))
    for item in coming:
        when = date_range(item.event.starts_on, item.event.ends_on, locale)
        if item.ongoing and item.event.ends_on > today:
            left = _("going on now")
        elif item.days_left <= 0:
            left = _("today")
        else:
            left = ngettext("in {n} day", "in {n} days", item.days_left).format(n=item.days_left)
        lines.append(f"• <b>{esc(item.event.name(locale))}</b>: {when} — {left}")
    buttons = [
        [InlineKeyboardButton(text=_("« Back"), callback_data=CalendarCb(a="mine").pack())],
        [home_button()],
    ]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=buttons)


async def on_open(
    callback: CallbackQuery, viewer: Viewer, db: Database, settings: Settings, clock: Clock
) -> None:
    """The Calendar button of the home screen."""
    await callback.answer()
    await show(callback, *await mine_screen(db, viewer, settings, clock, 0))


async def _show_or_refuse(
    callback: CallbackQuery,
    callback_data: CalendarCb,
    screen: Callable[[], Awaitable[tuple[str, InlineKeyboardMarkup] | None]],
) -> None:
    """The screen a calendar button asks for; a refusal for a forged page or id."""
    drawn = await screen() if valid_page(callback_data.pg) else None
    if drawn is None:
        await callback.answer(_("This is not available."), show_alert=True)
        return
    await callback.answer()
    await show(callback, *drawn)


async def on_mine(
    callback: CallbackQuery,
    callback_data: CalendarCb,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """The person's own calendar: a page of what concerns them."""
    await _show_or_refuse(
        callback,
        callback_data,
        lambda: mine_screen(db, viewer, settings, clock, callback_data.pg),
    )


async def on_list(
    callback: CallbackQuery,
    callback_data: CalendarCb,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """The academic calendars of the year."""
    await _show_or_refuse(callback, callback_data, lambda: list_screen(db, settings, clock))


async def on_view(callback: CallbackQuery, callback_data: CalendarCb, db: Database) -> None:
    """One academic calendar, a page of it."""
    await _show_or_refuse(
        callback, callback_data, lambda: view_screen(db, callback_data.id, callback_data.pg)
    )


async def on_next(
    callback: CallbackQuery,
    callback_data: CalendarCb,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """What comes next for the person."""
    await _show_or_refuse(
        callback, callback_data, lambda: next_screen(db, viewer, settings, clock)
    )


async def on_stale_button(callback: CallbackQuery) -> None:
    """A calendar button of an action this version no longer has."""
    await callback.answer(_("This is not available."), show_alert=True)


def get_router() -> Router:
    router = Router(name="academic_calendar")
    router.callback_query.register(on_open, NavCb.filter(F.to == "calendar"))
    router.callback_query.register(on_mine, CalendarCb.filter(F.a == "mine"))
    router.callback_query.register(on_list, CalendarCb.filter(F.a == "list"))
    router.callback_query.register(on_view, CalendarCb.filter(F.a == "view"))
    router.callback_query.register(on_next, CalendarCb.filter(F.a == "next"))
    # Last: a button of an action that no longer exists.
    router.callback_query.register(on_stale_button, CalendarCb.filter())
    return router


MODULE = Module(
    name="calendar",
    router=get_router,
    menu=(MenuItem(to="calendar", label=lambda: _("📅 Academic calendar"), order=30),),
)
