"""The student's journal (§4.2, §12): marks of a period, a discipline's weekly marks, attendance
and the exam needed; the pushes about changed marks and the absence limit."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.delivery.render import Rendered, renderer
from bot.i18n import fmt_date, fmt_number
from bot.keyboards.academic import (
    JournalCb,
    class_kind_label,
    control_label,
    mark,
    nav_row,
    period_title,
    traditional_label,
    valid_page,
    work_kind_label,
)
from bot.keyboards.common import NavCb, home_button
from bot.keyboards.exports import student_chart_button
from bot.modules import MenuItem, Module
from bot.services import journal as svc
from bot.services.auth import Viewer
from bot.services.grading import ExamTarget, display_letter
from bot.ui import esc, show, split_text
from db.models import Role
from db.models.academic import WorkKind
from db.session import Database

ROWS_PER_PAGE = 6


def _locale(viewer: Viewer | None = None) -> str:
    return get_i18n().current_locale


def letter_text(row: svc.JournalRow) -> str:
    if row.grade is None:
        return "—"
    return _("{letter} · {points} · {traditional}").format(
        letter=row.grade.display,
        points=fmt_number(row.grade.points, _locale(), fixed=True),
        traditional=traditional_label(row.grade.traditional),
    )


def row_block(index: int, row: svc.JournalRow, locale: str) -> str:
    name = esc(row.discipline.name(locale))
    lines = [
        _("<b>{n}. {name}</b> · {credits} cr.").format(n=index, name=name, credits=row.credits),
        _("Cur. {current} · MT1 {m1} · MT2 {m2} · Adm. {admission}").format(
            current=mark(row.current, locale),
            m1=mark(row.midterm1, locale),
            m2=mark(row.midterm2, locale),
            admission=mark(row.admission, locale),
        ),
        _("Exam {exam} · Final {final} · {letter}").format(
            exam=mark(row.exam, locale), final=mark(row.final, locale), letter=letter_text(row)
        ),
    ]
    if row.exam_below_threshold:
        lines.append(_("⚠️ The exam is below the pass mark, so the course is failed."))
    return "\n".join(lines)


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
    locale = _locale(viewer)
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
            text = _("<b>Journal</b>\n\nThere are no disciplines in your journal yet.")
            return text, InlineKeyboardMarkup(inline_keyboard=[[home_button()]])
        summary = await svc.gpa_summary(session, viewer.student_id)
        rows = await svc.journal_rows(session, viewer.student_id, period.id)
    pages = max(1, -(-len(rows) // ROWS_PER_PAGE))
    page = min(page, pages - 1)
    shown = rows[page * ROWS_PER_PAGE : (page + 1) * ROWS_PER_PAGE]
    head = [
        _("📘 <b>Journal</b> · {period}").format(period=esc(period_title(period))),
        _(
            "<i>Cur. current average · MT midterm control · Adm. admission rating "
            "(midterms' mean) · Final = 0.6 × Adm. + 0.4 × Exam</i>"
        ),
    ]
    blocks = [row_block(page * ROWS_PER_PAGE + i + 1, row, locale) for i, row in enumerate(shown)]
    foot = _("Period GPA: {period_gpa} · Cumulative GPA: {gpa}").format(
        period_gpa=fmt_number(summary.period_gpa.get(period.id), locale, fixed=True) or "—",
        gpa=fmt_number(summary.cumulative, locale, fixed=True) or "—",
    )
    text = "\n\n".join(["\n".join(head), *blocks, foot])
    buttons = [
        [
            InlineKeyboardButton(
                text=f"{page * ROWS_PER_PAGE + i + 1}. {row.discipline.name(locale)}"[:60],
                callback_data=JournalCb(a="d", id=row.enrolment_id).pack(),
            )
        ]
        for i, row in enumerate(shown)
    ]
    pager = nav_row(JournalCb, page, pages, a="p", id=period.id)
    if pager:
        buttons.append(pager)
    if len(periods) > 1:
        buttons.append(
            [
                InlineKeyboardButton(
                    text=_("📅 Other periods"), callback_data=JournalCb(a="l").pack()
                )
            ]
        )
    buttons.append([home_button()])
    return text, InlineKeyboardMarkup(inline_keyboard=buttons)


def plan_block(detail: svc.DisciplineDetail, locale: str) -> str:
    plan = detail.plan
    row = detail.row
    title = _("<b>What the exam must be</b>")
    if plan.state == "graded":
        if row.passed:
            return (
                title
                + "\n"
                + _("The exam is in: final {final}, {letter}.").format(
                    final=mark(row.final, locale), letter=letter_text(row)
                )
            )
        return (
            title
            + "\n"
            + _("The exam is in: final {final}, {letter}. The course is failed.").format(
                final=mark(row.final, locale), letter=letter_text(row)
            )
        )
    if plan.state == "need_midterms":
        return title + "\n" + _("The plan appears once midterm 1 is set.")
    lines = [title]
    if plan.assumed_midterm2 is not None:
        lines.append(
            _(
                "Midterm 2 is not set yet: counted as {m2} (your current average so far), "
                "so the admission rating would be {admission}."
            ).format(
                m2=mark(plan.assumed_midterm2, locale), admission=mark(plan.admission, locale)
            )
        )
    else:
        lines.append(
            _("Admission rating: {admission}.").format(admission=mark(plan.admission, locale))
        )
    if not plan.pass_reachable:
        lines.append(
            _(
                "❗ A pass is out of reach: even 100 on the exam gives a final of {best}, "
                "below the pass mark."
            ).format(best=mark(plan.best_final, locale))
        )
        return "\n".join(lines)
    # Letters that need the same exam score share one line ("D – C+: at least 50").
    runs: list[list[ExamTarget]] = []
    for target in plan.targets:
        if runs and runs[-1][0].exam == target.exam and runs[-1][0].reachable == target.reachable:
            runs[-1].append(target)
        else:
            runs.append([target])
    for run in runs:
        letters = display_letter(run[0].letter)
        if len(run) > 1:
            letters += " – " + display_letter(run[-1].letter)
        if run is runs[0]:
            letters = _("pass ({letters})").format(letters=letters)
        if run[0].reachable:
            lines.append(
                _("• {letters}: at least {exam}").format(letters=letters, exam=run[0].exam)
            )
        else:
            lines.append(_("• {letters}: out of reach").format(letters=letters))
    return "\n".join(lines)


def marks_block(detail: svc.DisciplineDetail, locale: str) -> str:
    lines = [_("<b>Current marks by week</b>")]
    if not detail.marks:
        lines.append(_("No current marks yet."))
        return "\n".join(lines)
    weeks: dict[date, list[Any]] = defaultdict(list)
    for item in detail.marks:
        monday = date.fromordinal(item.on_date.toordinal() - item.on_date.weekday())
        weeks[monday].append(item)
    for monday, items in sorted(weeks.items()):
        lines.append(_("Week of {date}:").format(date=fmt_date(monday, locale)))
        for item in items:
            lines.append(
                "  {date} · {kind} · <b>{value}</b>".format(
                    date=fmt_date(item.on_date, locale, "short"),
                    kind=work_kind_label(item.work_kind),
                    value=fmt_number(item.value, locale),
                )
            )
    return "\n".join(lines)


def attendance_block(detail: svc.DisciplineDetail, locale: str) -> str:
    share = detail.absences
    lines = [_("<b>Attendance</b>")]
    if not detail.attendance:
        lines.append(_("No attendance recorded yet."))
        return "\n".join(lines)
    percent = share.share
    lines.append(
        _("Absences: {absent} of {held} classes held ({share} of the {planned} planned).").format(
            absent=share.absent,
            held=share.held,
            share=(fmt_number(percent * 100, locale, 1) + "%") if percent is not None else "—",
            planned=share.planned or share.held,
        )
    )
    if share.over_limit:
        lines.append(
            _("⚠️ You have reached the absence limit of {limit}%.").format(
                limit=fmt_number(share.limit * 100, locale, 0)
            )
        )
    for entry in detail.attendance:
        lines.append(
            "{icon} {date} {time} · {kind}".format(
                icon="✅" if entry.present else "❌",
                date=fmt_date(entry.on_date, locale, "short"),
                time=entry.slot.starts_at.strftime("%H:%M"),
                kind=class_kind_label(entry.slot.kind),
            )
        )
    return "\n".join(lines)


async def detail_screen(
    db: Database, viewer: Viewer, enrolment_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup] | None:
    locale = _locale(viewer)
    assert viewer.student_id is not None
    async with db.read() as session:
        detail = await svc.discipline_detail(session, viewer.student_id, enrolment_id)
    if detail is None:
        return None
    row = detail.row
    head = [
        _("📘 <b>{name}</b>").format(name=esc(row.discipline.name(locale))),
        _("{period} · {credits} credits").format(
            period=esc(period_title(detail.period)), credits=row.credits
        ),
    ]
    if detail.teacher_name:
        head.append(_("Teacher: {name}").format(name=esc(detail.teacher_name)))
    head.append("")
    head.append(row_block(0, row, locale).split("\n", 1)[1])
    blocks = [
        "\n".join(head),
        plan_block(detail, locale),
        marks_block(detail, locale),
        attendance_block(detail, locale),
    ]
    pages = split_text(["\n\n".join(blocks[:2]), *blocks[2:]])
    page = min(page, len(pages) - 1)
    buttons = []
    pager = nav_row(JournalCb, page, len(pages), a="d", id=enrolment_id)
    if pager:
        buttons.append(pager)
    buttons.append([student_chart_button(enrolment_id)])
    buttons.append(
        [
            InlineKeyboardButton(
                text=_("« Back"), callback_data=JournalCb(a="p", id=detail.period.id).pack()
            ),
            home_button(),
        ]
    )
    return pages[page], InlineKeyboardMarkup(inline_keyboard=buttons)


async def periods_screen(db: Database, viewer: Viewer) -> tuple[str, InlineKeyboardMarkup]:
    assert viewer.student_id is not None
    async with db.read() as session:
        periods = await svc.student_periods(session, viewer.student_id)
        summary = await svc.gpa_summary(session, viewer.student_id)
    locale = _locale(viewer)
    buttons = []
    for period in reversed(periods):
        gpa = summary.period_gpa.get(period.id)
        label = period_title(period)
        if gpa is not None:
            label += " · GPA " + fmt_number(gpa, locale, fixed=True)
        buttons.append(
            [InlineKeyboardButton(text=label, callback_data=JournalCb(a="p", id=period.id).pack())]
        )
    buttons.append([home_button()])
    return _("📅 <b>Choose a period</b>"), InlineKeyboardMarkup(inline_keyboard=buttons)


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


async def on_journal(
    callback: CallbackQuery,
    callback_data: JournalCb,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """Any journal button: a period's page, a discipline, the list of periods."""
    if viewer.student_id is None:
        await not_a_student(callback)
        return
    if not valid_page(callback_data.pg):
        await callback.answer(_("This button is no longer available."), show_alert=True)
        return
    screen: tuple[str, InlineKeyboardMarkup] | None
    if callback_data.a == "p":
        screen = await journal_screen(
            db, viewer, settings, clock, callback_data.id, callback_data.pg
        )
    elif callback_data.a == "d":
        screen = await detail_screen(db, viewer, callback_data.id, callback_data.pg)
    elif callback_data.a == "l":
        screen = await periods_screen(db, viewer)
    else:
        screen = None
    if screen is None:
        await callback.answer(_("This is not available."), show_alert=True)
        return
    await callback.answer()
    await show(callback, *screen)


