"""The demo university: `python -m bot.demo` fills an empty database with realistic data.

Each feature adds a seeder to `SEEDERS`; every seeder is idempotent (it looks things up by their
natural keys first), so running the command twice does no harm.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo import academic, core
from bot.demo import appeals as appeals_demo
from bot.demo import classrooms as classrooms_demo
from bot.demo import library as library_demo
from bot.demo import messages as messages_demo
from bot.demo import service_centre as service_centre_demo
from bot.demo import testing as testing_demo
from bot.demo.context import DemoContext

Seeder = Callable[[AsyncSession, DemoContext], Awaitable[None]]

SEEDERS: tuple[Seeder, ...] = (
    core.seed,
    library_demo.seed,
    academic.seed,
    classrooms_demo.seed,
    testing_demo.seed,
    appeals_demo.seed,
    service_centre_demo.seed,
    messages_demo.seed,
)

__all__ = ["SEEDERS", "DemoContext", "Seeder"]
