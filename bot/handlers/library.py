"""Library (§10.2): quick and guided search of the catalogue, item cards, electronic copies,
and inline mode (`@bot query` in any chat)."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import CommandStart, StateFilter
from aiogram.filters.command import CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Message,
)
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.keyboards.common import NavCb, PageCb, back_button
from bot.keyboards.library import (
    LibCb,
    back_to_form_keyboard,
    field_label,
    form_keyboard,
    item_keyboard,
    kind_choice_keyboard,
    kind_label,
    language_choice_keyboard,
    language_label,
    main_keyboard,
    results_keyboard,
)
from bot.modules import MenuItem, Module
from bot.services import library
from bot.services.auth import Viewer
from bot.services.library import MAX_VALUE_LENGTH, TEXT_FIELDS, Criteria
from bot.ui import esc, show
from db.models.library import ItemKind, LibraryItem, LibrarySearch
from db.session import Database

log = logging.getLogger(__name__)

DESCRIPTION_PREVIEW = 1500
LIST_TITLE = 150
LIST_AUTHORS = 100


class LibraryStates(StatesGroup):
    quick = State()
    form = State()
    value = State()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _kind_icon(kind: ItemKind) -> str:
    return "💻" if kind == ItemKind.electronic else "📗"


def item_card(item: LibraryItem, *, full: bool = True) -> str:
    lines = [f"{_kind_icon(item.kind)} <b>{esc(item.title)}</b>"]
    if item.authors:
        lines.append(_("Author: {authors}").format(authors=esc(item.authors)))
    if item.publisher:
        lines.append(_("Publisher: {publisher}").format(publisher=esc(item.publisher)))
    if item.year:
        lines.append(_("Year: {year}").format(year=item.year))
    lines.append(_("Code: <code>{code}</code>").format(code=esc(item.code)))
    lines.append(_("Language: {language}").format(language=language_label(item.language)))
    lines.append(_("Kind: {kind}").format(kind=kind_label(item.kind.value)))
    if item.kind == ItemKind.paper:
        lines.append(_("Location: {location}").format(location=esc(item.location or "—")))
        lines.append(
            _("Free copies: {free} of {total}").format(
                free=item.copies_free, total=item.copies_total
            )
        )
    if full and item.description:
        lines.append("")
        lines.append(esc(_cut(item.description, DESCRIPTION_PREVIEW)))
    if full and item.kind == ItemKind.electronic and not _downloadable(item) and not item.url:
        lines.append("")
        lines.append(_("The electronic copy has not been attached to this item yet."))
    return "\n".join(lines)


def _downloadable(item: LibraryItem) -> bool:
    return item.kind == ItemKind.electronic and bool(item.file_id or item.body)


def _criteria_lines(criteria: Criteria) -> list[str]:
    lines = []
    for name, value in criteria.to_dict().items():
        if name == "language":
            value = language_label(value)
        elif name == "kind":
            value = kind_label(value)
        lines.append(f"{field_label(name)}: <i>{esc(value)}</i>")
    return lines


# ---- screens ---------------------------------------------------------------------------------


async def _main_screen(db: Database) -> tuple[str, InlineKeyboardMarkup]:
    async with db.read() as session:
        counts = await library.catalogue_counts(session)
    text = "\n".join(
        [
            _("📚 <b>Library</b>"),
            "",
            _(
                "Items in the catalogue: {total} (electronic: {electronic}, paper: {paper})."
            ).format(
                total=sum(counts.values()),
                electronic=counts[ItemKind.electronic],
                paper=counts[ItemKind.paper],
            ),
            "",
            _(
                "Type a few words to search by title, author or code, or build a search by "
                "fields. Kazakh and Russian letters may be typed either way."
            ),
        ]
    )
    return text, main_keyboard()


def _form_screen(criteria: Criteria) -> tuple[str, InlineKeyboardMarkup]:
    lines = [_("🔎 <b>Search the catalogue</b>"), ""]
    chosen = _criteria_lines(criteria)
    if chosen:
        lines.extend(chosen)
    else:
        lines.append(_("No conditions yet."))
    lines.append("")
    lines.append(
        _("Pick a field and type its value; combine as many as you like, then press Search.")
    )
    return "\n".join(lines), form_keyboard(criteria)


async def _results_screen(
    db: Database, search: LibrarySearch, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    criteria = Criteria.from_dict(search.params)
    async with db.read() as session:
        pages = library.pages_for(await library.count(session, criteria))
        page = min(max(0, page), pages - 1)
        items, total = await library.search(session, criteria, page)
    lines = [_("🔎 <b>Search results</b>")]
    lines.extend(_criteria_lines(criteria))
    lines.append(_("Found: {count}").format(count=total))
    if not items:
        lines.append("")
        lines.append(_("Nothing matches. Try fewer or shorter words."))
    first = page * library.PAGE_SIZE + 1
    for n, item in enumerate(items):
        details = ", ".join(
            part for part in (esc(_cut(item.authors, LIST_AUTHORS)), str(item.year or "")) if part
        )
        lines.append("")
        lines.append(
            f"{first + n}. {_kind_icon(item.kind)} <b>{esc(_cut(item.title, LIST_TITLE))}</b>"
        )
        if details:
            lines.append(f"    {details}")
    keyboard = results_keyboard(search.id, [item.id for item in items], first, page, pages)
    return "\n".join(lines), keyboard


async def _form_data(state: FSMContext) -> Criteria:
    return Criteria.from_dict((await state.get_data()).get("lib_form"))


async def _run_search(
    event: Message | CallbackQuery, db: Database, viewer: Viewer, clock: Clock, criteria: Criteria
) -> None:
    async with db.write() as session:
        search = await library.record_search(session, viewer.user_id, criteria, clock.now())
    text, keyboard = await _results_screen(db, search, 0)
    await show(event, text, keyboard)


# ---- handlers --------------------------------------------------------------------------------


async def on_nav_library(callback: CallbackQuery, state: FSMContext, db: Database) -> None:
    """The Library button of the home screen (and every « Library)."""
    await callback.answer()
    await state.clear()
    await state.set_state(LibraryStates.quick)
    text, keyboard = await _main_screen(db)
    await show(callback, text, keyboard)


async def on_quick_text(
    message: Message, state: FSMContext, db: Database, viewer: Viewer, clock: Clock
) -> None:
    """Words typed on the library screens: a quick search over title, author and code."""
    query = (message.text or "").strip()
    if len(query) > MAX_VALUE_LENGTH:
        await message.answer(
            _("That is too long: at most {n} characters. Try again:").format(n=MAX_VALUE_LENGTH)
        )
        return
    if not library.words(query):
        await message.answer(_("Type at least one letter or digit to search."))
        return
    await _run_search(message, db, viewer, clock, Criteria(anything=query))


async def on_value_text(message: Message, state: FSMContext) -> None:
    """The value of the field picked on the search form."""
    data = await state.get_data()
    name = data.get("lib_field")
    value = (message.text or "").strip()
    if name not in TEXT_FIELDS:
        await state.set_state(LibraryStates.form)
        text, keyboard = _form_screen(await _form_data(state))
        await message.answer(text, reply_markup=keyboard)
        return
    if len(value) > MAX_VALUE_LENGTH:
        await message.answer(
            _("That is too long: at most {n} characters. Try again:").format(n=MAX_VALUE_LENGTH)
        )
        return
    if not library.words(value):
        await message.answer(_("Type at least one letter or digit to search."))
        return
    form = (await _form_data(state)).to_dict()
    form[name] = value
    await state.update_data(lib_form=form, lib_field=None)
    await state.set_state(LibraryStates.form)
    text, keyboard = _form_screen(Criteria.from_dict(form))
    await message.answer(text, reply_markup=keyboard)


async def on_value_not_text(message: Message) -> None:
    """A file or a sticker where the search form expects text."""
    await message.answer(_("Please type it as a text message."))


async def on_get_copy(
    callback: CallbackQuery, callback_data: LibCb, db: Database, bot: Bot
) -> None:
    """«Get» on an electronic item: its file is sent."""
    await _send_copy(callback, callback_data.i, db, bot)


async def on_item(
    callback: CallbackQuery, callback_data: LibCb, db: Database, viewer: Viewer
) -> None:
    """One item of a list of results."""
    await callback.answer()
    await _show_item(callback, db, viewer, callback_data.i, callback_data.s, callback_data.p)


async def on_results(
    callback: CallbackQuery, callback_data: LibCb, db: Database, viewer: Viewer
) -> None:
    """«« Results»: back to a list of results."""
    await callback.answer()
    async with db.read() as session:
        search = await library.load_search(session, callback_data.s, viewer.user_id)
    text, keyboard = await _results_screen(db, search, callback_data.p)
    await show(callback, text, keyboard)


async def on_edit_search(
    callback: CallbackQuery,
    callback_data: LibCb,
    state: FSMContext,
    db: Database,
    viewer: Viewer,
) -> None:
    """«Refine the search»: the form, filled in with the search's conditions."""
    async with db.read() as session:
        search = await library.load_search(session, callback_data.s, viewer.user_id)
    form = Criteria.from_dict(search.params)
    if form.anything and not form.title:
        # A quick search becomes a title condition the person can refine.
        form.title, form.anything = form.anything, ""
    await state.set_state(LibraryStates.form)
    await state.update_data(lib_form=form.to_dict(), lib_field=None)
    await callback.answer()
    text, keyboard = _form_screen(form)
    await show(callback, text, keyboard)


