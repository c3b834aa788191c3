"""How reminders read: the renderers of the "reminders.*" templates.

The jobs store plain values (names in all three languages, ISO dates and times, the time zone);
the worker calls these in the recipient's locale at send time.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot.delivery.render import Rendered, renderer
from bot.i18n import fmt_date, fmt_datetime, fmt_time
from bot.keyboards.academic import class_kind_label
from bot.keyboards.common import NavCb
from bot.services.reminders import DIGEST_AT, Milestone
from bot.ui import SAFE_TEXT_LIMIT, esc
from db.models.academic import CalendarEventKind, ClassKind

# Each list of the digest shows at most this many lines, each name at most NAME_LIMIT chars.
DIGEST_LIST_LIMIT = 8
NAME_LIMIT = 90


def _name(value: Any, locale: str) -> str:
    if isinstance(value, dict):
        text = value.get(locale) or value.get("ru") or value.get("en") or value.get("kk") or ""
    else:
        text = str(value or "")
    if len(text) > NAME_LIMIT:
        text = text[: NAME_LIMIT - 1] + "…"
    return esc(text)


def _tz(params: dict[str, Any]) -> ZoneInfo:
    try:
        return ZoneInfo(str(params.get("tz") or "Asia/Almaty"))
    except (ValueError, KeyError):
        return ZoneInfo("Asia/Almaty")


def _nav(text: str, to: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=NavCb(to=to).pack())


def _settings_button() -> InlineKeyboardButton:
    return _nav(_("🔔 Notification settings"), "notifications")


def _kind_label(value: Any) -> str:
    try:
        return class_kind_label(ClassKind(str(value)))
    except ValueError:
        return ""


def _day(value: str, locale: str) -> str:
    return fmt_date(date.fromisoformat(value), locale, "d MMMM")


def _fit(lines: list[str]) -> str:
    """Whole lines up to Telegram's limit (a digest is one message)."""
    text = ""
    for line in lines:
        candidate = f"{text}\n{line}" if text else line
        if len(candidate) > SAFE_TEXT_LIMIT:
            return text + "\n…"
        text = candidate
    return text


# ---- tests -------------------------------------------------------------------------------------


@renderer("reminders.test_opened")
def render_test_opened(params: dict[str, Any], locale: str) -> Rendered:
    tz = _tz(params)
    text = _(
        "📝 <b>A test is open</b>\n\n{name}\nDiscipline: {discipline}\n"
        "Open until: {end}\nTime limit: {minutes} min"
    ).format(
        name=_name(params.get("name"), locale),
        discipline=_name(params.get("discipline"), locale),
        end=fmt_datetime(datetime.fromisoformat(str(params["closes_at"])), locale, tz, "short"),
        minutes=int(params.get("minutes") or 0),
    )
    return Rendered(text=text, buttons=[[_nav(_("📝 Testing"), "testing")]])


@renderer("reminders.test_closing")
def render_test_closing(params: dict[str, Any], locale: str) -> Rendered:
    tz = _tz(params)
    text = _(
        "⏳ <b>The test closes at {time}</b>\n\n{name}\nDiscipline: {discipline}\n"
        "You have not started it yet. Time limit: {minutes} min."
    ).format(
        time=fmt_time(datetime.fromisoformat(str(params["closes_at"])), locale, tz),
        name=_name(params.get("name"), locale),
        discipline=_name(params.get("discipline"), locale),
        minutes=int(params.get("minutes") or 0),
    )
    return Rendered(text=text, buttons=[[_nav(_("📝 Testing"), "testing")]])


# ---- the academic calendar ---------------------------------------------------------------------


def _calendar_heading(kind: str, milestone: str, when: str) -> str:
    tomorrow = when == "before"
    if milestone == Milestone.opens:
        return _("Registration opens tomorrow") if tomorrow else _("Registration opens today")
    if milestone == Milestone.closes:
        return (
            _("Registration closes tomorrow")
            if tomorrow
            else _("Today is the last day of registration")
        )
    if milestone == Milestone.deadline:
        return (
            _("The add/drop deadline is tomorrow")
            if tomorrow
            else _("The add/drop deadline is today")
        )
    if kind == CalendarEventKind.midterm:
        return (
            _("A midterm week starts tomorrow") if tomorrow else _("A midterm week starts today")
        )
    if kind == CalendarEventKind.session:
        return (
            _("The exam session starts tomorrow")
            if tomorrow
            else _("The exam session starts today")
        )
    if kind == CalendarEventKind.practice:
        return _("Your practice starts tomorrow") if tomorrow else _("Your practice starts today")
    return (
        _("Tomorrow in the academic calendar") if tomorrow else _("Today in the academic calendar")
    )


def _calendar_label(kind: str, milestone: str) -> str:
    """A milestone in a list (the digest's deadlines)."""
    if milestone == Milestone.opens:
        return _("registration opens")
    if milestone == Milestone.closes:
        return _("registration closes")
    if milestone == Milestone.deadline:
        return _("add/drop deadline")
    if kind == CalendarEventKind.midterm:
        return _("midterm week starts")
    if kind == CalendarEventKind.session:
        return _("exam session starts")
    if kind == CalendarEventKind.practice:
        return _("practice starts")
    return ""


