"""Spreadsheets and charts offered on other modules' screens.

Teachers (their own classes) and staff: a group's journal, its attendance over a date range and
the distribution of current averages. Staff testing screens: a test's results. The author of an
announcement: its delivery report. The service centre: the requests queue. Students: a chart of
a discipline's weekly marks and attendance. Every press is checked again here (the router's role
filter, then ownership in a read unit); the file or picture is made after the unit has closed,
in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.filters import HasSubRole, SignedIn
from bot.handlers.testing import control_name
from bot.i18n import fmt_date, fmt_number
from bot.keyboards.academic import (
    TeacherCb,
    class_kind_label,
    period_title,
    traditional_label,
    work_kind_label,
)
from bot.keyboards.common import home_button
from bot.keyboards.exports import ExportCb
from bot.modules import Module
from bot.services import charts
from bot.services import export_data as data
from bot.services import journal as journal_svc
from bot.services import service_centre as sc
from bot.services import testing as testing_svc
from bot.services.auth import Viewer
from bot.services.errors import DomainError
from bot.services.exports import Column, Sheet, file_name, workbook_bytes
from bot.services.fonts import FontNotFoundError
from bot.ui import esc, show
from bot.views.common import current_locale
from bot.views.service_centre import status_label
from db.models import AcademicPeriod, Discipline, Group, Role
from db.models.delivery import DeliveryStatus
from db.models.messaging import Message as MailMessage
from db.models.messaging import MessageKind
from db.models.testing import AttemptStatus
from db.session import Database

log = logging.getLogger(__name__)

CLASS_ROLES = (Role.teacher, Role.staff, Role.admin)
LARGE_EXPORT_ROWS = 200
"""From this many rows on, the chat shows "sending a file…" while the workbook is made."""
MAX_RANGE_DAYS = 366
MARK_FORMAT = "0.00"
PRESETS = ("week", "month", "period")
_RANGE = re.compile(
    r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*(?:-|–|—|\.\.)\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*$"
)


class AttendanceRange(StatesGroup):
    text = State()


def _today(clock: Clock, settings: Settings) -> date:
    return clock.now().astimezone(settings.tz).date()


def _local(moment: datetime | None, settings: Settings) -> datetime | None:
    """Spreadsheets hold no time zone: the university's wall-clock time."""
    if moment is None:
        return None
    return moment.astimezone(settings.tz).replace(tzinfo=None)


def _plain(label: str) -> str:
    """A screen label without its leading emoji, for a spreadsheet cell."""
    head, _sep, tail = label.partition(" ")
    return tail if tail and not any(ch.isalnum() for ch in head) else label


async def _refuse(callback: CallbackQuery) -> None:
    await callback.answer(_("This is not available."), show_alert=True)


async def send_workbook(
    bot: Bot, chat_id: int, sheets: Sequence[Sheet], name: str, caption: str
) -> None:
    """Build the workbook in a worker thread and send it as a document."""
    if sum(len(sheet.rows) for sheet in sheets) >= LARGE_EXPORT_ROWS:
        await bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT)
    content = await asyncio.to_thread(workbook_bytes, sheets)
    await bot.send_document(chat_id, BufferedInputFile(content, filename=name), caption=caption)


async def _picture(
    bot: Bot, chat_id: int, chart: charts.StudentChart | charts.DistributionChart, locale: str
) -> bytes | None:
    """The chart's PNG, or None after telling the person the server cannot draw it."""
    try:
        return await charts.png(chart, locale)
    except FontNotFoundError:
        log.exception("chart font missing")
        await bot.send_message(
            chat_id, _("The chart cannot be drawn right now: its font is not installed.")
        )
        return None


# ---- a teacher's class -----------------------------------------------------------------------