async def _show_form(callback: CallbackQuery, state: FSMContext, form: Criteria) -> None:
    await state.set_state(LibraryStates.form)
    await state.update_data(lib_form=form.to_dict(), lib_field=None)
    await callback.answer()
    text, keyboard = _form_screen(form)
    await show(callback, text, keyboard)


async def on_form(callback: CallbackQuery, state: FSMContext) -> None:
    """The search form, as filled in so far."""
    await _show_form(callback, state, await _form_data(state))


async def on_clear_form(callback: CallbackQuery, state: FSMContext) -> None:
    """«Clear» on the form."""
    await _show_form(callback, state, Criteria())


async def on_field(callback: CallbackQuery, callback_data: LibCb, state: FSMContext) -> None:
    """A text field of the form: its value is asked for."""
    await state.set_state(LibraryStates.value)
    await state.update_data(lib_field=callback_data.v)
    await callback.answer()
    await show(
        callback,
        _("Type the {field} (or a part of it):").format(
            field=field_label(callback_data.v).lower()
        ),
        back_to_form_keyboard(),
    )


async def on_language_choice(callback: CallbackQuery) -> None:
    """The languages an item may be in."""
    await callback.answer()
    await show(callback, _("Language of the item:"), language_choice_keyboard())


async def on_kind_choice(callback: CallbackQuery) -> None:
    """The kinds an item may be of."""
    await callback.answer()
    await show(callback, _("Kind of the item:"), kind_choice_keyboard())


