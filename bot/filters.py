"""Router-level filters: who may reach a handler."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from bot.services.auth import Viewer
from db.models import Role
from db.session import Database


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


class HasSubRole(Filter):
    """Passes for administrators, and for staff holding the sub-role (registrar, service centre,
    dean's office, appeal commission) given them in the administration."""

    def __init__(self, sub_role: str) -> None:
        self.sub_role = sub_role

    async def __call__(
        self, event: TelegramObject, viewer: Viewer | None = None, db: Database | None = None
    ) -> bool:
        if viewer is None or db is None:
            return False
        if viewer.role is Role.admin:
            return True
        if viewer.role is not Role.staff:
            return False
        from bot.services.roles import has_sub_role

        async with db.read() as session:
            return await has_sub_role(session, viewer.user_id, self.sub_role)
