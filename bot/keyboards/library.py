"""Library buttons: the guided search form, results and item cards."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.keyboards.common import NavCb, back_button, pager_row, rows
from bot.services.library import LANGUAGES, TEXT_FIELDS, Criteria
from db.models.library import ItemKind


class LibCb(CallbackData, prefix="lib"):
    """`a` is the action; `v` a field, language or kind name; `s` a search id; `i` an item id;
    `p` a page. Every id is checked against the database and the person pressing."""

    a: str
    v: str = ""
    s: int = 0
    i: int = 0
    p: int = 0


def field_label(name: str) -> str:
    return {
        "title": _("Title"),
        "code": _("Code"),
        "author": _("Author"),
        "publisher": _("Publisher"),
        "description": _("Description"),
        "language": _("Language"),
        "kind": _("Kind"),
        "anything": _("Any field"),
    }[name]


def language_label(code: str) -> str:
    return {"kk": _("Kazakh"), "ru": _("Russian"), "en": _("English")}.get(code, code)


def kind_label(kind: str) -> str:
    return {
        ItemKind.electronic.value: _("electronic"),
        ItemKind.paper.value: _("paper"),
    }.get(kind, kind)


def main_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("🔎 Search by fields"), callback_data=LibCb(a="form").pack()
                )
            ],
            [
                InlineKeyboardButton(
                    text=_("↗️ Search from any chat"), switch_inline_query_current_chat=""
                )
            ],
            [back_button()],
        ]
    )


def form_keyboard(criteria: Criteria) -> InlineKeyboardMarkup:
    def mark(name: str, value: str) -> str:
        return ("✅ " if value else "") + field_label(name)

    buttons = [
        InlineKeyboardButton(
            text=mark(name, getattr(criteria, name)),
            callback_data=LibCb(a="field", v=name).pack(),
        )
        for name in TEXT_FIELDS
    ]
    buttons.append(
        InlineKeyboardButton(
            text=mark("language", criteria.language), callback_data=LibCb(a="lang").pack()
        )
    )
    buttons.append(
        InlineKeyboardButton(
            text=mark("kind", criteria.kind), callback_data=LibCb(a="kind").pack()
        )
    )
    keyboard = rows(buttons, per_row=2)
    keyboard.append(
        [
            InlineKeyboardButton(text=_("🔍 Search"), callback_data=LibCb(a="run").pack()),
            InlineKeyboardButton(text=_("🧹 Clear"), callback_data=LibCb(a="clear").pack()),
        ]
    )
    keyboard.append([back_button("library")])
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def language_choice_keyboard() -> InlineKeyboardMarkup:
    choices = [
        InlineKeyboardButton(
            text=language_label(code), callback_data=LibCb(a="setl", v=code).pack()
        )
        for code in LANGUAGES
    ]
    choices.append(
        InlineKeyboardButton(text=_("Any language"), callback_data=LibCb(a="setl").pack())
    )
    return InlineKeyboardMarkup(
        inline_keyboard=[*rows(choices, per_row=2), [back_button_to_form()]]
    )


def kind_choice_keyboard() -> InlineKeyboardMarkup:
    choices = [
        InlineKeyboardButton(
            text=kind_label(kind.value), callback_data=LibCb(a="setk", v=kind.value).pack()
        )
        for kind in ItemKind
    ]
    choices.append(InlineKeyboardButton(text=_("Any kind"), callback_data=LibCb(a="setk").pack()))
    return InlineKeyboardMarkup(
        inline_keyboard=[*rows(choices, per_row=2), [back_button_to_form()]]
    )


def back_button_to_form() -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("« Back"), callback_data=LibCb(a="form").pack())


def results_keyboard(
    search_id: int, item_ids: list[int], first_number: int, page: int, pages: int
) -> InlineKeyboardMarkup:
    numbered = [
        InlineKeyboardButton(
            text=str(first_number + n),
            callback_data=LibCb(a="item", s=search_id, i=item_id, p=page).pack(),
        )
        for n, item_id in enumerate(item_ids)
    ]
    keyboard = rows(numbered, per_row=4)
    pager = pager_row("lib", search_id, page, pages)
    if pager:
        keyboard.append(pager)
    keyboard.append(
        [
            InlineKeyboardButton(
                text=_("✏️ Change the search"), callback_data=LibCb(a="edit", s=search_id).pack()
            )
        ]
    )
    keyboard.append(
        [InlineKeyboardButton(text=_("« Library"), callback_data=NavCb(to="library").pack())]
    )
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def item_keyboard(
    item_id: int,
    *,
    downloadable: bool,
    url: str | None,
    search_id: int,
    page: int,
) -> InlineKeyboardMarkup:
    keyboard: list[list[InlineKeyboardButton]] = []
    if downloadable:
        keyboard.append(
            [
                InlineKeyboardButton(
                    text=_("📥 Get the file"), callback_data=LibCb(a="get", i=item_id).pack()
                )
            ]
        )
    if url:
        keyboard.append([InlineKeyboardButton(text=_("🌐 Open the electronic copy"), url=url)])
    if search_id:
        keyboard.append(
            [
                InlineKeyboardButton(
                    text=_("« Results"), callback_data=LibCb(a="res", s=search_id, p=page).pack()
                )
            ]
        )
    keyboard.append([back_button("library", _("« Library"))])
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def back_to_form_keyboard() -> InlineKeyboardMarkup:
    """«Cancel» under a question of the search form: back to the form."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=LibCb(a="form").pack())]
        ]
    )