async def _class_unit(
    session: AsyncSession,
    viewer: Viewer,
    today: date,
    discipline_id: int,
    group_id: int,
) -> tuple[AcademicPeriod, Discipline, Group] | None:
    """The current period, discipline and group if the viewer teaches them (staff: any)."""
    period = await journal_svc.current_period(session, today)
    if period is None:
        return None
    if not viewer.is_staff:
        if viewer.teacher_id is None or not await journal_svc.teaches(
            session, viewer.teacher_id, discipline_id, group_id, period.id
        ):
            return None
    discipline = await session.get(Discipline, discipline_id)
    group = await session.get(Group, group_id)
    if discipline is None or group is None:
        return None
    return period, discipline, group


def journal_sheets(
    found: data.GroupJournal, discipline: Discipline, group: Group, period: AcademicPeriod
) -> list[Sheet]:
    locale = current_locale()
    caption = [
        _("{discipline} · group {group}").format(
            discipline=discipline.name(locale), group=group.code
        ),
        period_title(period),
    ]
    columns = [
        Column("№"),
        Column(_("Student ID")),
        Column(_("Student")),
        Column(_("Current average"), MARK_FORMAT),
        Column(_("Midterm 1"), MARK_FORMAT),
        Column(_("Midterm 2"), MARK_FORMAT),
        Column(_("Admission rating"), MARK_FORMAT),
        Column(_("Exam"), MARK_FORMAT),
        Column(_("Final"), MARK_FORMAT),
        Column(_("Letter")),
        Column(_("Grade points"), MARK_FORMAT),
        Column(_("Traditional grade")),
    ]
    rows = []
    for index, line in enumerate((ln for ln in found.lines if ln.row is not None), start=1):
        row = line.row
        assert row is not None
        grade = row.grade
        rows.append(
            [
                index,
                line.student.student_no,
                line.user.full_name or line.user.login,
                row.current,
                row.midterm1,
                row.midterm2,
                row.admission,
                row.exam,
                row.final,
                grade.display if grade else None,
                grade.points if grade else None,
                traditional_label(grade.traditional) if grade else None,
            ]
        )
    marks = Sheet(
        title=_("Current marks"),
        caption=caption,
        columns=[
            Column(_("Student ID")),
            Column(_("Student")),
            Column(_("Date")),
            Column(_("Kind of work")),
            Column(_("Mark"), MARK_FORMAT),
        ],
        rows=[
            [m.student_no, m.name, m.on_date, work_kind_label(m.work_kind), m.value]
            for m in found.marks
        ],
    )
    return [Sheet(title=_("Journal"), caption=caption, columns=columns, rows=rows), marks]


