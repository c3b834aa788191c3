"""Test doubles for the Telegram Bot API and a scripted user driving the real Dispatcher."""

from .client import BotClient
from .fake_session import (
    BOT_FIRST_NAME,
    BOT_ID,
    BOT_USERNAME,
    ChatMessage,
    FakeBotSession,
    ParsedText,
    StoredFile,
    TelegramHtmlError,
    parse_html,
)

__all__ = [
    "BOT_FIRST_NAME",
    "BOT_ID",
    "BOT_USERNAME",
    "BotClient",
    "ChatMessage",
    "FakeBotSession",
    "ParsedText",
    "StoredFile",
    "TelegramHtmlError",
    "parse_html",
]
