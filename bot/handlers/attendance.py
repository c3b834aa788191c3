"""Attendance check-in by QR code (§12): the teacher's live QR screen, closing and correcting,
and the student's scan (`/start a_<token>`)."""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import CommandStart
from aiogram.filters.command import CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import CheckinSettings, Settings
from bot.delivery.checkin_screen import close_and_report, refresh_qr_message
from bot.filters import SignedIn
from bot.handlers.auth import start_sign_in
from bot.i18n import fmt_date
from bot.keyboards.academic import class_kind_label
from bot.keyboards.attendance import AttCb, qr_keyboard
from bot.keyboards.common import NavCb, back_button, rows
from bot.modules import MenuItem, Module
from bot.services import attendance_checkin as svc
from bot.services.attendance_checkin import ScanStatus
from bot.services.auth import Viewer
from bot.ui import esc, show
from bot.views.attendance import class_line, qr_caption, qr_photo
from bot.views.common import stored_locale
from db.models import Role
from db.models.attendance_checkin import CheckIn
from db.session import Database

log = logging.getLogger(__name__)


# ---- the teacher's screens -------------------------------------------------------------------


async def _today_screen(
    db: Database, viewer: Viewer, settings: Settings, clock: Clock, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    today = clock.now().astimezone(settings.tz).date()
    async with db.read() as session:
        classes = await svc.classes_today(session, viewer.teacher_id or 0, today)
        lines = [
            _("📷 <b>Attendance check-in</b>"),
            _("Your classes on {date}:").format(date=fmt_date(today, locale)),
            "",
        ]
        buttons = []
        for entry in classes:
            slot = entry.item.slot
            state = ""
            if entry.checkin is not None:
                state = " ✅" if entry.checkin.closed_at is not None else " 🟢"
            label = "{start} {discipline} · {group}".format(
                start=slot.starts_at.strftime("%H:%M"),
                discipline=slot.discipline.name(locale),
                group=slot.group.code,
            )
            lines.append(
                "{start}–{end} {discipline} · {kind} · {group}{state}".format(
                    start=slot.starts_at.strftime("%H:%M"),
                    end=slot.ends_at.strftime("%H:%M"),
                    discipline=esc(slot.discipline.name(locale)),
                    kind=class_kind_label(slot.kind),
                    group=esc(slot.group.code),
                    state=state,
                )
            )
            buttons.append(
                InlineKeyboardButton(
                    text=label[:60] + state, callback_data=AttCb(a="open", s=slot.id).pack()
                )
            )
    if not classes:
        lines.append(_("You have no classes today."))
    else:
        lines.append("")
        lines.append(_("Pick a class to show its QR code (🟢 open, ✅ closed)."))
    keyboard = [*rows(buttons, per_row=1), [back_button()]]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=keyboard)


async def on_nav_checkin(
    callback: CallbackQuery,
    state: FSMContext,
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
) -> None:
    """The Check-in button of a teacher's home screen."""
    await state.clear()
    await callback.answer()
    locale = stored_locale(viewer, settings)
    text, keyboard = await _today_screen(db, viewer, settings, clock, locale)
    await show(callback, text, keyboard)


def _correction_screen(
    checkin: CheckIn, entries: list[svc.RosterEntry], counts: svc.Counts, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        _("📋 <b>Attendance</b> (final; tap a student to correct)"),
        class_line(checkin, locale),
        "",
        _("Present: {present} of {total}").format(present=counts.present, total=counts.total),
    ]
    buttons = [
        InlineKeyboardButton(
            text=("✅ " if entry.present else "❌ ") + entry.name[:40],
            callback_data=AttCb(a="tog", c=checkin.id, s=entry.student_id).pack(),
        )
        for entry in entries
    ]
    keyboard = [*rows(buttons, per_row=1), [back_button("checkin")]]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=keyboard)


async def _show_correction(
    event: Message | CallbackQuery, db: Database, viewer: Viewer, checkin_id: int, locale: str
) -> None:
    async with db.read() as session:
        checkin = await svc.teacher_checkin(session, checkin_id, viewer.teacher_id or 0)
        entries = await svc.roster(session, checkin)
        counts = await svc.counts(session, checkin)
        text, keyboard = _correction_screen(checkin, entries, counts, locale)
    await show(event, text, keyboard)


async def on_open_checkin(
    callback: CallbackQuery,
    callback_data: AttCb,
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
    bot: Bot,
) -> None:
    """A class of today: its check-in opens (once) and its QR code is sent; a closed one shows
    the roster to correct."""
    now = clock.now()
    locale = stored_locale(viewer, settings)
    async with db.write() as session:
        checkin = await svc.open_checkin(
            session,
            teacher_id=viewer.teacher_id or 0,
            slot_id=callback_data.s,
            on_date=now.astimezone(settings.tz).date(),
            now=now,
            tz=settings.tz,
            config=settings.checkin,
        )
        checkin_id, closed = checkin.id, checkin.closed_at is not None
    await callback.answer()
    if closed:
        await _show_correction(callback, db, viewer, checkin_id, locale)
        return
    await _send_qr(callback, bot, db, checkin_id, locale, now, settings.checkin)


async def on_refresh(
    callback: CallbackQuery,
    callback_data: AttCb,
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
    bot: Bot,
) -> None:
    """«Refresh» under the QR code: a new code or count now, if there is one."""
    async with db.read() as session:
        checkin = await svc.teacher_checkin(session, callback_data.c, viewer.teacher_id or 0)
        closed = checkin.closed_at is not None
    if closed:
        await callback.answer(_("This check-in is closed."), show_alert=True)
        return
    locale = stored_locale(viewer, settings)
    edited = await refresh_qr_message(
        bot, db, callback_data.c, locale, clock.now(), settings.checkin
    )
    await callback.answer(_("Updated.") if edited else _("Nothing new yet."))