async def on_journal(
    callback: CallbackQuery,
    callback_data: ExportCb,
    bot: Bot,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """📥 Journal (XLSX) on a teacher's discipline-and-group screen."""
    async with db.read() as session:
        unit = await _class_unit(
            session, viewer, _today(clock, settings), callback_data.x, callback_data.y
        )
        if unit is None:
            await _refuse(callback)
            return
        period, discipline, group = unit
        found = await data.group_journal(session, discipline.id, group.id, period.id)
    await callback.answer(_("Preparing the spreadsheet…"))
    sheets = journal_sheets(found, discipline, group, period)
    await send_workbook(
        bot,
        callback.from_user.id,
        sheets,
        file_name("journal", group.code, discipline.code, period.code),
        _("Journal of group {group}: {discipline}, {period}.").format(
            group=esc(group.code),
            discipline=esc(discipline.name(current_locale())),
            period=esc(period_title(period)),
        ),
    )


def preset_range(preset: str, today: date, period: AcademicPeriod) -> tuple[date, date]:
    if preset == "week":
        return today - timedelta(days=today.weekday()), today
    if preset == "month":
        return today.replace(day=1), today
    return period.starts_on, min(today, period.ends_on)


def parse_range(text: str) -> tuple[date, date] | str:
    """`dd.mm.yyyy–dd.mm.yyyy` as two dates, or the reason it is not a valid range."""
    match = _RANGE.match(text)
    if match is None:
        return _("Type the range as two dates, like 01.09.2026–30.09.2026.")
    try:
        d1, m1, y1, d2, m2, y2 = (int(part) for part in match.groups())
        start, end = date(y1, m1, d1), date(y2, m2, d2)
    except ValueError:
        return _("One of these dates does not exist. Check the day and the month.")
    if start > end:
        return _("The range starts after it ends. Put the earlier date first.")
    if (end - start).days >= MAX_RANGE_DAYS:
        return _("A range may span at most a year.")
    return start, end


def attendance_range_screen(discipline_id: int, group_id: int) -> tuple[str, InlineKeyboardMarkup]:
    from bot.keyboards.exports import export_button

    labels = (_("This week"), _("This month"), _("This period"))
    rows = [
        [export_button(label, "ax", discipline_id, group_id, index)]
        for index, label in enumerate(labels)
    ]
    rows.append([export_button(_("⌨️ Type the dates"), "at", discipline_id, group_id)])
    rows.append(
        [
            InlineKeyboardButton(
                text=_("« Group"),
                callback_data=TeacherCb(a="g", x=discipline_id, y=group_id).pack(),
            ),
            home_button(),
        ]
    )
    return _("📥 <b>Attendance (XLSX)</b>: which dates?"), InlineKeyboardMarkup(
        inline_keyboard=rows
    )


async def _may_open_class(
    callback: CallbackQuery,
    callback_data: ExportCb,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> bool:
    """Whether the viewer may export the pressed class (discipline x, group y); refuses if not."""
    async with db.read() as session:
        unit = await _class_unit(
            session, viewer, _today(clock, settings), callback_data.x, callback_data.y
        )
    if unit is None:
        await _refuse(callback)
    return unit is not None


async def on_attendance_ranges(
    callback: CallbackQuery,
    callback_data: ExportCb,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """📥 Attendance (XLSX): the choice of dates."""
    if not await _may_open_class(callback, callback_data, viewer, db, settings, clock):
        return
    await state.clear()
    await callback.answer()
    await show(callback, *attendance_range_screen(callback_data.x, callback_data.y))


async def on_attendance_type(
    callback: CallbackQuery,
    callback_data: ExportCb,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """⌨️ Type the dates: wait for a typed range."""
    if not await _may_open_class(callback, callback_data, viewer, db, settings, clock):
        return
    await state.set_state(AttendanceRange.text)
    await state.update_data(xp_discipline=callback_data.x, xp_group=callback_data.y)
    await callback.answer()
    await show(
        callback,
        _("Type the dates as dd.mm.yyyy–dd.mm.yyyy, for example 01.09.2026–30.09.2026."),
        InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("✖️ Cancel"),
                        callback_data=ExportCb(
                            a="ar", x=callback_data.x, y=callback_data.y
                        ).pack(),
                    )
                ]
            ]
        ),
    )


async def _attendance_export(
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
    discipline_id: int,
    group_id: int,
    preset: str | None,
    typed: tuple[date, date] | None,
) -> tuple[Sheet, str, str] | None:
    """The sheet, file name and caption of an attendance export; None if not the viewer's."""
    today = _today(clock, settings)
    async with db.read() as session:
        unit = await _class_unit(session, viewer, today, discipline_id, group_id)
        if unit is None:
            return None
        period, discipline, group = unit
        start, end = typed if typed is not None else preset_range(preset or "", today, period)
        sheet_data = await data.group_attendance(
            session,
            discipline_id=discipline.id,
            group_id=group.id,
            start=start,
            end=end,
            teacher_id=None if viewer.is_staff else viewer.teacher_id,
        )
    locale = current_locale()
    return (
        attendance_sheet(sheet_data, discipline, group, start, end),
        file_name("attendance", group.code, discipline.code, f"{start:%Y%m%d}", f"{end:%Y%m%d}"),
        _("Attendance of group {group}: {discipline}, {start} – {end}.").format(
            group=esc(group.code),
            discipline=esc(discipline.name(locale)),
            start=fmt_date(start, locale, "dd.MM.yyyy"),
            end=fmt_date(end, locale, "dd.MM.yyyy"),
        ),
    )