async def on_set_language(
    callback: CallbackQuery, callback_data: LibCb, state: FSMContext
) -> None:
    """A language chosen for the form."""
    form = await _form_data(state)
    form.language = callback_data.v
    await _show_form(callback, state, Criteria.from_dict(form.to_dict()))


async def on_set_kind(callback: CallbackQuery, callback_data: LibCb, state: FSMContext) -> None:
    """A kind chosen for the form."""
    form = await _form_data(state)
    form.kind = callback_data.v
    await _show_form(callback, state, Criteria.from_dict(form.to_dict()))


async def on_run(
    callback: CallbackQuery, state: FSMContext, db: Database, viewer: Viewer, clock: Clock
) -> None:
    """«Search» on the form."""
    form = await _form_data(state)
    if form.is_empty():
        await callback.answer(_("Fill in at least one field first."), show_alert=True)
        return
    await callback.answer()
    await _run_search(callback, db, viewer, clock, form)


async def on_stale_button(callback: CallbackQuery) -> None:
    """A library button of an action this version no longer has."""
    await callback.answer(_("This button is no longer available."))


async def on_page(
    callback: CallbackQuery, callback_data: PageCb, db: Database, viewer: Viewer
) -> None:
    """‹ › under a list of results."""
    async with db.read() as session:
        search = await library.load_search(session, callback_data.key, viewer.user_id)
    await callback.answer()
    text, keyboard = await _results_screen(db, search, callback_data.page)
    await show(callback, text, keyboard)


async def _show_item(
    event: Message | CallbackQuery,
    db: Database,
    viewer: Viewer,
    item_id: int,
    search_id: int,
    page: int,
) -> None:
    async with db.read() as session:
        item = await library.get_item(session, item_id)
        if search_id:
            # "« Results" only for a search of this person.
            owned = await session.get(LibrarySearch, search_id)
            if owned is None or owned.user_id != viewer.user_id:
                search_id = 0
    if item is None:
        text = _("This item is no longer in the catalogue.")
        await show(event, text, InlineKeyboardMarkup(inline_keyboard=[[back_button("library")]]))
        return
    keyboard = item_keyboard(
        item.id, downloadable=_downloadable(item), url=item.url, search_id=search_id, page=page
    )
    await show(event, item_card(item), keyboard)


async def _send_copy(callback: CallbackQuery, item_id: int, db: Database, bot: Bot) -> None:
    async with db.read() as session:
        item = await library.get_item(session, item_id)
    if item is None or item.kind != ItemKind.electronic:
        await callback.answer(_("There is no electronic copy of this item."), show_alert=True)
        return
    chat_id = callback.from_user.id
    caption = f"<b>{esc(_cut(item.title, 900))}</b>"
    if item.file_id:
        await callback.answer()
        try:
            await bot.send_document(chat_id, item.file_id, caption=caption)
            return
        except TelegramBadRequest as exc:
            # A file id from another bot token or a purged file: typeset it again below.
            log.warning("cached library file %s refused: %s", item.id, exc.message)
    if not item.body:
        await callback.answer(
            _("The electronic copy has not been attached to this item yet."), show_alert=True
        )
        return
    await callback.answer(_("Preparing the file…"))
    data = await asyncio.to_thread(library.render_item_pdf, item)
    sent = await bot.send_document(
        chat_id,
        BufferedInputFile(data, filename=library.pdf_file_name(item)),
        caption=caption,
    )
    if sent.document is not None:
        async with db.write() as session:
            await library.remember_file_id(session, item.id, sent.document.file_id)