@renderer("reminders.calendar")
def render_calendar(params: dict[str, Any], locale: str) -> Rendered:
    kind, milestone, when = str(params.get("kind")), str(params.get("m")), str(params.get("when"))
    starts, ends = str(params["starts_on"]), str(params["ends_on"])
    if starts == ends:
        dates = _day(starts, locale)
    else:
        dates = f"{_day(starts, locale)} – {_day(ends, locale)}"
    text = "📅 <b>{heading}</b>\n\n{name}\n{dates}".format(
        heading=_calendar_heading(kind, milestone, when),
        name=_name(params.get("name"), locale),
        dates=dates,
    )
    return Rendered(
        text=text,
        buttons=[[_nav(_("📅 Academic calendar"), "calendar")], [_settings_button()]],
    )


# ---- classes ----------------------------------------------------------------------------------


def _class_line(item: dict[str, Any], locale: str) -> str:
    parts = [
        f"{esc(item.get('starts', ''))}–{esc(item.get('ends', ''))}",
        f"<b>{_name(item.get('discipline'), locale)}</b>",
    ]
    kind = _kind_label(item.get("kind"))
    if kind:
        parts.append(kind)
    if item.get("room"):
        parts.append(_("room {room}").format(room=esc(item["room"])))
    if item.get("group"):
        parts.append(_("group {group}").format(group=esc(item["group"])))
    return " · ".join(parts)


@renderer("reminders.class")
def render_class(params: dict[str, Any], locale: str) -> Rendered:
    text = _("🔔 <b>Class at {time}</b>\n{details}").format(
        time=esc(params.get("starts", "")), details=_class_line(params, locale)
    )
    return Rendered(
        text=text, buttons=[[_nav(_("🗓 Timetable"), "timetable")], [_settings_button()]]
    )


# ---- the morning digest -----------------------------------------------------------------------


def _more(items: list[Any]) -> list[str]:
    extra = len(items) - DIGEST_LIST_LIMIT
    return [_("…and {n} more").format(n=extra)] if extra > 0 else []


def _unread_line(unread: dict[str, Any]) -> str | None:
    parts = []
    if unread.get("letter"):
        parts.append(_("letters {n}").format(n=int(unread["letter"])))
    if unread.get("task"):
        parts.append(_("tasks {n}").format(n=int(unread["task"])))
    if unread.get("announcement"):
        parts.append(_("announcements {n}").format(n=int(unread["announcement"])))
    if not parts:
        return None
    return "✉️ " + _("Unread: {list}").format(list=", ".join(parts))


def _deadline_line(item: dict[str, Any], locale: str, tz: ZoneInfo) -> str:
    if item.get("type") == "test":
        closes = datetime.fromisoformat(str(item["closes_at"]))
        when = f"{fmt_date(closes.astimezone(tz).date(), locale, 'd MMMM')}, "
        return "• " + _("{when}: the test «{name}» closes").format(
            when=when + fmt_time(closes, locale, tz), name=_name(item.get("name"), locale)
        )
    return "• {when}: {name} — {what}".format(
        when=_day(str(item["date"]), locale),
        name=_name(item.get("name"), locale),
        what=_calendar_label(str(item.get("kind")), str(item.get("m"))),
    )


@renderer("reminders.digest")
def render_digest(params: dict[str, Any], locale: str) -> Rendered:
    tz = _tz(params)
    day = format_date(date.fromisoformat(str(params["date"])), "EEEE, d MMMM", locale=locale)
    lines = [_("☀️ <b>Good morning!</b> {day}").format(day=esc(day)), ""]
    classes = list(params.get("classes") or [])
    if classes:
        lines.append(_("<b>Classes today</b>"))
        lines += [_class_line(item, locale) for item in classes[:DIGEST_LIST_LIMIT]]
        lines += _more(classes)
    else:
        lines.append(_("🗓 No classes today."))
    tests = list(params.get("tests") or [])
    if tests:
        lines += ["", _("<b>Open tests</b>")]
        lines += [
            "• "
            + _("{name} — until {when}").format(
                name=_name(t.get("name"), locale),
                when=fmt_datetime(
                    datetime.fromisoformat(str(t["closes_at"])), locale, tz, "short"
                ),
            )
            for t in tests[:DIGEST_LIST_LIMIT]
        ]
        lines += _more(tests)
    deadlines = list(params.get("deadlines") or [])
    if deadlines:
        lines += ["", _("<b>Deadlines this week</b>")]
        lines += [_deadline_line(d, locale, tz) for d in deadlines[:DIGEST_LIST_LIMIT]]
        lines += _more(deadlines)
    unread = _unread_line(dict(params.get("unread") or {}))
    if unread:
        lines += ["", unread]
    buttons = [[_nav(_("🗓 Timetable"), "timetable")]]
    if tests:
        buttons[0].append(_nav(_("📝 Testing"), "testing"))
    if unread:
        buttons.append([_nav(_("✉️ Messages"), "messages")])
    buttons.append([_settings_button()])
    return Rendered(text=_fit(lines), buttons=buttons)


def digest_time_label() -> str:
    return DIGEST_AT.strftime("%H:%M")