async def on_close(
    callback: CallbackQuery,
    callback_data: AttCb,
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
    bot: Bot,
) -> None:
    """«Close the check-in»: the absent are marked and the roster shown for corrections."""
    locale = stored_locale(viewer, settings)
    async with db.read() as session:
        await svc.teacher_checkin(session, callback_data.c, viewer.teacher_id or 0)
    already, absent = await close_and_report(bot, db, callback_data.c, locale, clock.now())
    await callback.answer(
        _("The check-in was already closed.")
        if already
        else _("Closed. Marked absent: {n}").format(n=absent)
    )
    await _show_correction(callback, db, viewer, callback_data.c, locale)


async def on_toggle(
    callback: CallbackQuery,
    callback_data: AttCb,
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
) -> None:
    """A student on the closed roster: present or absent, corrected."""
    async with db.write() as session:
        checkin = await svc.teacher_checkin(session, callback_data.c, viewer.teacher_id or 0)
        await svc.correct(session, checkin, callback_data.s, clock.now())
    await callback.answer(_("Saved."))
    await _show_correction(callback, db, viewer, callback_data.c, stored_locale(viewer, settings))


async def on_stale_button(callback: CallbackQuery) -> None:
    """A check-in button of an action this version no longer has."""
    await callback.answer(_("This button is no longer available."))


async def _send_qr(
    callback: CallbackQuery,
    bot: Bot,
    db: Database,
    checkin_id: int,
    locale: str,
    now: datetime,
    config: CheckinSettings,
) -> None:
    me = await bot.me()
    async with db.write() as session:
        checkin = await svc.load_checkin(session, checkin_id)
        assert checkin is not None
        token = await svc.issue_token(session, checkin, now, config)
        counts = await svc.counts(session, checkin)
        caption = qr_caption(checkin, counts, locale, config.rotate_seconds)
    sent = await bot.send_photo(
        callback.from_user.id,
        qr_photo(me.username or "", token),
        caption=caption,
        reply_markup=qr_keyboard(checkin_id),
        protect_content=True,
    )
    async with db.write() as session:
        checkin = await session.get(CheckIn, checkin_id)
        if checkin is not None:
            # An older QR message of the same check-in stops being refreshed.
            checkin.chat_id = sent.chat.id
            checkin.message_id = sent.message_id
            checkin.shown_token = token
            checkin.shown_present = counts.present
            checkin.shown_at = now


# ---- the student's scan ----------------------------------------------------------------------


async def on_scan(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    viewer: Viewer | None,
    db: Database,
    clock: Clock,
    settings: Settings,
) -> None:
    """/start a_<token>: a student scanned the teacher's QR code."""
    if viewer is None:
        await message.answer(
            _(
                "Sign in first, then scan the code again "
                "(it changes, so scan the one on the screen)."
            )
        )
        await start_sign_in(message, state)
        return
    token = (command.args or "").removeprefix(svc.START_PREFIX)
    now = clock.now()
    async with db.write() as session:
        result = await svc.scan(session, token=token, student_id=viewer.student_id, now=now)
    locale = stored_locale(viewer, settings)
    discipline = esc((result.discipline or {}).get(locale, "")) if result.discipline else ""
    texts = {
        ScanStatus.marked: _("✅ You are marked present: {discipline}, {time}."),
        ScanStatus.already: _("✅ You are already marked present: {discipline}."),
        ScanStatus.expired: _(
            "⌛ This code has expired. Scan the code that is on the screen right now."
        ),
        ScanStatus.closed: _("🔒 The check-in for {discipline} is closed. Ask the teacher."),
        ScanStatus.other_group: _(
            "⛔ This class ({discipline}, group {group}) is not in your timetable: "
            "you were not marked."
        ),
        ScanStatus.not_student: _("Only students check in to classes."),
    }
    await message.answer(
        texts[result.status].format(
            discipline=discipline,
            group=esc(result.group_code or ""),
            time=now.astimezone(settings.tz).strftime("%H:%M"),
        )
    )


def get_public_router() -> Router:
    router = Router(name="attendance_scan")
    router.message.register(
        on_scan, CommandStart(deep_link=True, magic=F.args.regexp(svc.TOKEN_PATTERN))
    )
    return router


def get_router() -> Router:
    router = Router(name="attendance")
    teachers = Router(name="attendance_teachers")
    teachers.callback_query.filter(SignedIn(Role.teacher))
    teachers.callback_query.register(on_nav_checkin, NavCb.filter(F.to == "checkin"))
    teachers.callback_query.register(on_open_checkin, AttCb.filter(F.a == "open"))
    teachers.callback_query.register(on_refresh, AttCb.filter(F.a == "ref"))
    teachers.callback_query.register(on_close, AttCb.filter(F.a == "close"))
    teachers.callback_query.register(on_toggle, AttCb.filter(F.a == "tog"))
    # Last: a button of an action that no longer exists.
    teachers.callback_query.register(on_stale_button, AttCb.filter())
    router.include_router(teachers)
    return router


MODULE = Module(
    name="attendance",
    router=get_router,
    public_router=get_public_router,
    menu=(
        MenuItem(
            to="checkin",
            label=lambda: _("📷 Check-in"),
            roles=frozenset({Role.teacher}),
            order=320,
        ),
    ),
)
