"""What every job receives: the database, the bot, translations, settings and the clock."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot
from aiogram.utils.i18n import I18n

from bot.clock import Clock
from bot.config import Settings
from db.session import Database


@dataclass(frozen=True, slots=True)
class JobContext:
    db: Database
    bot: Bot
    i18n: I18n
    settings: Settings
    clock: Clock
