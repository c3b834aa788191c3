"""Virtual classrooms (§10.1): the list with its filters, a classroom's materials and
conversation, and the teacher's tools (add and remove materials, mute a member)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.downloads import attachment_refusal_text
from bot.i18n import fmt_datetime
from bot.keyboards.classrooms import ClsCb, cls_button, kind_label, remove_material_keyboard
from bot.keyboards.common import NavCb, back_button, pager_buttons, rows
from bot.modules import HomeContext, MenuItem, Module
from bot.services import classrooms as svc
from bot.services.auth import Viewer
from bot.services.errors import DomainError
from bot.ui import esc, show
from bot.views.classrooms import cut
from bot.views.common import stored_locale
from db.models import Role
from db.models.classrooms import MaterialKind
from db.session import Database

PAGE_SIZE = 8
POSTS_ON_ROOM = 5
POSTS_PAGE = 8
MEMBERS_PAGE = 10
PREVIEW = 300


class ClassroomStates(StatesGroup):
    compose = State()
    topic = State()
    material = State()


def _room_title(room: Any, locale: str) -> str:
    discipline, group = esc(room.discipline.name(locale)), esc(room.group.code)
    return f"{discipline} · {kind_label(room.kind)} · {group}"


# ---- the list --------------------------------------------------------------------------------


def _cycle(options: list[Any], current: Any) -> Any:
    """The next filter value after `current` (0/"" meaning "all")."""
    values = [type(current)(), *options]
    try:
        index = values.index(current)
    except ValueError:
        return values[0]
    return values[(index + 1) % len(values)]


async def _list_screen(
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
    filters: svc.Filters,
    page: int,
) -> tuple[str, InlineKeyboardMarkup]:
    locale = stored_locale(viewer, settings)
    today = clock.now().astimezone(settings.tz).date()
    async with db.write() as session:
        periods = await svc.current_year_periods(session, today)
        await svc.sync_classrooms(session, [p.id for p in periods])
    async with db.read() as session:
        period_ids = [p.id for p in periods]
        choices = await svc.filter_choices(session, viewer, period_ids)
        rooms = await svc.list_classrooms(session, viewer, period_ids, filters)
        pages = max(1, (len(rooms) + PAGE_SIZE - 1) // PAGE_SIZE)
        page = min(max(0, page), pages - 1)
        shown = rooms[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        year = periods[0].academic_year if periods else "—"
        form_names = dict(choices.study_forms)
        lines = [
            _("🏫 <b>Virtual classrooms</b> · {year}").format(year=esc(year)),
            _("Found: {count}").format(count=len(rooms)),
        ]
        if not rooms:
            lines.append("")
            lines.append(_("No classrooms match."))
        numbered = []
        for n, room in enumerate(shown, start=page * PAGE_SIZE + 1):
            lines.append("")
            lines.append(f"{n}. <b>{esc(room.discipline.name(locale))}</b>")
            lines.append(
                "    "
                + _("{year}, semester {term} · {kind} · {group} · credits: {credits}").format(
                    year=esc(room.period.academic_year),
                    term=room.period.term,
                    kind=kind_label(room.kind),
                    group=esc(room.group.code),
                    credits=room.discipline.credits,
                )
            )
            numbered.append(cls_button(str(n), a="room", c=room.id))
    all_text = _("all")
    form_text = (
        form_names.get(filters.study_form_id, {}).get(locale, all_text)
        if filters.study_form_id
        else all_text
    )
    term_text = str(filters.term) if filters.term else all_text
    kind_text = kind_label(filters.kind) if filters.kind else all_text
    base = {"f": filters.study_form_id, "t": filters.term, "k": filters.kind}
    filter_row = [
        cls_button(
            _("Form: {value}").format(value=form_text),
            a="list",
            **{**base, "f": _cycle([f for f, _n in choices.study_forms], filters.study_form_id)},
        ),
        cls_button(
            _("Semester: {value}").format(value=term_text),
            a="list",
            **{**base, "t": _cycle(choices.terms, filters.term)},
        ),
    ]
    kind_row = [
        cls_button(
            _("Type: {value}").format(value=kind_text),
            a="list",
            **{**base, "k": _cycle(choices.kinds, filters.kind)},
        )
    ]
    keyboard = [filter_row, kind_row, *rows(numbered, per_row=4)]
    if pager := pager_buttons(lambda p: ClsCb(a="list", p=p, **base).pack(), page, pages):
        keyboard.append(pager)
    keyboard.append([back_button()])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=keyboard)


async def on_nav_classrooms(
    callback: CallbackQuery,
    state: FSMContext,
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
) -> None:
    """The Classrooms button of the home screen."""
    await state.clear()
    await callback.answer()
    text, keyboard = await _list_screen(db, viewer, settings, clock, svc.Filters(), 0)
    await show(callback, text, keyboard)


# ---- a classroom -----------------------------------------------------------------------------


async def _room_screen(
    db: Database, viewer: Viewer, settings: Settings, clock: Clock, classroom_id: int
) -> tuple[str, InlineKeyboardMarkup, datetime | None]:
    """The classroom's front page; records the visit and returns the one before it."""
    locale = stored_locale(viewer, settings)
    now = clock.now()
    async with db.write() as session:
        access = await svc.open_classroom(session, classroom_id, viewer)
        previous = await svc.visit(session, classroom_id, viewer.user_id, now)
        new_materials, new_posts = await svc.new_counts(session, classroom_id, previous)
        total_materials = len(await svc.materials(session, classroom_id))
        recent, total_posts = await svc.posts(session, access.classroom, limit=POSTS_ON_ROOM)
        muted = not access.is_teacher and await svc.is_muted(session, classroom_id, viewer.user_id)
        room = access.classroom
        teacher = room.teacher.user.full_name if room.teacher is not None else "—"
        lines = [
            f"🏫 <b>{_room_title(room, locale)}</b>",
            _("{year}, semester {term} · credits: {credits}").format(
                year=esc(room.period.academic_year),
                term=room.period.term,
                credits=room.discipline.credits,
            ),
            _("Teacher: {name}").format(name=esc(teacher)),
            "",
            _("📎 Materials: {total} (new since your last visit: {new})").format(
                total=total_materials, new=new_materials
            ),
            _("💬 Messages: {total} (new since your last visit: {new})").format(
                total=total_posts, new=new_posts
            ),
        ]
        if muted:
            lines.append(_("🔇 The teacher has muted you here: you can read but not post."))
        for line in reversed(recent):
            fresh = previous is None or line.created_at > previous
            lines.append("")
            lines.append(_post_line(line, locale, settings, fresh))
    keyboard = [
        [
            cls_button(_("📎 Materials"), a="mats", c=classroom_id),
            cls_button(_("💬 Write"), a="write", c=classroom_id),
        ],
        [cls_button(_("📜 All messages"), a="conv", c=classroom_id)],
    ]
    if access.is_teacher:
        keyboard.append(
            [
                cls_button(_("➕ Add material"), a="add", c=classroom_id),
                cls_button(_("👥 Members"), a="mem", c=classroom_id),
            ]
        )
    keyboard.append([back_button("classrooms", _("« Classrooms"))])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=keyboard), previous


