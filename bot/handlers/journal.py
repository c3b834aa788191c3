"""The student's journal (§4.2, §12): marks of a period, a discipline's weekly marks, attendance
and the exam needed; the pushes about changed marks and the absence limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.keyboards.academic import (
    JournalCb,
    valid_page,
)
from bot.keyboards.common import NavCb
from bot.modules import MenuItem, Module
from bot.services import journal as svc
from bot.services.auth import Viewer
from bot.ui import show
from bot.views import journal as views
from bot.views.common import current_locale
from db.models import Role
from db.session import Database


async def journal_screen(
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
    period_id: int | None,
    page: int,
) -> tuple[str, InlineKeyboardMarkup] | None:
    """The table of one period (the current one by default); None for a period not the
    student's."""
    assert viewer.student_id is not None
    today = clock.now().astimezone(settings.tz).date()
    async with db.read() as session:
        periods = await svc.student_periods(session, viewer.student_id)
        if period_id is None:
            current = await svc.current_period(session, today)
            mine = {p.id for p in periods}
            if current is not None and current.id in mine:
                period = current
            else:
                period = periods[-1] if periods else None
        else:
            period = next((p for p in periods if p.id == period_id), None)
            if period is None:
                return None
        if period is None:
            return views.empty_journal()
        summary = await svc.gpa_summary(session, viewer.student_id)
        rows = await svc.journal_rows(session, viewer.student_id, period.id)
    return views.journal_page(
        period, rows, summary, page, other_periods=len(periods) > 1, locale=current_locale()
    )


async def detail_screen(
    db: Database, viewer: Viewer, enrolment_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup] | None:
    assert viewer.student_id is not None
    async with db.read() as session:
        detail = await svc.discipline_detail(session, viewer.student_id, enrolment_id)
    if detail is None:
        return None
    return views.discipline_page(detail, enrolment_id, page, current_locale())


async def periods_screen(db: Database, viewer: Viewer) -> tuple[str, InlineKeyboardMarkup]:
    assert viewer.student_id is not None
    async with db.read() as session:
        periods = await svc.student_periods(session, viewer.student_id)
        summary = await svc.gpa_summary(session, viewer.student_id)
    return views.periods_page(periods, summary, current_locale())


async def not_a_student(callback: CallbackQuery) -> None:
    await callback.answer(_("The journal is for students."), show_alert=True)


async def on_open(
    callback: CallbackQuery, viewer: Viewer, db: Database, settings: Settings, clock: Clock
) -> None:
    """The Journal button of the home screen."""
    if viewer.student_id is None:
        await not_a_student(callback)
        return
    await callback.answer()
    screen = await journal_screen(db, viewer, settings, clock, None, 0)
    assert screen is not None
    await show(callback, *screen)


async def _show_or_refuse(
    callback: CallbackQuery,
    callback_data: JournalCb,
    viewer: Viewer,
    screen: Callable[[], Awaitable[tuple[str, InlineKeyboardMarkup] | None]],
) -> None:
    """The screen a journal button asks for, after the checks every one of them shares."""
    if viewer.student_id is None:
        await not_a_student(callback)
        return
    if not valid_page(callback_data.pg):
        await callback.answer(_("This button is no longer available."), show_alert=True)
        return
    drawn = await screen()
    if drawn is None:
        await callback.answer(_("This is not available."), show_alert=True)
        return
    await callback.answer()
    await show(callback, *drawn)


async def on_period(
    callback: CallbackQuery,
    callback_data: JournalCb,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """A page of one period's table (the current period when no id is given)."""
    await _show_or_refuse(
        callback,
        callback_data,
        viewer,
        lambda: journal_screen(db, viewer, settings, clock, callback_data.id, callback_data.pg),
    )


async def on_discipline(
    callback: CallbackQuery, callback_data: JournalCb, viewer: Viewer, db: Database
) -> None:
    """One discipline of the journal, a page of it."""
    await _show_or_refuse(
        callback,
        callback_data,
        viewer,
        lambda: detail_screen(db, viewer, callback_data.id, callback_data.pg),
    )


async def on_periods(
    callback: CallbackQuery, callback_data: JournalCb, viewer: Viewer, db: Database
) -> None:
    """The list of the student's periods."""
    await _show_or_refuse(callback, callback_data, viewer, lambda: periods_screen(db, viewer))


async def on_stale_button(
    callback: CallbackQuery, callback_data: JournalCb, viewer: Viewer
) -> None:
    """A journal button of an action this version no longer has."""

    async def nothing() -> None:
        return None

    await _show_or_refuse(callback, callback_data, viewer, nothing)


def get_router() -> Router:
    router = Router(name="journal")
    router.callback_query.register(on_open, NavCb.filter(F.to == "journal"))
    router.callback_query.register(on_period, JournalCb.filter(F.a == "p"))
    router.callback_query.register(on_discipline, JournalCb.filter(F.a == "d"))
    router.callback_query.register(on_periods, JournalCb.filter(F.a == "l"))
    # Last: a button of an action that no longer exists.
    router.callback_query.register(on_stale_button, JournalCb.filter())
    return router


MODULE = Module(
    name="journal",
    router=get_router,
    menu=(
        MenuItem(
            to="journal",
            label=lambda: _("📘 Journal"),
            roles=frozenset({Role.student}),
            order=10,
        ),
    ),
)
