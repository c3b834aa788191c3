"""Shared plumbing of the command-line tools: settings without a token, a migrated database."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.config import ConfigError, Settings, load_settings
from bot.services.journal import use_academic_settings
from db.migrate import upgrade
from db.session import Database


def cli_settings() -> Settings:
    try:
        settings = load_settings(require_token=False)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    use_academic_settings(settings.academic)  # imported marks are graded by these rules
    return settings


@asynccontextmanager
async def cli_database(settings: Settings) -> AsyncIterator[Database]:
    db = Database.from_url(settings.database_url)
    try:
        await upgrade(db)
        yield db
    finally:
        await db.dispose()