def attendance_sheet(
    found: data.AttendanceSheet, discipline: Discipline, group: Group, start: date, end: date
) -> Sheet:
    locale = current_locale()
    present_mark, absent_mark = "✓", _("abs.")
    columns = [Column(_("Student ID")), Column(_("Student"))]
    for held in found.classes:
        columns.append(
            Column(
                f"{held.on_date:%d.%m} {held.starts_at:%H:%M}\n{class_kind_label(held.kind)}",
                width=11,
            )
        )
    columns += [
        Column(_("Present")),
        Column(_("Absent")),
        Column(_("Attendance, %"), "0.0"),
    ]
    rows = []
    for line in found.lines:
        cells: list[object] = [line.student_no, line.name]
        for held in found.classes:
            state = line.marks.get(held.meeting_id)
            cells.append(None if state is None else present_mark if state else absent_mark)
        present = sum(1 for v in line.marks.values() if v)
        absent = sum(1 for v in line.marks.values() if not v)
        marked = present + absent
        cells += [present, absent, round(100 * present / marked, 1) if marked else None]
        rows.append(cells)
    caption = [
        _("{discipline} · group {group}").format(
            discipline=discipline.name(locale), group=group.code
        ),
        _("Classes from {start} to {end}: {n}. {present} present, {absent} absent.").format(
            start=fmt_date(start, locale, "dd.MM.yyyy"),
            end=fmt_date(end, locale, "dd.MM.yyyy"),
            n=len(found.classes),
            present=present_mark,
            absent=absent_mark,
        ),
    ]
    return Sheet(title=_("Attendance"), caption=caption, columns=columns, rows=rows)


async def on_attendance_preset(
    callback: CallbackQuery,
    callback_data: ExportCb,
    bot: Bot,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """This week / this month / this period on the attendance range screen."""
    if not 0 <= callback_data.r < len(PRESETS):
        await _refuse(callback)
        return
    export = await _attendance_export(
        viewer,
        db,
        settings,
        clock,
        callback_data.x,
        callback_data.y,
        PRESETS[callback_data.r],
        None,
    )
    if export is None:
        await _refuse(callback)
        return
    await callback.answer(_("Preparing the spreadsheet…"))
    sheet, name, caption = export
    await send_workbook(bot, callback.from_user.id, [sheet], name, caption)


async def on_attendance_text(
    message: Message,
    state: FSMContext,
    bot: Bot,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """The typed range of dates."""
    stored = await state.get_data()
    discipline_id, group_id = stored.get("xp_discipline"), stored.get("xp_group")
    if not isinstance(discipline_id, int) or not isinstance(group_id, int):
        await state.clear()
        await message.answer(_("This is not available."))
        return
    parsed = parse_range(message.text or "")
    if isinstance(parsed, str):
        await message.answer(
            parsed,
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text=_("✖️ Cancel"),
                            callback_data=ExportCb(a="ar", x=discipline_id, y=group_id).pack(),
                        )
                    ]
                ]
            ),
        )
        return
    await state.clear()
    export = await _attendance_export(
        viewer, db, settings, clock, discipline_id, group_id, None, parsed
    )
    if export is None:
        await message.answer(_("This is not available."))
        return
    sheet, name, caption = export
    await send_workbook(bot, message.chat.id, [sheet], name, caption)


async def on_attendance_not_text(message: Message) -> None:
    """Anything but text while a range of dates is expected."""
    await message.answer(_("Type the range as two dates, like 01.09.2026–30.09.2026."))


