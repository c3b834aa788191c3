"""The journal's screens (a period's table, a discipline, the periods) and its pushes (a
changed mark, the absence limit reached)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

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
    work_kind_label,
)
from bot.keyboards.common import home_button
from bot.keyboards.exports import student_chart_button
from bot.services import journal as svc
from bot.services.grading import ExamTarget, display_letter
from bot.ui import esc, split_text
from bot.views.common import current_locale, num
from db.models import AcademicPeriod
from db.models.academic import WorkKind


def _name(params: dict[str, Any], locale: str) -> str:
    names = params.get("discipline") or {}
    if isinstance(names, dict):
        return str(names.get(locale) or names.get("ru") or names.get("en") or "")
    return str(names)


@renderer("journal.mark_changed")
def render_mark_changed(params: dict[str, Any], locale: str) -> Rendered:
    name = esc(_name(params, locale))
    control = str(params.get("control", ""))
    if control == "current":
        kind = params.get("work_kind")
        what = _("New current mark{kind}: {new}. Current average: {average}.").format(
            kind=f" ({work_kind_label(kind)})" if kind in {k.value for k in WorkKind} else "",
            new=num(params.get("new"), locale),
            average=num(params.get("average"), locale),
        )
    elif params.get("old") is None:
        what = _("{control}: {new}.").format(
            control=control_label(control).capitalize(), new=num(params.get("new"), locale)
        )
    else:
        what = _("{control}: {old} → {new}.").format(
            control=control_label(control).capitalize(),
            old=num(params.get("old"), locale),
            new=num(params.get("new"), locale),
        )
    final = params.get("final")
    if final is None:
        tail = _("Final grade: not yet (the exam is pending).")
    else:
        letter = str(params.get("letter") or "").replace("-", "−")
        tail = _("Final grade: {final} ({letter}).").format(
            final=num(final, locale), letter=esc(letter)
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


# ---- the student's journal screens -----------------------------------------------------------

ROWS_PER_PAGE = 6


def letter_text(row: svc.JournalRow) -> str:
    if row.grade is None:
        return "—"
    return _("{letter} · {points} · {traditional}").format(
        letter=row.grade.display,
        points=fmt_number(row.grade.points, current_locale(), fixed=True),
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


def empty_journal() -> tuple[str, InlineKeyboardMarkup]:
    """The journal of a student with no disciplines yet."""
    text = _("<b>Journal</b>\n\nThere are no disciplines in your journal yet.")
    return text, InlineKeyboardMarkup(inline_keyboard=[[home_button()]])


def journal_page(
    period: AcademicPeriod,
    rows: list[svc.JournalRow],
    summary: svc.GpaSummary,
    page: int,
    *,
    other_periods: bool,
    locale: str,
) -> tuple[str, InlineKeyboardMarkup]:
    """A page of one period's table, the GPAs below it, a button per discipline."""
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
    if other_periods:
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


def discipline_page(
    detail: svc.DisciplineDetail, enrolment_id: int, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    """One discipline: marks, the exam needed, weekly marks and attendance, in pages."""
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


def periods_page(
    periods: list[AcademicPeriod], summary: svc.GpaSummary, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    """The student's periods, newest first, each with its GPA."""
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
