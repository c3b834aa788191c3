"""The timetable (§4.3): this week's classes by day, other weeks, today and tomorrow, an `.ics`
file of the week; the home screen's "today" line for students and teachers."""

from __future__ import annotations

from datetime import date, timedelta

from aiogram import F, Router
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date
from sqlalchemy import select

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import fmt_date
from bot.keyboards.academic import (
    MAX_WEEK_OFFSET,
    TimetableCb,
    class_kind_label,
    nav_row,
    parity_label,
    valid_page,
)
from bot.keyboards.common import NavCb, home_button
from bot.modules import HomeContext, MenuItem, Module
from bot.services import timetable as svc
from bot.services.auth import Viewer
from bot.ui import esc, show, split_text
from db.models import Role, Student
from db.models.academic import WeekParity
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


def class_line(item: svc.ClassItem, locale: str, *, for_teacher: bool) -> str:
    slot = item.slot
    parts = [
        f"{slot.starts_at.strftime('%H:%M')}–{slot.ends_at.strftime('%H:%M')}",
        f"<b>{esc(slot.discipline.name(locale))}</b>",
        class_kind_label(slot.kind),
    ]
    if slot.room:
        parts.append(_("room {room}").format(room=esc(slot.room)))
    if for_teacher:
        parts.append(_("group {group}").format(group=esc(slot.group.code)))
    elif item.teacher_name:
        parts.append(esc(item.teacher_name))
    line = " · ".join(parts)
    if slot.week_parity == WeekParity.odd:
        line += " <i>(" + _("odd weeks only") + ")</i>"
    elif slot.week_parity == WeekParity.even:
        line += " <i>(" + _("even weeks only") + ")</i>"
    return line


def _day_heading(day: date, locale: str) -> str:
    text = format_date(day, "EEEE, d MMMM", locale=locale)
    return text[:1].upper() + text[1:]


def _today(clock: Clock, settings: Settings) -> date:
    return clock.now().astimezone(settings.tz).date()


async def week_screen(
    db: Database, viewer: Viewer, settings: Settings, clock: Clock, offset: int, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    locale = get_i18n().current_locale
    monday = svc.monday_of(_today(clock, settings)) + timedelta(weeks=offset)
    sunday = monday + timedelta(days=6)
    async with db.read() as session:
        days = await _classes(session, viewer, monday, sunday)
        parity = await svc.week_parity(session, monday)
    head = _("🗓 <b>Timetable</b> · {first} – {last}").format(
        first=fmt_date(monday, locale), last=fmt_date(sunday, locale)
    )
    if parity is not None:
        head += "\n" + _("Week: {parity}.").format(parity=parity_label(parity))
    blocks = [head]
    for day, items in (days or {}).items():
        if day.weekday() == 6 and not items:
            continue
        lines = [f"<b>{_day_heading(day, locale)}</b>"]
        if items:
            lines += [
                class_line(item, locale, for_teacher=viewer.student_id is None) for item in items
            ]
        else:
            lines.append(_("No classes."))
        blocks.append("\n".join(lines))
    chunks = ["\n\n".join(blocks[:2]), *[f"\n{b}" for b in blocks[2:]]]
    pages = [p.strip() for p in split_text(chunks)]
    page = min(page, len(pages) - 1)
    buttons = []
    pager = nav_row(TimetableCb, page, len(pages), a="w", n=offset)
    if pager:
        buttons.append(pager)
    buttons.append(
        [
            InlineKeyboardButton(
                text=_("« Previous week"),
                callback_data=TimetableCb(a="w", n=offset - 1).pack(),
            ),
            InlineKeyboardButton(
                text=_("Next week »"), callback_data=TimetableCb(a="w", n=offset + 1).pack()
            ),
        ]
    )
    buttons.append(
        [
            InlineKeyboardButton(text=_("Today"), callback_data=TimetableCb(a="d", n=0).pack()),
            InlineKeyboardButton(text=_("Tomorrow"), callback_data=TimetableCb(a="d", n=1).pack()),
        ]
    )
    if offset != 0:
        buttons.append(
            [
                InlineKeyboardButton(
                    text=_("This week"), callback_data=TimetableCb(a="w", n=0).pack()
                )
            ]
        )
    buttons.append(
        [
            InlineKeyboardButton(
                text=_("📥 Week as a calendar file (.ics)"),
                callback_data=TimetableCb(a="ics", n=offset).pack(),
            )
        ]
    )
    buttons.append([home_button()])
    return pages[page], InlineKeyboardMarkup(inline_keyboard=buttons)


async def day_screen(
    db: Database, viewer: Viewer, settings: Settings, clock: Clock, offset: int
) -> tuple[str, InlineKeyboardMarkup]:
    locale = get_i18n().current_locale
    day = _today(clock, settings) + timedelta(days=offset)
    async with db.read() as session:
        days = await _classes(session, viewer, day, day)
    items = (days or {}).get(day, [])
    if offset == 0:
        title = _("Today")
    elif offset == 1:
        title = _("Tomorrow")
    else:
        title = _day_heading(day, locale)
    lines = [
        _("🗓 <b>{title}</b> · {date}").format(
            title=title, date=format_date(day, "EEEE, d MMMM y", locale=locale)
        ),
        "",
    ]
    if items:
        lines += [
            class_line(item, locale, for_teacher=viewer.student_id is None) for item in items
        ]
    else:
        lines.append(_("No classes on this day."))
    week_offset = (svc.monday_of(day) - svc.monday_of(_today(clock, settings))).days // 7
    buttons = [
        [
            InlineKeyboardButton(
                text=_("« Previous day"), callback_data=TimetableCb(a="d", n=offset - 1).pack()
            ),
            InlineKeyboardButton(
                text=_("Next day »"), callback_data=TimetableCb(a="d", n=offset + 1).pack()
            ),
        ],
        [
            InlineKeyboardButton(
                text=_("🗓 The whole week"), callback_data=TimetableCb(a="w", n=week_offset).pack()
            )
        ],
        [home_button()],
    ]
    return "\n".join(split_text(lines)[:1]), InlineKeyboardMarkup(inline_keyboard=buttons)


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


async def on_timetable(
    callback: CallbackQuery,
    callback_data: TimetableCb,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """Week, day and file buttons."""
    if _who(viewer) is None:
        await callback.answer(_("There is no timetable for your account."), show_alert=True)
        return
    offset = callback_data.n
    limit = MAX_WEEK_OFFSET * (7 if callback_data.a == "d" else 1)
    if abs(offset) > limit or not valid_page(callback_data.pg):
        await callback.answer(_("This is too far from today."), show_alert=True)
        return
    if callback_data.a == "w":
        await callback.answer()
        await show(
            callback, *await week_screen(db, viewer, settings, clock, offset, callback_data.pg)
        )
    elif callback_data.a == "d":
        await callback.answer()
        await show(callback, *await day_screen(db, viewer, settings, clock, offset))
    elif callback_data.a == "ics":
        await send_ics(callback, db, viewer, settings, clock, offset)
    else:
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
    router.callback_query.register(on_timetable, TimetableCb.filter())
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