def _post_line(line: svc.PostLine, locale: str, settings: Settings, fresh: bool) -> str:
    role = _("teacher") if line.by_teacher else _("student")
    return "{new}<b>{author}</b> ({role}), {when}:\n{text}".format(
        new="🆕 " if fresh else "",
        author=esc(line.author),
        role=role,
        when=fmt_datetime(line.created_at, locale, settings.tz, "short"),
        text=esc(cut(line.text, PREVIEW)),
    )


async def _materials_screen(
    db: Database, viewer: Viewer, settings: Settings, classroom_id: int, since: Any
) -> tuple[str, InlineKeyboardMarkup]:
    """`since`: the visit before the current one; materials added after it are marked new."""
    locale = stored_locale(viewer, settings)
    async with db.read() as session:
        access = await svc.open_classroom(session, classroom_id, viewer)
        items = await svc.materials(session, classroom_id)
        title = _room_title(access.classroom, locale)
    lines = [f"📎 <b>{title}</b>", ""]
    buttons = []
    current: tuple[int | None, str] | None = None
    for n, item in enumerate(items, start=1):
        heading = (item.week, item.topic)
        if heading != current:
            current = heading
            if item.week is not None:
                label = _("Week {week}").format(week=item.week)
                lines.append(f"<b>{label}{': ' + esc(item.topic) if item.topic else ''}</b>")
            else:
                lines.append(f"<b>{esc(item.topic)}</b>")
        fresh = " 🆕" if since is None or item.created_at > since else ""
        icon = {"document": "📄", "photo": "🖼", "link": "🔗"}[MaterialKind(item.kind).value]
        lines.append(f"  {n}. {icon} {esc(item.title)}{fresh}")
        buttons.append(cls_button(str(n), a="mat", c=classroom_id, m=item.id))
    if not items:
        lines.append(_("The teacher has not added materials yet."))
    keyboard = [*rows(buttons, per_row=5)]
    if access.is_teacher:
        keyboard.append([cls_button(_("➕ Add material"), a="add", c=classroom_id)])
    keyboard.append([cls_button(_("« Back"), a="room", c=classroom_id)])
    text = "\n".join(lines)
    if len(text) > 3800:
        text = text[:3790].rsplit("\n", 1)[0] + "\n…"
    return text, InlineKeyboardMarkup(inline_keyboard=keyboard)