def get_router() -> Router:
    router = Router(name="journal")
    router.callback_query.register(on_open, NavCb.filter(F.to == "journal"))
    router.callback_query.register(on_journal, JournalCb.filter())
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


# ---- pushes ----------------------------------------------------------------------------------


def _name(params: dict[str, Any], locale: str) -> str:
    names = params.get("discipline") or {}
    if isinstance(names, dict):
        return str(names.get(locale) or names.get("ru") or names.get("en") or "")
    return str(names)


def _num(value: Any, locale: str) -> str:
    if value is None:
        return "—"
    try:
        return fmt_number(Decimal(str(value)), locale)
    except ArithmeticError:
        return esc(value)


@renderer("journal.mark_changed")
def render_mark_changed(params: dict[str, Any], locale: str) -> Rendered:
    name = esc(_name(params, locale))
    control = str(params.get("control", ""))
    if control == "current":
        kind = params.get("work_kind")
        what = _("New current mark{kind}: {new}. Current average: {average}.").format(
            kind=f" ({work_kind_label(kind)})" if kind in {k.value for k in WorkKind} else "",
            new=_num(params.get("new"), locale),
            average=_num(params.get("average"), locale),
        )
    elif params.get("old") is None:
        what = _("{control}: {new}.").format(
            control=control_label(control).capitalize(), new=_num(params.get("new"), locale)
        )
    else:
        what = _("{control}: {old} → {new}.").format(
            control=control_label(control).capitalize(),
            old=_num(params.get("old"), locale),
            new=_num(params.get("new"), locale),
        )
    final = params.get("final")
    if final is None:
        tail = _("Final grade: not yet (the exam is pending).")
    else:
        letter = str(params.get("letter") or "").replace("-", "−")
        tail = _("Final grade: {final} ({letter}).").format(
            final=_num(final, locale), letter=esc(letter)
        )
    text = _("📘 <b>{discipline}</b>").format(discipline=name) + "\n" + what + "\n" + tail
    buttons: list[list[InlineKeyboardButton]] = []
    enrolment_id = params.get("enrolment_id")
    if isinstance(enrolment_id, int):
        buttons.append(
            [
                InlineKeyboardButton(
                    text=_("Open in the journal"),
                    callback_data=JournalCb(a="d", id=enrolment_id).pack(),
                )
            ]
        )
    return Rendered(text=text, buttons=buttons)


@renderer("journal.absence_limit")
def render_absence_limit(params: dict[str, Any], locale: str) -> Rendered:
    text = _(
        "⚠️ <b>{discipline}</b>: {absent} absences of {base} classes. You have reached the "
        "absence limit of {limit}%: talk to your advisor or the dean's office."
    ).format(
        discipline=esc(_name(params, locale)),
        absent=int(params.get("absent", 0)),
        base=int(params.get("base", 0)),
        limit=int(params.get("limit", 0)),
    )
    return Rendered(text=text)
