"""Router-level filters: who may reach a handler."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from bot.services.auth import Viewer
from db.models import Role


class SignedIn(Filter):
    """Passes when the sender is bound to an AIS account (optionally of one of `roles`)."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    async def __call__(self, event: TelegramObject, viewer: Viewer | None = None) -> bool:
        if viewer is None:
            return False
        return not self.roles or viewer.role in self.roles


class NotSignedIn(Filter):
    async def __call__(self, event: TelegramObject, viewer: Viewer | None = None) -> bool:
        return viewer is None


def viewer_of(data: dict[str, Any]) -> Viewer | None:
    value = data.get("viewer")
    return value if isinstance(value, Viewer) else None
