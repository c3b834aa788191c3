"""The timetable's screens: a week, a day, a class on one line."""

from __future__ import annotations

from datetime import date

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot.i18n import fmt_date
from bot.keyboards.academic import TimetableCb, class_kind_label, nav_row, parity_label
from bot.keyboards.common import home_button
from bot.services import timetable as svc
from bot.ui import esc, split_text
from db.models.academic import WeekParity


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


def day_heading(day: date, locale: str) -> str:
    text = format_date(day, "EEEE, d MMMM", locale=locale)
    return text[:1].upper() + text[1:]


def week_page(
    days: dict[date, list[svc.ClassItem]] | None,
    parity: WeekParity | None,
    monday: date,
    sunday: date,
    offset: int,
    page: int,
    *,
    for_teacher: bool,
    locale: str,
) -> tuple[str, InlineKeyboardMarkup]:
    """A page of a week's classes (`offset` weeks from this one), day by day."""
    head = _("🗓 <b>Timetable</b> · {first} – {last}").format(
        first=fmt_date(monday, locale), last=fmt_date(sunday, locale)
    )
    if parity is not None:
        head += "\n" + _("Week: {parity}.").format(parity=parity_label(parity))
    blocks = [head]
    for day, items in (days or {}).items():
        if day.weekday() == 6 and not items:
            continue
        lines = [f"<b>{day_heading(day, locale)}</b>"]
        if items:
            lines += [class_line(item, locale, for_teacher=for_teacher) for item in items]
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


def day_page(
    day: date,
    days: dict[date, list[svc.ClassItem]] | None,
    offset: int,
    week_offset: int,
    *,
    for_teacher: bool,
    locale: str,
) -> tuple[str, InlineKeyboardMarkup]:
    """One day's classes (`offset` days from today)."""
    items = (days or {}).get(day, [])
    if offset == 0:
        title = _("Today")
    elif offset == 1:
        title = _("Tomorrow")
    else:
        title = day_heading(day, locale)
    lines = [
        _("🗓 <b>{title}</b> · {date}").format(
            title=title, date=format_date(day, "EEEE, d MMMM y", locale=locale)
        ),
        "",
    ]
    if items:
        lines += [class_line(item, locale, for_teacher=for_teacher) for item in items]
    else:
        lines.append(_("No classes on this day."))
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
