"""The teacher's journal: their disciplines and groups in the current period, a student's marks
(midterm 1, midterm 2, exam, current marks) and attendance at a class.

Teachers touch only what they teach (the enrolment's teacher, or a timetable slot of theirs for
that group and discipline); staff and administrators may open every class. Every press is checked
on the server again: the ids in the buttons prove nothing.
"""

from __future__ import annotations

from datetime import date, timedelta

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from bot.clock import Clock
from bot.config import Settings
from bot.handlers.grade_sheet import grade_sheet_button
from bot.i18n import fmt_date, fmt_number
from bot.keyboards.academic import (
    TeacherCb,
    class_kind_label,
    control_label,
    mark,
    nav_row,
    period_title,
    valid_page,
    work_kind_label,
)
from bot.keyboards.common import NavCb, home_button
from bot.keyboards.exports import class_export_rows
from bot.modules import MenuItem, Module
from bot.services import journal as svc
from bot.services import timetable as tt
from bot.services.auth import Viewer
from bot.services.errors import DomainError
from bot.ui import esc, show
from db.models import Discipline, Group, Role, Student, User
from db.models.academic import ClassMeeting, Enrolment, TimetableSlot, WorkKind
from db.session import Database

STAFF_ROLES = frozenset({Role.teacher, Role.staff, Role.admin})
UNITS_PER_PAGE = 10
STUDENTS_PER_PAGE = 12
RECENT_DAYS = 21
CURRENT_KINDS = (WorkKind.practice, WorkKind.lab, WorkKind.srs, WorkKind.srop, WorkKind.lecture)


class TeacherMarks(StatesGroup):
    value = State()


def _today(clock: Clock, settings: Settings) -> date:
    return clock.now().astimezone(settings.tz).date()


def _may_use(viewer: Viewer) -> bool:
    return viewer.is_staff or (viewer.role == Role.teacher and viewer.teacher_id is not None)


def _person(user: User) -> str:
    return " ".join(p for p in (user.last_name, user.first_name) if p) or user.login


def _back(text: str, cb: TeacherCb) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(text=text, callback_data=cb.pack()), home_button()]


# ---- screens ---------------------------------------------------------------------------------


