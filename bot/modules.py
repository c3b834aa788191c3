"""What a feature module contributes to the bot: a router, home-menu buttons, home summary lines.

`bot/handlers/__init__.py` lists the modules; the home screen and the dispatcher are built from
that list, so adding a module is one line there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiogram import Router
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.services.auth import Viewer
from db.models import Role

ALL_ROLES = frozenset(Role)


@dataclass(frozen=True, slots=True)
class HomeContext:
    session: AsyncSession
    viewer: Viewer
    settings: Settings
    now: datetime
    locale: str


@dataclass(frozen=True, slots=True)
class MenuItem:
    """A button on the home screen; `to` is the NavCb target the module handles."""

    to: str
    label: Callable[[], str]
    roles: frozenset[Role] = ALL_ROLES
    order: int = 100


@dataclass(frozen=True, slots=True)
class Module:
    name: str
    router: Callable[[], Router]
    menu: tuple[MenuItem, ...] = ()
    # Lines for the "at a glance" part of the home screen (already translated, HTML-safe).
    home_lines: Callable[[HomeContext], Awaitable[list[str]]] | None = None
    # Bot commands this module adds to the menu of Telegram: (command, description factory).
    commands: tuple[tuple[str, Callable[[], str]], ...] = field(default=())
    # Private-chat handlers that must also serve people who are not signed in (a deep link such
    # as /start v_<token> from a QR code); they see updates before sign-in does.
    public_router: Callable[[], Router] | None = None
    # Handlers outside private chats (inline queries); they see updates before everything else.
    root_router: Callable[[], Router] | None = None
