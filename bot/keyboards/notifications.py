"""The notification settings screens: payloads and keyboards.

Buttons carry the state they set, not a toggle (`s`), so a double tap or a stale button sets the
same value again instead of flipping it back.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.keyboards.common import back_button, rows
from bot.services.reminders import CLASS_LEAD_CHOICES, SWITCHABLE_KINDS, Preferences
from db.models.delivery import NoticeKind


class NotifCb(CallbackData, prefix="ntf"):
    """a: "k" a kind (v = its index, s = on/off), "cl" the lead-time picker, "cls" set the lead
    time (v = minutes, 0 = off), "q" quiet hours on/off (s), "qs"/"qe" the start/end picker,
    "qss"/"qes" set the start/end hour (v), "dg" the digest on/off (s), "main" the screen."""

    a: str
    v: int = 0
    s: int = 0


def kind_label(kind: NoticeKind) -> str:
    return {
        NoticeKind.grades: _("Marks and grades"),
        NoticeKind.tests: _("Online tests"),
        NoticeKind.appeals: _("Test appeals"),
        NoticeKind.calendar: _("Academic calendar dates"),
        NoticeKind.letters: _("Letters"),
        NoticeKind.tasks: _("Tasks"),
        NoticeKind.announcements: _("Announcements"),
        NoticeKind.classroom: _("Virtual classroom news"),
        NoticeKind.services: _("Service centre requests"),
        NoticeKind.attendance: _("Attendance marks"),
    }[kind]


def hour_label(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def lead_label(minutes: int | None) -> str:
    if not minutes:
        return _("turned off")
    return _("{n} min before").format(n=minutes)


def _button(text: str, cb: NotifCb) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=cb.pack())


def main_keyboard(prefs: Preferences, *, has_classes: bool) -> InlineKeyboardMarkup:
    kinds = [
        _button(
            ("🔔 " if kind.value not in prefs.disabled else "🔕 ") + kind_label(kind),
            NotifCb(a="k", v=index, s=0 if kind.value not in prefs.disabled else 1),
        )
        for index, kind in enumerate(SWITCHABLE_KINDS)
    ]
    keyboard = rows(kinds, per_row=2)
    if has_classes:
        keyboard.append(
            [
                _button(
                    _("⏰ Class reminders: {value}").format(value=lead_label(prefs.class_minutes)),
                    NotifCb(a="cl"),
                )
            ]
        )
        keyboard.append(
            [
                _button(
                    _("☀️ Morning digest: on") if prefs.digest else _("☀️ Morning digest: off"),
                    NotifCb(a="dg", s=0 if prefs.digest else 1),
                )
            ]
        )
    keyboard.append(
        [
            _button(
                _("🌙 Quiet hours: on") if prefs.quiet_enabled else _("🌙 Quiet hours: off"),
                NotifCb(a="q", s=0 if prefs.quiet_enabled else 1),
            )
        ]
    )
    if prefs.quiet_enabled:
        keyboard.append(
            [
                _button(
                    _("From {time}").format(time=hour_label(prefs.quiet_start)), NotifCb(a="qs")
                ),
                _button(
                    _("Until {time}").format(time=hour_label(prefs.quiet_end)), NotifCb(a="qe")
                ),
            ]
        )
    keyboard.append([back_button("settings")])
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def lead_keyboard(current: int | None) -> InlineKeyboardMarkup:
    choices = [None, *CLASS_LEAD_CHOICES]
    buttons = [
        _button(
            ("• " if (value or None) == (current or None) else "") + lead_label(value),
            NotifCb(a="cls", v=value or 0),
        )
        for value in choices
    ]
    keyboard = rows(buttons, per_row=3)
    keyboard.append([_button(_("« Back"), NotifCb(a="main"))])
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def hours_keyboard(action: str, current: int) -> InlineKeyboardMarkup:
    buttons = [
        _button(
            ("• " if hour * 60 == current else "") + hour_label(hour * 60),
            NotifCb(a=action, v=hour),
        )
        for hour in range(24)
    ]
    keyboard = rows(buttons, per_row=6)
    keyboard.append([_button(_("« Back"), NotifCb(a="main"))])
    return InlineKeyboardMarkup(inline_keyboard=keyboard)
