"""The demo university: `python -m bot.demo` fills an empty database with realistic data.

Each feature adds a seeder to `SEEDERS`; every seeder is idempotent (it looks things up by their
natural keys first), so running the command twice does no harm.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo import core
from bot.demo.context import DemoContext

Seeder = Callable[[AsyncSession, DemoContext], Awaitable[None]]

SEEDERS: tuple[Seeder, ...] = (core.seed,)

__all__ = ["SEEDERS", "DemoContext", "Seeder"]
