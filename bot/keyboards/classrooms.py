"""Classroom buttons. Ids in the payload are only pointers: every press is checked against the
classroom's group and teacher on the server."""

from __future__ import annotations

from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.keyboards.academic import class_kind_label
from db.models.academic import ClassKind


class ClsCb(CallbackData, prefix="cls"):
    """`a`: list (f form, t term, k kind, p page), room, mats, mat (m), rm, rmok, write, add,
    mem (p), mute (u), conv (p). `c` is the classroom id."""

    a: str
    c: int = 0
    m: int = 0
    u: int = 0
    p: int = 0
    f: int = 0
    t: int = 0
    k: str = ""


def kind_label(kind: str) -> str:
    try:
        return class_kind_label(ClassKind(kind))
    except ValueError:
        return kind


def cls_button(text: str, **data: Any) -> InlineKeyboardButton:
    """A button of the classrooms' screens: `data` are the fields of ClsCb."""
    return InlineKeyboardButton(text=text, callback_data=ClsCb(**data).pack())


def room_button(text: str, classroom_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=ClsCb(a="room", c=classroom_id).pack())


def remove_material_keyboard(classroom_id: int, material_id: int) -> InlineKeyboardMarkup:
    """Confirm or cancel the removal of a material."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                cls_button(_("🗑 Remove"), a="rmok", c=classroom_id, m=material_id),
                cls_button(_("✖️ Cancel"), a="mats", c=classroom_id),
            ]
        ]
    )