async def on_item_link(
    message: Message, command: CommandObject, state: FSMContext, db: Database, viewer: Viewer
) -> None:
    """/start lib_<id>: the "open in the bot" button of a card shared through inline mode."""
    await state.clear()
    await state.set_state(LibraryStates.quick)
    item_id = int((command.args or "lib_0").removeprefix("lib_"))
    await _show_item(message, db, viewer, item_id, 0, 0)


# ---- inline mode -----------------------------------------------------------------------------


async def on_inline_query(
    inline_query: InlineQuery, viewer: Viewer | None, db: Database, bot: Bot
) -> None:
    """`@bot words` typed in any chat: matching catalogue items, 50 at a time."""
    if viewer is None:
        await inline_query.answer(
            [],
            cache_time=0,
            is_personal=True,
            button=InlineQueryResultsButton(
                text=_("Sign in to search the library"), start_parameter="signin"
            ),
        )
        return
    raw_offset = inline_query.offset or "0"
    offset = int(raw_offset) if raw_offset.isdigit() and len(raw_offset) < 9 else 0
    async with db.read() as session:
        items, next_offset = await library.inline_search(session, inline_query.query, offset)
    me = await bot.me()
    results = []
    for item in items:
        details = " · ".join(part for part in (item.authors, str(item.year or "")) if part)
        open_button = None
        if me.username:
            open_button = InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text=_("📚 Open in the library"),
                            url=f"https://t.me/{me.username}?start=lib_{item.id}",
                        )
                    ]
                ]
            )
        results.append(
            InlineQueryResultArticle(
                id=f"lib{item.id}",
                title=_cut(item.title, 200),
                description=_cut(
                    f"{details} · {kind_label(item.kind.value)}"
                    if details
                    else kind_label(item.kind.value),
                    200,
                ),
                input_message_content=InputTextMessageContent(
                    message_text=item_card(item, full=False)
                ),
                reply_markup=open_button,
            )
        )
    await inline_query.answer(
        results,
        cache_time=30,
        is_personal=True,
        next_offset=str(next_offset) if next_offset is not None else "",
    )


def get_inline_router() -> Router:
    router = Router(name="library_inline")
    router.inline_query.register(on_inline_query)
    return router


def get_router() -> Router:
    router = Router(name="library")
    router.callback_query.register(on_nav_library, NavCb.filter(F.to == "library"))
    router.callback_query.register(on_get_copy, LibCb.filter(F.a == "get"))
    router.callback_query.register(on_item, LibCb.filter(F.a == "item"))
    router.callback_query.register(on_results, LibCb.filter(F.a == "res"))
    router.callback_query.register(on_edit_search, LibCb.filter(F.a == "edit"))
    router.callback_query.register(on_form, LibCb.filter(F.a == "form"))
    router.callback_query.register(on_clear_form, LibCb.filter(F.a == "clear"))
    router.callback_query.register(on_field, LibCb.filter((F.a == "field") & F.v.in_(TEXT_FIELDS)))
    router.callback_query.register(on_language_choice, LibCb.filter(F.a == "lang"))
    router.callback_query.register(on_kind_choice, LibCb.filter(F.a == "kind"))
    router.callback_query.register(on_set_language, LibCb.filter(F.a == "setl"))
    router.callback_query.register(on_set_kind, LibCb.filter(F.a == "setk"))
    router.callback_query.register(on_run, LibCb.filter(F.a == "run"))
    # Last: a button of an action that no longer exists.
    router.callback_query.register(on_stale_button, LibCb.filter())
    router.callback_query.register(on_page, PageCb.filter(F.scope == "lib"))
    router.message.register(
        on_item_link, CommandStart(deep_link=True, magic=F.args.regexp(r"^lib_\d{1,9}$"))
    )
    router.message.register(
        on_quick_text,
        StateFilter(LibraryStates.quick, LibraryStates.form),
        F.text,
        ~F.text.startswith("/"),
    )
    router.message.register(
        on_value_text, StateFilter(LibraryStates.value), F.text, ~F.text.startswith("/")
    )
    router.message.register(
        on_value_not_text,
        StateFilter(LibraryStates.quick, LibraryStates.form, LibraryStates.value),
        ~F.text,
    )
    return router


MODULE = Module(
    name="library",
    router=get_router,
    root_router=get_inline_router,
    menu=(MenuItem(to="library", label=lambda: _("📚 Library"), order=310),),
)