async def _send_material(
    callback: CallbackQuery, bot: Bot, db: Database, viewer: Viewer, classroom_id: int, mid: int
) -> None:
    async with db.read() as session:
        access = await svc.open_classroom(session, classroom_id, viewer)
        item = await svc.material_of(session, access, mid)
        session.expunge(item)
        is_teacher = access.is_teacher
    caption = f"<b>{esc(cut(item.title, 900))}</b>"
    keyboard = [[cls_button(_("« Materials"), a="mats", c=classroom_id)]]
    if is_teacher:
        keyboard.insert(0, [cls_button(_("🗑 Remove"), a="rm", c=classroom_id, m=item.id)])
    markup = InlineKeyboardMarkup(inline_keyboard=keyboard)
    await callback.answer()
    chat_id = callback.from_user.id
    if item.kind == MaterialKind.document and item.file_id:
        await bot.send_document(chat_id, item.file_id, caption=caption, reply_markup=markup)
    elif item.kind == MaterialKind.photo and item.file_id:
        await bot.send_photo(chat_id, item.file_id, caption=caption, reply_markup=markup)
    else:
        link = esc(item.url or "")
        await bot.send_message(chat_id, f"🔗 {caption}\n{link}", reply_markup=markup)


async def _conversation_screen(
    db: Database, viewer: Viewer, settings: Settings, classroom_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    locale = stored_locale(viewer, settings)
    async with db.read() as session:
        access = await svc.open_classroom(session, classroom_id, viewer)
        page = max(0, page)
        lines_, total = await svc.posts(
            session, access.classroom, offset=page * POSTS_PAGE, limit=POSTS_PAGE
        )
        title = _room_title(access.classroom, locale)
    pages = max(1, (total + POSTS_PAGE - 1) // POSTS_PAGE)
    lines = [f"💬 <b>{title}</b>", _("Messages: {total}").format(total=total)]
    for line in reversed(lines_):
        lines.append("")
        lines.append(_post_line(line, locale, settings, False))
    if not total:
        lines.append(_("No messages yet. Be the first to write."))
    text = "\n".join(lines)
    if len(text) > 3800:
        text = text[:3790].rsplit("\n", 1)[0] + "\n…"
    pager = []
    # Page 0 is the newest; "older" goes forward.
    if page < pages - 1:
        pager.append(cls_button(_("‹ Older"), a="conv", c=classroom_id, p=page + 1))
    if page > 0:
        pager.append(cls_button(_("Newer ›"), a="conv", c=classroom_id, p=page - 1))
    keyboard = [
        pager,
        [cls_button(_("💬 Write"), a="write", c=classroom_id)],
        [cls_button(_("« Back"), a="room", c=classroom_id)],
    ]
    return text, InlineKeyboardMarkup(inline_keyboard=[r for r in keyboard if r])


async def _members_screen(
    db: Database, viewer: Viewer, settings: Settings, classroom_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    locale = stored_locale(viewer, settings)
    async with db.read() as session:
        access = await svc.open_classroom(session, classroom_id, viewer)
        if not access.is_teacher:
            raise svc.not_available()
        members = await svc.student_members(session, access.classroom)
        title = _room_title(access.classroom, locale)
    pages = max(1, (len(members) + MEMBERS_PAGE - 1) // MEMBERS_PAGE)
    page = min(max(0, page), pages - 1)
    shown = members[page * MEMBERS_PAGE : (page + 1) * MEMBERS_PAGE]
    lines = [
        f"👥 <b>{title}</b>",
        _("Students: {n}. Tap a name to mute or unmute them (🔇 muted).").format(n=len(members)),
    ]
    buttons = [
        cls_button(
            ("🔇 " if m.muted else "🔊 ") + m.name[:45],
            a="mute",
            c=classroom_id,
            u=m.user_id,
            p=page,
        )
        for m in shown
    ]
    keyboard = [*rows(buttons, per_row=1)]
    if pager := pager_buttons(lambda p: ClsCb(a="mem", c=classroom_id, p=p).pack(), page, pages):
        keyboard.append(pager)
    keyboard.append([cls_button(_("« Back"), a="room", c=classroom_id)])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=keyboard)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def _since(state: FSMContext, classroom_id: int, db: Database, viewer: Viewer) -> Any:
    """The visit before the current one, remembered when the classroom was opened; without
    it (a button from an old message), the stored last visit."""
    seen = (await state.get_data()).get("cls_seen") or {}
    if seen.get("c") == classroom_id:
        return datetime.fromisoformat(seen["at"]) if seen.get("at") else None
    async with db.read() as session:
        return await svc.last_visit(session, classroom_id, viewer.user_id)


def _cancel_keyboard(classroom_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[cls_button(_("✖️ Cancel"), a="room", c=classroom_id)]]
    )


async def on_list(
    callback: CallbackQuery,
    callback_data: ClsCb,
    state: FSMContext,
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
) -> None:
    """A page of the list of classrooms, with its filters."""
    await state.clear()
    filters = svc.Filters(callback_data.f, callback_data.t, callback_data.k)
    text, keyboard = await _list_screen(db, viewer, settings, clock, filters, callback_data.p)
    await callback.answer()
    await show(callback, text, keyboard)


async def on_open_material(
    callback: CallbackQuery, callback_data: ClsCb, db: Database, viewer: Viewer, bot: Bot
) -> None:
    """A material: sent as its document, photo or link."""
    await _send_material(callback, bot, db, viewer, callback_data.c, callback_data.m)


async def on_room(
    callback: CallbackQuery,
    callback_data: ClsCb,
    state: FSMContext,
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
) -> None:
    """A classroom's screen; what was new since the last visit is remembered for its lists."""
    cid = callback_data.c
    await state.clear()
    text, keyboard, previous = await _room_screen(db, viewer, settings, clock, cid)
    await state.update_data(cls_seen={"c": cid, "at": _iso(previous)})
    await callback.answer()
    await show(callback, text, keyboard)


async def on_materials(
    callback: CallbackQuery,
    callback_data: ClsCb,
    state: FSMContext,
    db: Database,
    viewer: Viewer,
    settings: Settings,
) -> None:
    """The materials of a classroom, week by week."""
    cid = callback_data.c
    since = await _since(state, cid, db, viewer)
    text, keyboard = await _materials_screen(db, viewer, settings, cid, since)
    await callback.answer()
    await show(callback, text, keyboard)


async def on_conversation(
    callback: CallbackQuery,
    callback_data: ClsCb,
    db: Database,
    viewer: Viewer,
    settings: Settings,
) -> None:
    """A page of a classroom's posts."""
    text, keyboard = await _conversation_screen(
        db, viewer, settings, callback_data.c, callback_data.p
    )
    await callback.answer()
    await show(callback, text, keyboard)


async def on_members(
    callback: CallbackQuery,
    callback_data: ClsCb,
    db: Database,
    viewer: Viewer,
    settings: Settings,
) -> None:
    """A page of a classroom's members (the teacher's screen)."""
    text, keyboard = await _members_screen(db, viewer, settings, callback_data.c, callback_data.p)
    await callback.answer()
    await show(callback, text, keyboard)


async def on_mute(
    callback: CallbackQuery,
    callback_data: ClsCb,
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
) -> None:
    """The teacher mutes or unmutes a member."""
    cid = callback_data.c
    async with db.write() as session:
        access = await svc.open_classroom(session, cid, viewer)
        muted = await svc.is_muted(session, cid, callback_data.u)
        await svc.set_muted(session, access, callback_data.u, not muted, clock.now())
    await callback.answer(_("Muted.") if not muted else _("Unmuted."))
    text, keyboard = await _members_screen(db, viewer, settings, cid, callback_data.p)
    await show(callback, text, keyboard)


async def on_write(
    callback: CallbackQuery,
    callback_data: ClsCb,
    state: FSMContext,
    db: Database,
    viewer: Viewer,
    settings: Settings,
    bot: Bot,
) -> None:
    """«Write» on a classroom's screen, or «Reply» under a pushed post: asks for the text."""
    cid = callback_data.c
    async with db.read() as session:
        access = await svc.open_classroom(session, cid, viewer)
        muted = not access.is_teacher and await svc.is_muted(session, cid, viewer.user_id)
        title = _room_title(access.classroom, stored_locale(viewer, settings))
    if muted:
        await callback.answer(
            _("The teacher has muted you in this classroom: you can read it but not post."),
            show_alert=True,
        )
        return
    await state.set_state(ClassroomStates.compose)
    await state.update_data(cls_room=cid)
    text = _(
        "💬 <b>{title}</b>\n\nType your message for the classroom (up to {n} characters)."
    ).format(title=title, n=svc.MAX_POST_LENGTH)
    keyboard = _cancel_keyboard(cid)
    await callback.answer()
    # A reply from a pushed post must not overwrite that post: a new message.
    if callback_data.a == "reply":
        await bot.send_message(callback.from_user.id, text, reply_markup=keyboard)
    else:
        await show(callback, text, keyboard)


async def on_add_material(
    callback: CallbackQuery,
    callback_data: ClsCb,
    state: FSMContext,
    db: Database,
    viewer: Viewer,
) -> None:
    """The teacher adds a material: first the week and the topic."""
    cid = callback_data.c
    async with db.read() as session:
        access = await svc.open_classroom(session, cid, viewer)
    if not access.is_teacher:
        raise svc.not_available()
    await state.set_state(ClassroomStates.topic)
    await state.update_data(cls_room=cid)
    text = _(
        "Type the week and the topic of the material, e.g. <i>3 Normal forms</i> "
        "(the week number is optional)."
    )
    await callback.answer()
    await show(callback, text, _cancel_keyboard(cid))


async def on_remove_material(
    callback: CallbackQuery, callback_data: ClsCb, db: Database, viewer: Viewer, bot: Bot
) -> None:
    """The teacher's «Remove» under a material: asks to confirm, in a new message."""
    cid = callback_data.c
    async with db.read() as session:
        access = await svc.open_classroom(session, cid, viewer)
        if not access.is_teacher:
            raise svc.not_available()
        item = await svc.material_of(session, access, callback_data.m)
        item_title = item.title
    text = _("Remove the material «{title}»? Members will no longer see it.").format(
        title=esc(item_title)
    )
    await callback.answer()
    await bot.send_message(
        callback.from_user.id, text, reply_markup=remove_material_keyboard(cid, callback_data.m)
    )


async def on_remove_confirmed(
    callback: CallbackQuery,
    callback_data: ClsCb,
    state: FSMContext,
    db: Database,
    viewer: Viewer,
    settings: Settings,
) -> None:
    """The removal confirmed: the material is gone, the list is shown again."""
    cid = callback_data.c
    async with db.write() as session:
        access = await svc.open_classroom(session, cid, viewer)
        await svc.remove_material(session, access, callback_data.m)
    await callback.answer(_("Removed."))
    since = await _since(state, cid, db, viewer)
    text, keyboard = await _materials_screen(db, viewer, settings, cid, since)
    await callback.answer()
    await show(callback, text, keyboard)


async def on_stale_button(callback: CallbackQuery) -> None:
    """A classrooms button of an action this version no longer has."""
    await callback.answer(_("This button is no longer available."))


async def on_compose_text(
    message: Message,
    state: FSMContext,
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
) -> None:
    """The text of a classroom message."""
    cid = int((await state.get_data()).get("cls_room") or 0)
    try:
        async with db.write() as session:
            access = await svc.open_classroom(session, cid, viewer)
            await svc.post(session, access, viewer, message.text or "", clock.now())
    except DomainError as exc:
        if exc.code == "classroom.long_post":
            await message.answer(exc.user_message() or "", reply_markup=_cancel_keyboard(cid))
            return
        await state.clear()
        raise
    await state.clear()
    await message.answer(_("✅ Sent to the classroom."))
    text, keyboard, previous = await _room_screen(db, viewer, settings, clock, cid)
    await state.update_data(cls_seen={"c": cid, "at": _iso(previous)})
    await message.answer(text, reply_markup=keyboard)


async def on_topic_text(message: Message, state: FSMContext) -> None:
    """The week and topic of a new material."""
    cid = int((await state.get_data()).get("cls_room") or 0)
    parsed = svc.parse_topic(message.text or "")
    if parsed is None:
        await message.answer(
            _("Type a topic, optionally after a week number from 1 to 30."),
            reply_markup=_cancel_keyboard(cid),
        )
        return
    week, topic = parsed
    await state.update_data(cls_week=week, cls_topic=topic)
    await state.set_state(ClassroomStates.material)
    await message.answer(
        _("Now send the material: a document, a photo or a link (https://…)."),
        reply_markup=_cancel_keyboard(cid),
    )


async def on_material(
    message: Message,
    state: FSMContext,
    db: Database,
    viewer: Viewer,
    settings: Settings,
    clock: Clock,
) -> None:
    """The document, photo or link of a new material."""
    data = await state.get_data()
    cid = int(data.get("cls_room") or 0)
    values: dict[str, Any]
    caption = (message.caption or "").strip()
    refusal = attachment_refusal_text(message)
    if refusal is not None:
        await message.answer(refusal, reply_markup=_cancel_keyboard(cid))
        return
    if message.document is not None:
        values = {
            "kind": MaterialKind.document,
            "file_id": message.document.file_id,
            "file_name": message.document.file_name,
            "title": caption or message.document.file_name or _("Document"),
        }
    elif message.photo:
        values = {
            "kind": MaterialKind.photo,
            "file_id": message.photo[-1].file_id,
            "title": caption or _("Photo"),
        }
    elif message.text and svc.URL_RE.match(message.text.strip().split()[0]):
        parts = message.text.strip().split(maxsplit=1)
        values = {
            "kind": MaterialKind.link,
            "url": parts[0],
            "title": parts[1] if len(parts) > 1 else parts[0],
        }
    else:
        await message.answer(
            _("Send a document, a photo or a link starting with https://."),
            reply_markup=_cancel_keyboard(cid),
        )
        return
    async with db.write() as session:
        access = await svc.open_classroom(session, cid, viewer)
        await svc.add_material(
            session,
            access,
            week=data.get("cls_week"),
            topic=str(data.get("cls_topic") or ""),
            now=clock.now(),
            author_user_id=viewer.user_id,
            **values,
        )
    await state.clear()
    await message.answer(_("✅ The material was added."))
    text, keyboard = await _materials_screen(db, viewer, settings, cid, clock.now())
    await message.answer(text, reply_markup=keyboard)


async def on_not_text(message: Message) -> None:
    """A file or sticker where a text is expected."""
    await message.answer(_("Please type it as a text message."))


def get_router() -> Router:
    router = Router(name="classrooms")
    router.callback_query.register(on_nav_classrooms, NavCb.filter(F.to == "classrooms"))
    router.callback_query.register(on_list, ClsCb.filter(F.a == "list"))
    router.callback_query.register(on_open_material, ClsCb.filter(F.a == "mat"))
    router.callback_query.register(on_room, ClsCb.filter(F.a == "room"))
    router.callback_query.register(on_materials, ClsCb.filter(F.a == "mats"))
    router.callback_query.register(on_conversation, ClsCb.filter(F.a == "conv"))
    router.callback_query.register(on_members, ClsCb.filter(F.a == "mem"))
    router.callback_query.register(on_mute, ClsCb.filter(F.a == "mute"))
    router.callback_query.register(on_write, ClsCb.filter(F.a.in_({"write", "reply"})))
    router.callback_query.register(on_add_material, ClsCb.filter(F.a == "add"))
    router.callback_query.register(on_remove_material, ClsCb.filter(F.a == "rm"))
    router.callback_query.register(on_remove_confirmed, ClsCb.filter(F.a == "rmok"))
    # Last: a button of an action that no longer exists.
    router.callback_query.register(on_stale_button, ClsCb.filter())
    router.message.register(
        on_compose_text, StateFilter(ClassroomStates.compose), F.text, ~F.text.startswith("/")
    )
    router.message.register(
        on_topic_text, StateFilter(ClassroomStates.topic), F.text, ~F.text.startswith("/")
    )
    router.message.register(
        on_material,
        StateFilter(ClassroomStates.material),
        F.document | F.photo | (F.text & ~F.text.startswith("/")),
    )
    router.message.register(
        on_not_text, StateFilter(ClassroomStates.compose, ClassroomStates.topic), ~F.text
    )
    return router


async def home_lines(ctx: HomeContext) -> list[str]:
    """ "New in classrooms" on the home screen, when there is something new."""
    if ctx.viewer.student_id is None and ctx.viewer.teacher_id is None:
        return []
    periods = await svc.current_year_periods(
        ctx.session, ctx.now.astimezone(ctx.settings.tz).date()
    )
    unread = await svc.unread_posts(ctx.session, ctx.viewer, [p.id for p in periods])
    if not unread:
        return []
    return [_("🏫 New messages in your classrooms: {n}").format(n=unread)]


MODULE = Module(
    name="classrooms",
    router=get_router,
    home_lines=home_lines,
    menu=(
        MenuItem(
            to="classrooms",
            label=lambda: _("🏫 Classrooms"),
            roles=frozenset({Role.student, Role.teacher}),
            order=300,
        ),
    ),
)
