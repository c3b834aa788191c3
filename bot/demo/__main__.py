"""`python -m bot.demo`: fill the database with the demo university and print its accounts."""

from __future__ import annotations

import asyncio
import logging

from bot.cli import cli_database, cli_settings
from bot.demo import SEEDERS, DemoContext
from db.base import utcnow
from db.session import Database


async def fill(db: Database, ctx: DemoContext) -> DemoContext:
    """Run every seeder in one write unit: the demo lands whole or not at all."""
    async with db.write() as session:
        for seeder in SEEDERS:
            await seeder(session, ctx)
    return ctx


async def main() -> None:
    settings = cli_settings()
    ctx = DemoContext(today=utcnow().astimezone(settings.tz).date(), tz=settings.tz)
    async with cli_database(settings) as db:
        await fill(db, ctx)
    for role, login, password in ctx.accounts:
        print(f"{role} {login} {password}")


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main())
