"""Renderers turn an outbox row into a message, in the recipient's language, at send time.

The view modules listed in `bot.views.RENDERER_MODULES` register theirs with
`@renderer("<feature>.<name>")`, and are loaded before the first lookup; the worker calls them
inside the recipient's locale, so `_()` works as in a handler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    buttons: list[list[InlineKeyboardButton]] = field(default_factory=list)
    # A Telegram file id to send as a document or photo, the text becoming its caption.
    document: str | None = None
    photo: str | None = None
    protect: bool = False

    @property
    def markup(self) -> InlineKeyboardMarkup | None:
        return InlineKeyboardMarkup(inline_keyboard=self.buttons) if self.buttons else None


Renderer = Callable[[dict[str, Any], str], Rendered]
_RENDERERS: dict[str, Renderer] = {}


class UnknownTemplate(KeyError):
    pass


def renderer(template: str) -> Callable[[Renderer], Renderer]:
    def register(func: Renderer) -> Renderer:
        existing = _RENDERERS.get(template)
        if existing is not None and existing is not func:
            raise ValueError(f"renderer {template!r} is registered twice")
        _RENDERERS[template] = func
        return func

    return register


def _load_views() -> None:
    from bot.views import load_renderers  # the views import this module for `renderer`

    load_renderers()


def render(template: str, params: dict[str, Any], locale: str) -> Rendered:
    _load_views()
    try:
        func = _RENDERERS[template]
    except KeyError:
        raise UnknownTemplate(template) from None
    return func(params, locale)


def known_templates() -> frozenset[str]:
    _load_views()
    return frozenset(_RENDERERS)