async def on_averages_chart(
    callback: CallbackQuery,
    callback_data: ExportCb,
    bot: Bot,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """📊 Averages chart on a teacher's discipline-and-group screen."""
    async with db.read() as session:
        unit = await _class_unit(
            session, viewer, _today(clock, settings), callback_data.x, callback_data.y
        )
        if unit is None:
            await _refuse(callback)
            return
        period, discipline, group = unit
        averages, without = await data.group_averages(session, discipline.id, group.id, period.id)
    await callback.answer(_("Drawing the chart…"))
    locale = current_locale()
    cfg = journal_svc.rules()
    mean = sum(averages) / len(averages) if averages else None
    subtitle = ngettext("{n} student with marks", "{n} students with marks", len(averages)).format(
        n=len(averages)
    )
    if without:
        subtitle += " · " + _("no marks yet: {n}").format(n=without)
    if mean is not None:
        subtitle += " · " + _("mean {value}").format(value=fmt_number(mean, locale, 1))
    chart = charts.DistributionChart(
        title=_("Current averages: {discipline}, {group}").format(
            discipline=discipline.name(locale), group=group.code
        ),
        subtitle=subtitle,
        bands=charts.band_counts(averages, cfg),
        count_axis=_("Students"),
        band_axis=_("Letter of the current average"),
        pass_label=_("pass mark {percent}").format(percent=cfg.pass_threshold),
        empty_text=_("No current marks yet."),
    )
    picture = await _picture(bot, callback.from_user.id, chart, locale)
    if picture is None:
        return
    await bot.send_photo(
        callback.from_user.id,
        BufferedInputFile(
            picture, filename=file_name("averages", group.code, discipline.code, ext="png")
        ),
        caption=_("Current averages of group {group}: {discipline}.").format(
            group=esc(group.code), discipline=esc(discipline.name(locale))
        ),
    )


# ---- a student's discipline ------------------------------------------------------------------


async def on_student_chart(
    callback: CallbackQuery,
    callback_data: ExportCb,
    bot: Bot,
    viewer: Viewer,
    db: Database,
) -> None:
    """📈 Chart on the student's discipline screen."""
    if viewer.student_id is None:
        await callback.answer(_("The journal is for students."), show_alert=True)
        return
    async with db.read() as session:
        detail = await journal_svc.discipline_detail(session, viewer.student_id, callback_data.x)
    if detail is None:
        await _refuse(callback)
        return
    await callback.answer(_("Drawing the chart…"))
    locale = current_locale()
    cfg = journal_svc.rules()
    limit = detail.absences.limit
    floor = float((1 - limit) * 100)
    weeks = charts.student_weeks(
        [(m.on_date, m.value) for m in detail.marks],
        [(a.on_date, a.present) for a in detail.attendance],
        lambda monday: fmt_date(monday, locale, "dd.MM"),
    )
    row = detail.row
    chart = charts.StudentChart(
        title=row.discipline.name(locale),
        subtitle=_("{period} · current average {current}").format(
            period=period_title(detail.period),
            current=fmt_number(row.current, locale) if row.current is not None else "—",
        ),
        weeks=weeks,
        thresholds=charts.letter_thresholds(cfg),
        attendance_floor=floor,
        marks_axis=_("Mark"),
        attendance_axis=_("Attendance, %"),
        weekly_label=_("Mean mark of the week"),
        running_label=_("Current average"),
        pass_label=_("pass mark {percent}").format(percent=cfg.pass_threshold),
        floor_label=_("Absence limit: attend at least {percent}%").format(
            percent=fmt_number(Decimal(str(floor)), locale, 0)
        ),
        empty_text=_("No marks or classes yet."),
    )
    picture = await _picture(bot, callback.from_user.id, chart, locale)
    if picture is None:
        return
    await bot.send_photo(
        callback.from_user.id,
        BufferedInputFile(picture, filename=f"chart-{row.discipline.code}.png"),
        caption=_("{discipline}: marks and attendance by week.").format(
            discipline=esc(row.discipline.name(locale))
        ),
    )


# ---- a test's results ------------------------------------------------------------------------


async def on_test_results(
    callback: CallbackQuery,
    callback_data: ExportCb,
    bot: Bot,
    viewer: Viewer,
    db: Database,
    settings: Settings,
) -> None:
    """📥 Results (XLSX) on a test's staff screen."""
    async with db.read() as session:
        test = await data.online_test(session, callback_data.x)
        if test is None:
            await _refuse(callback)
            return
        try:
            await testing_svc.check_discipline_rights(
                session, viewer.role, viewer.teacher_id, test.discipline_id
            )
        except DomainError:
            await _refuse(callback)
            return
        lines = await data.test_results(session, test.id)
    await callback.answer(_("Preparing the spreadsheet…"))
    locale = current_locale()
    columns = [
        Column(_("Student ID")),
        Column(_("Student")),
        Column(_("Group")),
        Column(_("Status")),
        Column(_("Attempts")),
        Column(_("Started")),
        Column(_("Finished")),
        Column(_("Score"), MARK_FORMAT),
        Column(_("Correct")),
        Column(_("Questions")),
        Column(_("Easy: correct")),
        Column(_("Easy: asked")),
        Column(_("Medium: correct")),
        Column(_("Medium: asked")),
        Column(_("Hard: correct")),
        Column(_("Hard: asked")),
    ]
    rows = []
    for line in lines:
        attempt = line.attempt
        if attempt is None:
            rows.append([line.student_no, line.name, line.group, _("not started yet"), 0])
            continue
        status = (
            _("attempt in progress") if attempt.status == AttemptStatus.open else _("finished")
        )
        rows.append(
            [
                line.student_no,
                line.name,
                line.group,
                status,
                line.attempts,
                _local(attempt.started_at, settings),
                _local(attempt.finished_at, settings),
                attempt.score,
                attempt.correct,
                attempt.total,
                attempt.easy_correct,
                attempt.easy_total,
                attempt.medium_correct,
                attempt.medium_total,
                attempt.hard_correct,
                attempt.hard_total,
            ]
        )
    caption = [
        test.name,
        _("{discipline} · {control}").format(
            discipline=test.discipline.name(locale), control=control_name(test.control)
        ),
    ]
    await send_workbook(
        bot,
        callback.from_user.id,
        [Sheet(title=_("Results"), caption=caption, columns=columns, rows=rows)],
        file_name("test", test.id, test.discipline.code, "results"),
        _("Results of the test «{name}».").format(name=esc(test.name)),
    )


# ---- an announcement's delivery report -------------------------------------------------------


def delivery_status_label(status: DeliveryStatus | None) -> str:
    if status is None:
        return _("not sent: announcements turned off")
    return {
        DeliveryStatus.pending: _("waiting"),
        DeliveryStatus.sending: _("waiting"),
        DeliveryStatus.sent: _("delivered"),
        DeliveryStatus.failed: _("failed"),
        DeliveryStatus.blocked: _("failed: the bot is blocked"),
        DeliveryStatus.skipped: _("not sent: no Telegram or expired"),
    }[status]


async def on_delivery_report(
    callback: CallbackQuery,
    callback_data: ExportCb,
    bot: Bot,
    viewer: Viewer,
    db: Database,
    settings: Settings,
) -> None:
    """📥 Delivery report (XLSX) on an announcement's delivery progress."""
    async with db.read() as session:
        message = await session.get(MailMessage, callback_data.x)
        if (
            message is None
            or message.kind != MessageKind.announcement
            or (message.sender_id != viewer.user_id and viewer.role != Role.admin)
        ):
            await _refuse(callback)
            return
        lines = await data.delivery_report(session, message)
        subject, sent_on = message.subject, message.created_at
    await callback.answer(_("Preparing the spreadsheet…"))
    columns = [
        Column(_("Recipient")),
        Column(_("Login")),
        Column(_("Group")),
        Column(_("Delivery")),
        Column(_("Delivered at")),
        Column(_("Read at")),
    ]
    rows = [
        [
            line.name,
            line.login,
            line.group,
            delivery_status_label(line.status),
            _local(line.sent_at, settings),
            _local(line.read_at, settings),
        ]
        for line in lines
    ]
    await send_workbook(
        bot,
        callback.from_user.id,
        [Sheet(title=_("Delivery"), caption=[subject], columns=columns, rows=rows)],
        file_name(
            "announcement", callback_data.x, f"{_local(sent_on, settings):%Y%m%d}", "delivery"
        ),
        _("Delivery report of «{subject}».").format(subject=esc(subject)),
    )


# ---- the requests queue ----------------------------------------------------------------------


async def on_queue(
    callback: CallbackQuery,
    callback_data: ExportCb,
    bot: Bot,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """📥 Export the queue (XLSX) on the requests queue screen."""
    locale = current_locale()
    async with db.read() as session:
        service_name = None
        if callback_data.x:
            service = await sc.get_service(session, callback_data.x, active=False)
            service_name = service.name(locale)
        requests = await data.requests_queue(session, callback_data.x or None)
    await callback.answer(_("Preparing the spreadsheet…"))
    columns = [
        Column(_("Number")),
        Column(_("Service")),
        Column(_("Status")),
        Column(_("Student")),
        Column(_("Student ID")),
        Column(_("Group")),
        Column(_("Submitted")),
        Column(_("Last change")),
        Column(_("Assigned to")),
    ]
    rows = []
    for request in requests:
        student = request.student
        rows.append(
            [
                request.number,
                request.service.name(locale),
                _plain(status_label(request.status)),
                student.user.full_name or student.user.login,
                student.student_no,
                student.group.code if student.group is not None else None,
                _local(request.submitted_at, settings),
                _local(request.updated_at, settings),
                request.assignee.full_name if request.assignee is not None else None,
            ]
        )
    caption = [
        _("Requests queue"),
        _("Service: {service}").format(service=service_name or _("all services")),
    ]
    await send_workbook(
        bot,
        callback.from_user.id,
        [Sheet(title=_("Requests"), caption=caption, columns=columns, rows=rows)],
        file_name(
            "requests",
            f"service-{callback_data.x}" if callback_data.x else "all",
            f"{_today(clock, settings):%Y%m%d}",
        ),
        _("Requests queue: {n}.").format(n=len(rows)),
    )


async def refuse_queue(callback: CallbackQuery) -> None:
    """A queue export pressed by someone who does not work the queue (or forged)."""
    await callback.answer(_("Only the service centre staff can do this."), show_alert=True)


# ---- wiring ----------------------------------------------------------------------------------


def get_router() -> Router:
    router = Router(name="exports")

    classes = Router(name="exports_classes")
    classes.callback_query.filter(SignedIn(*CLASS_ROLES))
    classes.message.filter(SignedIn(*CLASS_ROLES))
    classes.callback_query.register(on_journal, ExportCb.filter(F.a == "jx"))
    classes.callback_query.register(on_attendance_ranges, ExportCb.filter(F.a == "ar"))
    classes.callback_query.register(on_attendance_preset, ExportCb.filter(F.a == "ax"))
    classes.callback_query.register(on_attendance_type, ExportCb.filter(F.a == "at"))
    classes.callback_query.register(on_averages_chart, ExportCb.filter(F.a == "gc"))
    classes.message.register(
        on_attendance_text, StateFilter(AttendanceRange.text), F.text, ~F.text.startswith("/")
    )
    classes.message.register(on_attendance_not_text, StateFilter(AttendanceRange.text), ~F.text)

    tests = Router(name="exports_tests")
    tests.callback_query.filter(SignedIn(*CLASS_ROLES))
    tests.callback_query.register(on_test_results, ExportCb.filter(F.a == "tx"))

    announcements = Router(name="exports_announcements")
    announcements.callback_query.filter(SignedIn(Role.staff, Role.admin))
    announcements.callback_query.register(on_delivery_report, ExportCb.filter(F.a == "dx"))

    queue = Router(name="exports_queue")
    queue.callback_query.filter(SignedIn(*sc.PROCESSING_ROLES), HasSubRole("service_centre"))
    queue.callback_query.register(on_queue, ExportCb.filter(F.a == "qx"))
    queue_refusal = Router(name="exports_queue_refusal")
    queue_refusal.callback_query.register(refuse_queue, ExportCb.filter(F.a == "qx"))

    students = Router(name="exports_student_charts")
    students.callback_query.register(on_student_chart, ExportCb.filter(F.a == "sc"))

    for sub in (classes, tests, announcements, queue, queue_refusal, students):
        router.include_router(sub)
    return router


MODULE = Module(name="exports", router=get_router)