async def units_screen(
    db: Database, viewer: Viewer, settings: Settings, clock: Clock, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    locale = get_i18n().current_locale
    async with db.read() as session:
        period = await svc.current_period(session, _today(clock, settings))
        units = (
            await svc.teaching_units(
                session, None if viewer.is_staff else viewer.teacher_id, period.id
            )
            if period is not None
            else []
        )
    if period is None or not units:
        text = _("📒 <b>My classes</b>\n\nYou have no classes in the current period.")
        return text, InlineKeyboardMarkup(inline_keyboard=[[home_button()]])
    pages = max(1, -(-len(units) // UNITS_PER_PAGE))
    page = min(page, pages - 1)
    shown = units[page * UNITS_PER_PAGE : (page + 1) * UNITS_PER_PAGE]
    text = _("📒 <b>My classes</b> · {period}\n\nChoose a discipline and group:").format(
        period=esc(period_title(period))
    )
    buttons = [
        [
            InlineKeyboardButton(
                text=f"{unit.group.code} · {unit.discipline.name(locale)}"[:64],
                callback_data=TeacherCb(a="g", x=unit.discipline.id, y=unit.group.id).pack(),
            )
        ]
        for unit in shown
    ]
    pager = nav_row(TeacherCb, page, pages, a="u")
    if pager:
        buttons.append(pager)
    buttons.append([home_button()])
    return text, InlineKeyboardMarkup(inline_keyboard=buttons)


async def _unit_allowed(
    session: object, viewer: Viewer, discipline_id: int, group_id: int, period_id: int
) -> bool:
    if viewer.is_staff:
        return True
    assert viewer.teacher_id is not None
    return await svc.teaches(session, viewer.teacher_id, discipline_id, group_id, period_id)  # type: ignore[arg-type]


async def unit_screen(
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
    discipline_id: int,
    group_id: int,
    page: int,
) -> tuple[str, InlineKeyboardMarkup] | None:
    locale = get_i18n().current_locale
    async with db.read() as session:
        period = await svc.current_period(session, _today(clock, settings))
        if period is None or not await _unit_allowed(
            session, viewer, discipline_id, group_id, period.id
        ):
            return None
        discipline = await session.get(Discipline, discipline_id)
        group = await session.get(Group, group_id)
        if discipline is None or group is None:
            return None
        lines = await svc.roster(session, discipline_id, group_id, period.id)
    enrolled = [line for line in lines if line.row is not None]
    pages = max(1, -(-len(enrolled) // STUDENTS_PER_PAGE))
    page = min(page, pages - 1)
    shown = enrolled[page * STUDENTS_PER_PAGE : (page + 1) * STUDENTS_PER_PAGE]
    text_lines = [
        _("📒 <b>{discipline}</b> · group {group}").format(
            discipline=esc(discipline.name(locale)), group=esc(group.code)
        ),
        esc(period_title(period)),
        "",
    ]
    if not enrolled:
        text_lines.append(_("No student of this group is enrolled in the discipline."))
    for index, line in enumerate(shown, start=page * STUDENTS_PER_PAGE + 1):
        row = line.row
        assert row is not None
        text_lines.append(
            _(
                "{n}. {name}: cur. {current} · MT1 {m1} · MT2 {m2} · exam {exam} · final {final}"
            ).format(
                n=index,
                name=esc(_person(line.user)),
                current=mark(row.current, locale),
                m1=mark(row.midterm1, locale),
                m2=mark(row.midterm2, locale),
                exam=mark(row.exam, locale),
                final=mark(row.final, locale),
            )
        )
    buttons = [
        [
            InlineKeyboardButton(
                text=f"{index}. {_person(line.user)}"[:64],
                callback_data=TeacherCb(a="s", x=line.row.enrolment_id).pack(),  # type: ignore[union-attr]
            )
        ]
        for index, line in enumerate(shown, start=page * STUDENTS_PER_PAGE + 1)
    ]
    pager = nav_row(TeacherCb, page, pages, a="g", x=discipline_id, y=group_id)
    if pager:
        buttons.append(pager)
    buttons.append(
        [
            InlineKeyboardButton(
                text=_("📋 Attendance"),
                callback_data=TeacherCb(a="c", x=discipline_id, y=group_id).pack(),
            )
        ]
    )
    buttons += class_export_rows(discipline_id, group_id)
    buttons.append([grade_sheet_button(discipline_id, group_id)])
    buttons.append(_back(_("« My classes"), TeacherCb(a="u")))
    return "\n".join(text_lines), InlineKeyboardMarkup(inline_keyboard=buttons)


async def _load_enrolment(session: object, viewer: Viewer, enrolment_id: int) -> Enrolment | None:
    """The enrolment if the viewer may grade it."""
    enrolment = await session.scalar(  # type: ignore[attr-defined]
        select(Enrolment)
        .where(Enrolment.id == enrolment_id)
        .options(
            joinedload(Enrolment.discipline),
            joinedload(Enrolment.period),
            joinedload(Enrolment.student).joinedload(Student.user),
            joinedload(Enrolment.student).joinedload(Student.group),
        )
    )
    if enrolment is None:
        return None
    allowed = await svc.may_grade(
        session,  # type: ignore[arg-type]
        teacher_id=viewer.teacher_id,
        is_staff=viewer.is_staff,
        enrolment=enrolment,
    )
    return enrolment if allowed else None


async def student_screen(
    db: Database, viewer: Viewer, enrolment_id: int, notice: str | None = None
) -> tuple[str, InlineKeyboardMarkup] | None:
    locale = get_i18n().current_locale
    async with db.read() as session:
        enrolment = await _load_enrolment(session, viewer, enrolment_id)
        if enrolment is None:
            return None
        detail = await svc.discipline_detail(session, enrolment.student_id, enrolment.id)
    assert detail is not None
    row = detail.row
    student = enrolment.student
    lines = []
    if notice:
        lines += [notice, ""]
    lines += [
        _("👤 <b>{name}</b> · {student_no} · group {group}").format(
            name=esc(student.user.full_name),
            student_no=esc(student.student_no),
            group=esc(student.group.code),
        ),
        _("{discipline} · {period}").format(
            discipline=esc(enrolment.discipline.name(locale)),
            period=esc(period_title(enrolment.period)),
        ),
        "",
        _("Midterm 1: {m1} · Midterm 2: {m2} · Exam: {exam}").format(
            m1=mark(row.midterm1, locale),
            m2=mark(row.midterm2, locale),
            exam=mark(row.exam, locale),
        ),
        _("Admission: {admission} · Final: {final} · {letter}").format(
            admission=mark(row.admission, locale),
            final=mark(row.final, locale),
            letter=row.grade.display if row.grade else "—",
        ),
        _("Current average: {current} · absences: {absent} of {held}").format(
            current=mark(row.current, locale),
            absent=detail.absences.absent,
            held=detail.absences.held,
        ),
    ]
    if detail.marks:
        lines += ["", _("<b>Latest current marks</b>")]
        for item in detail.marks[-8:]:
            lines.append(
                f"{fmt_date(item.on_date, locale, 'short')} · {work_kind_label(item.work_kind)}"
                f" · {fmt_number(item.value, locale)}"
            )
    buttons = [
        [
            InlineKeyboardButton(
                text=_("✏️ Midterm 1"), callback_data=TeacherCb(a="e", x=enrolment.id, y=0).pack()
            ),
            InlineKeyboardButton(
                text=_("✏️ Midterm 2"), callback_data=TeacherCb(a="e", x=enrolment.id, y=1).pack()
            ),
            InlineKeyboardButton(
                text=_("✏️ Exam"), callback_data=TeacherCb(a="e", x=enrolment.id, y=2).pack()
            ),
        ],
        [
            InlineKeyboardButton(
                text=_("➕ Current mark"), callback_data=TeacherCb(a="k", x=enrolment.id).pack()
            )
        ],
        _back(
            _("« Group"),
            TeacherCb(a="g", x=enrolment.discipline_id, y=student.group_id),
        ),
    ]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=buttons)


def kinds_screen(enrolment_id: int) -> tuple[str, InlineKeyboardMarkup]:
    buttons = [
        [
            InlineKeyboardButton(
                text=work_kind_label(kind),
                callback_data=TeacherCb(a="e", x=enrolment_id, y=10 + index).pack(),
            )
        ]
        for index, kind in enumerate(CURRENT_KINDS)
    ]
    buttons.append(_back(_("« Back"), TeacherCb(a="s", x=enrolment_id)))
    return _("What is the current mark for?"), InlineKeyboardMarkup(inline_keyboard=buttons)


def _control_of(code: int) -> tuple[str, WorkKind | None] | None:
    if 0 <= code < len(svc.CONTROLS):
        return svc.CONTROLS[code], None
    if 10 <= code < 10 + len(CURRENT_KINDS):
        return "current", CURRENT_KINDS[code - 10]
    return None


async def classes_screen(
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
    discipline_id: int,
    group_id: int,
) -> tuple[str, InlineKeyboardMarkup] | None:
    locale = get_i18n().current_locale
    today = _today(clock, settings)
    async with db.read() as session:
        period = await svc.current_period(session, today)
        if period is None or not await _unit_allowed(
            session, viewer, discipline_id, group_id, period.id
        ):
            return None
        days = await tt.classes_between(
            session, today - timedelta(days=RECENT_DAYS), today, group_id=group_id
        )
    items = [
        item
        for day_items in days.values()
        for item in day_items
        if item.slot.discipline_id == discipline_id
        and (viewer.is_staff or item.slot.teacher_id == viewer.teacher_id)
    ]
    items.sort(key=lambda i: (i.on_date, i.slot.starts_at), reverse=True)
    text = _("📋 <b>Attendance</b>: choose a class (the last three weeks).")
    if not items:
        text += "\n\n" + _("No classes of yours in this period so far.")
    buttons = [
        [
            InlineKeyboardButton(
                text=(
                    f"{fmt_date(item.on_date, locale, 'short')} "
                    f"{item.slot.starts_at.strftime('%H:%M')} · {class_kind_label(item.slot.kind)}"
                )[:64],
                callback_data=TeacherCb(a="m", x=item.slot.id, y=item.on_date.toordinal()).pack(),
            )
        ]
        for item in items[:15]
    ]
    buttons.append(_back(_("« Group"), TeacherCb(a="g", x=discipline_id, y=group_id)))
    return text, InlineKeyboardMarkup(inline_keyboard=buttons)


async def _slot_for_viewer(
    session: object, viewer: Viewer, slot_id: int, on_date: date, today: date
) -> TimetableSlot | None:
    if on_date > today:
        return None
    found = await tt.slot_on(session, slot_id, on_date)  # type: ignore[arg-type]
    if found is None:
        return None
    slot, _period = found
    if not viewer.is_staff and slot.teacher_id != viewer.teacher_id:
        return None
    return slot


async def meeting_screen(
    db: Database, viewer: Viewer, meeting_id: int
) -> tuple[str, InlineKeyboardMarkup] | None:
    locale = get_i18n().current_locale
    async with db.read() as session:
        meeting = await session.scalar(
            select(ClassMeeting)
            .where(ClassMeeting.id == meeting_id)
            .options(
                joinedload(ClassMeeting.slot).joinedload(TimetableSlot.discipline),
                joinedload(ClassMeeting.slot).joinedload(TimetableSlot.group),
            )
        )
        if meeting is None:
            return None
        slot = meeting.slot
        if not viewer.is_staff and slot.teacher_id != viewer.teacher_id:
            return None
        students = list(
            (
                await session.execute(
                    select(Student, User)
                    .join(User, User.id == Student.user_id)
                    .where(Student.group_id == slot.group_id)
                    .order_by(User.last_name, User.first_name, Student.id)
                )
            ).all()
        )
        marks = await svc.meeting_marks(session, meeting.id)
    present = sum(1 for v in marks.values() if v)
    absent = sum(1 for v in marks.values() if not v)
    text = "\n".join(
        [
            _("📋 <b>{discipline}</b> · group {group}").format(
                discipline=esc(slot.discipline.name(locale)), group=esc(slot.group.code)
            ),
            _("{date} {time} · {kind}").format(
                date=fmt_date(meeting.on_date, locale),
                time=slot.starts_at.strftime("%H:%M"),
                kind=class_kind_label(slot.kind),
            ),
            "",
            _("Present: {present} · absent: {absent} · not marked: {rest}").format(
                present=present, absent=absent, rest=len(students) - present - absent
            ),
            _("Tap a student to switch between present ✅ and absent ❌."),
        ]
    )
    buttons = []
    for student, user in students[:60]:
        state = marks.get(student.id)
        icon = "✅" if state else ("❌" if state is False else "▫️")
        buttons.append(
            [
                InlineKeyboardButton(
                    text=f"{icon} {_person(user)}"[:64],
                    callback_data=TeacherCb(a="t", x=meeting.id, y=student.id).pack(),
                )
            ]
        )
    buttons.append(
        [
            InlineKeyboardButton(
                text=_("✅ Everyone else present"),
                callback_data=TeacherCb(a="all", x=meeting.id).pack(),
            )
        ]
    )
    buttons.append(_back(_("« Classes"), TeacherCb(a="c", x=slot.discipline_id, y=slot.group_id)))
    return text, InlineKeyboardMarkup(inline_keyboard=buttons)


async def _meeting_allowed(
    session: object, viewer: Viewer, meeting_id: int
) -> ClassMeeting | None:
    meeting = await session.scalar(  # type: ignore[attr-defined]
        select(ClassMeeting)
        .where(ClassMeeting.id == meeting_id)
        .options(joinedload(ClassMeeting.slot))
    )
    if meeting is None:
        return None
    if not viewer.is_staff and meeting.slot.teacher_id != viewer.teacher_id:
        return None
    return meeting


# ---- handlers --------------------------------------------------------------------------------


async def _refuse(callback: CallbackQuery) -> None:
    await callback.answer(_("This is not available."), show_alert=True)


async def on_open(
    callback: CallbackQuery,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """The My classes button of the home screen."""
    if not _may_use(viewer):
        await callback.answer(_("This section is for teachers."), show_alert=True)
        return
    await state.clear()
    await callback.answer()
    await show(callback, *await units_screen(db, viewer, settings, clock, 0))


async def on_teacher(
    callback: CallbackQuery,
    callback_data: TeacherCb,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """Every button of the teacher's journal."""
    if not _may_use(viewer):
        await callback.answer(_("This section is for teachers."), show_alert=True)
        return
    if not valid_page(callback_data.pg):
        await _refuse(callback)
        return
    action, x, y = callback_data.a, callback_data.x, callback_data.y
    screen: tuple[str, InlineKeyboardMarkup] | None = None
    if action != "e":
        await state.clear()
    if action == "u":
        screen = await units_screen(db, viewer, settings, clock, callback_data.pg)
    elif action == "g":
        screen = await unit_screen(db, viewer, settings, clock, x, y, callback_data.pg)
    elif action == "s":
        screen = await student_screen(db, viewer, x)
    elif action == "k":
        async with db.read() as session:
            allowed = await _load_enrolment(session, viewer, x) is not None
        screen = kinds_screen(x) if allowed else None
    elif action == "e":
        screen = await _ask_value(state, db, viewer, x, y)
    elif action == "c":
        screen = await classes_screen(db, viewer, settings, clock, x, y)
    elif action == "m":
        screen = await _open_meeting(db, viewer, settings, clock, x, y)
    elif action in ("t", "all"):
        screen = await _mark(db, viewer, clock, x, y, everyone=action == "all")
    if screen is None:
        await _refuse(callback)
        return
    await callback.answer()
    await show(callback, *screen)


async def _ask_value(
    state: FSMContext, db: Database, viewer: Viewer, enrolment_id: int, code: int
) -> tuple[str, InlineKeyboardMarkup] | None:
    control = _control_of(code)
    if control is None:
        return None
    async with db.read() as session:
        enrolment = await _load_enrolment(session, viewer, enrolment_id)
    if enrolment is None:
        return None
    name, kind = control
    await state.set_state(TeacherMarks.value)
    await state.update_data(
        tj_enrolment=enrolment_id, tj_control=name, tj_kind=kind.value if kind else None
    )
    what = work_kind_label(kind) if kind else control_label(name)
    text = _(
        "Type the mark for <b>{what}</b> of {student}: a number from 0 to 100 (85, 85.5 or 85,5)."
    ).format(what=what, student=esc(enrolment.student.user.full_name))
    if kind is None:
        text += "\n" + _("Send a dash (-) to clear the mark.")
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("✖️ Cancel"), callback_data=TeacherCb(a="s", x=enrolment_id).pack()
                )
            ]
        ]
    )
    return text, markup


async def _open_meeting(
    db: Database, viewer: Viewer, settings: Settings, clock: Clock, slot_id: int, ordinal: int
) -> tuple[str, InlineKeyboardMarkup] | None:
    if not date(2000, 1, 1).toordinal() <= ordinal <= date(2100, 1, 1).toordinal():
        return None
    on_date = date.fromordinal(ordinal)
    async with db.write() as session:
        slot = await _slot_for_viewer(session, viewer, slot_id, on_date, _today(clock, settings))
        if slot is None:
            return None
        meeting = await tt.meeting_for(session, slot.id, on_date)
        meeting_id = meeting.id
    return await meeting_screen(db, viewer, meeting_id)


async def _mark(
    db: Database, viewer: Viewer, clock: Clock, meeting_id: int, student_id: int, *, everyone: bool
) -> tuple[str, InlineKeyboardMarkup] | None:
    now = clock.now()
    async with db.write() as session:
        meeting = await _meeting_allowed(session, viewer, meeting_id)
        if meeting is None:
            return None
        marks = await svc.meeting_marks(session, meeting.id)
        if everyone:
            members = await session.scalars(
                select(Student.id).where(Student.group_id == meeting.slot.group_id)
            )
            for member in list(members):
                if member not in marks:
                    await svc.mark_attendance(
                        session,
                        meeting_id=meeting.id,
                        student_id=member,
                        present=True,
                        source="teacher",
                        now=now,
                    )
        else:
            member = await session.scalar(
                select(Student.id).where(
                    Student.id == student_id, Student.group_id == meeting.slot.group_id
                )
            )
            if member is None:
                return None
            await svc.mark_attendance(
                session,
                meeting_id=meeting.id,
                student_id=member,
                present=not marks.get(member, False),
                source="teacher",
                now=now,
            )
    return await meeting_screen(db, viewer, meeting_id)


async def on_value(
    message: Message,
    state: FSMContext,
    viewer: Viewer,
    db: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """The typed mark."""
    data = await state.get_data()
    enrolment_id = data.get("tj_enrolment")
    control = data.get("tj_control")
    kind = data.get("tj_kind")
    if not isinstance(enrolment_id, int) or control not in (*svc.CONTROLS, "current"):
        await state.clear()
        await message.answer(_("This is not available."))
        return
    text = (message.text or "").strip()
    clear = control != "current" and text in {"-", "—", "–"}
    value = None if clear else svc.parse_mark(text)
    if value is None and not clear:
        await message.answer(
            _("A mark is a number from 0 to 100, like 85 or 85,5. Try again:"),
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text=_("✖️ Cancel"),
                            callback_data=TeacherCb(a="s", x=enrolment_id).pack(),
                        )
                    ]
                ]
            ),
        )
        return
    now = clock.now()
    try:
        async with db.write() as session:
            enrolment = await _load_enrolment(session, viewer, enrolment_id)
            if enrolment is None:
                raise DomainError("not_yours", lambda: _("This is not available."))
            if control == "current":
                await svc.add_current_mark(
                    session,
                    student_id=enrolment.student_id,
                    discipline_id=enrolment.discipline_id,
                    period_id=enrolment.period_id,
                    value=value,
                    work_kind=str(kind),
                    on_date=_today(clock, settings),
                    now=now,
                    author_user_id=viewer.user_id,
                )
                changed = True
            else:
                change = await svc.set_control_mark(
                    session,
                    student_id=enrolment.student_id,
                    discipline_id=enrolment.discipline_id,
                    period_id=enrolment.period_id,
                    control=control,
                    value=value,
                    now=now,
                    author_user_id=viewer.user_id,
                )
                changed = change is not None
    except DomainError as exc:
        await state.clear()
        await message.answer(exc.user_message() or _("This is not available."))
        return
    await state.clear()
    notice = _("✅ Saved. The student has been notified.") if changed else _("Nothing changed.")
    screen = await student_screen(db, viewer, enrolment_id, notice)
    if screen is not None:
        await message.answer(screen[0], reply_markup=screen[1])


async def on_not_text(message: Message) -> None:
    """Anything but text while a mark is expected."""
    await message.answer(_("Please type the mark as a number from 0 to 100."))


def get_router() -> Router:
    router = Router(name="teacher_journal")
    router.callback_query.register(on_open, NavCb.filter(F.to == "tjournal"))
    router.callback_query.register(on_teacher, TeacherCb.filter())
    router.message.register(on_value, StateFilter(TeacherMarks.value), F.text)
    router.message.register(on_not_text, StateFilter(TeacherMarks.value))
    return router


MODULE = Module(
    name="teacher_journal",
    router=get_router,
    menu=(MenuItem(to="tjournal", label=lambda: _("📒 My classes"), roles=STAFF_ROLES, order=15),),
)
