"""A scripted Telegram user that talks to the real aiogram ``Dispatcher``.

Updates are built as Bot API JSON and validated by aiogram itself, then fed through
``Dispatcher.feed_update``; the bot's answers land in the :class:`FakeBotSession` chat view.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiogram.methods import AnswerCallbackQuery, AnswerInlineQuery, TelegramMethod
from aiogram.types import InlineKeyboardButton, ReplyKeyboardMarkup, Update

from .fake_session import ChatMessage, FakeBotSession

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher

__all__ = ["BotClient"]

# Shared by every client so that update ids (and query ids) grow across users and chats.
_update_ids = itertools.count(1)
_query_ids = itertools.count(1)

_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{1,32})?")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class BotClient:
    """A user (in a private chat or a group) who sends messages and presses buttons."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        session: FakeBotSession,
        user_id: int = 1001,
        first_name: str = "Aru",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        chat_id: int | None = None,
        chat_type: str = "private",
    ) -> None:
        """Register the user and the chat in ``session``.

        For ``chat_type="private"`` the chat id defaults to ``user_id``; group chats need an
        explicit (negative) ``chat_id``.
        """
        if chat_type != "private" and chat_id is None:
            raise ValueError(f"a {chat_type} chat needs an explicit negative chat_id")
        self.dispatcher = dispatcher
        self.bot = bot
        self.session = session
        self.user_id = user_id
        self.chat_id = user_id if chat_id is None else chat_id
        self.chat_type = chat_type
        self.user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        for key, value in (
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value is not None:
                self.user[key] = value
        self.callback_ids: list[str] = []
        session.register_user(self.user)
        if chat_type == "private":
            names = ("first_name", "last_name", "username")
            info = {key: value for key, value in self.user.items() if key in names}
            session.register_chat(self.chat_id, "private", **info)
        else:
            title = f"Test {chat_type} {self.chat_id}"
            session.register_chat(self.chat_id, chat_type, title=title)

    # ---- actions -----------------------------------------------------------------------------

    async def send(self, text: str) -> list[TelegramMethod[Any]]:
        """Send a text message (a leading ``/command`` gets a ``bot_command`` entity)."""
        message = self._user_message(text=text)
        payload = self.session.message_json(message)
        if match := _COMMAND_RE.match(text):
            payload["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(match.group())}
            ]
        return await self._feed({"message": payload})

    async def send_document(
        self,
        file_name: str,
        content: bytes,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> list[TelegramMethod[Any]]:
        """Send a document; the bot can fetch it with ``bot.download(document)``."""
        stored = self.session.add_file(None, content, file_name, mime_type, kind="document")
        message = self._user_message(text=caption, media_type="document", file=stored)
        return await self._feed({"message": self.session.message_json(message)})

    async def send_photo(
        self, content: bytes, caption: str | None = None
    ) -> list[TelegramMethod[Any]]:
        """Send a photo; the bot can fetch it with ``bot.download(message.photo[-1])``."""
        stored = self.session.add_file(None, content, None, "image/jpeg", kind="photo")
        message = self._user_message(text=caption, media_type="photo", file=stored)
        return await self._feed({"message": self.session.message_json(message)})

    async def click(
        self,
        text: str | re.Pattern[str],
        message: ChatMessage | int | None = None,
    ) -> list[TelegramMethod[Any]]:
        """Press an inline button found by exact text, then by substring (or by a regex).

        Without ``message`` the newest visible bot message having such a button is used.
        """
        if message is None:
            candidates = [m for m in reversed(self.messages()) if m.from_bot and m.reply_markup]
        else:
            candidates = [self._resolve_message(message)]
        button, target = self._find_button(text, candidates)
        if button.disabled is not None:
            raise AssertionError(f"button {button.text!r} is disabled")
        if button.callback_data is None:
            kinds = [k for k, v in button if v is not None and k != "text"]
            raise AssertionError(
                f"button {button.text!r} is not a callback button ({', '.join(kinds)}) "
                "and cannot be clicked"
            )
        return await self._press(button.callback_data, target)

    async def click_data(
        self, data: str, message_id: int | None = None
    ) -> list[TelegramMethod[Any]]:
        """Send a callback query with arbitrary ``data`` (e.g. a forged payload)."""
        if message_id is None:
            target = self.session.last_bot_message(self.chat_id)
        else:
            target = self.session.chats.get(self.chat_id, {}).get(message_id)
        return await self._press(data, target)

    async def inline(self, query: str, offset: str = "") -> AnswerInlineQuery | None:
        """Type an inline query; return the bot's ``AnswerInlineQuery`` (or ``None``)."""
        query_id = f"iq{next(_query_ids)}"
        payload = {
            "id": query_id,
            "from": self.user,
            "query": query,
            "offset": offset,
            "chat_type": "sender" if self.chat_type == "private" else self.chat_type,
        }
        requests = await self._feed({"inline_query": payload})
        for request in requests:
            if isinstance(request, AnswerInlineQuery) and request.inline_query_id == query_id:
                return request
        return None

    # ---- what the user sees ------------------------------------------------------------------

    def messages(self) -> list[ChatMessage]:
        """Visible messages of the chat (bot and user), oldest first."""
        return self.session.visible(self.chat_id)

    def last_message(self) -> ChatMessage:
        """The newest visible bot message; fails the test if there is none."""
        message = self.session.last_bot_message(self.chat_id)
        if message is None:
            raise AssertionError(f"the bot has not sent anything visible to chat {self.chat_id}")
        return message

    def buttons(self, message: ChatMessage | int | None = None) -> list[str]:
        """Inline button texts of ``message`` or of the newest bot message with a keyboard."""
        if message is not None:
            return self._resolve_message(message).buttons()
        for candidate in reversed(self.messages()):
            if candidate.from_bot and candidate.reply_markup:
                return candidate.buttons()
        return []

    def reply_buttons(self) -> list[str]:
        """Texts of the reply keyboard currently shown to the user."""
        keyboard = self.session.reply_keyboards.get(self.chat_id)
        if not isinstance(keyboard, ReplyKeyboardMarkup):
            return []
        return [button.text for row in keyboard.keyboard for button in row]

    def answers(self) -> list[AnswerCallbackQuery]:
        """The bot's ``AnswerCallbackQuery`` requests for this client's button presses."""
        mine = set(self.callback_ids)
        return [
            request
            for request in self.session.requests_of(AnswerCallbackQuery)
            if request.callback_query_id in mine
        ]

    def last_answer(self) -> AnswerCallbackQuery | None:
        """The latest ``AnswerCallbackQuery`` for this client's presses, if any."""
        answers = self.answers()
        return answers[-1] if answers else None

    # ---- internals ---------------------------------------------------------------------------

    def _user_message(self, **fields: Any) -> ChatMessage:
        message = ChatMessage(
            message_id=self.session.allocate_message_id(self.chat_id),
            chat_id=self.chat_id,
            from_bot=False,
            date=datetime.now(tz=UTC),
            sender_id=self.user_id,
            raw_text=fields.get("text"),
            **fields,
        )
        return self.session.add_message(message)

    def _resolve_message(self, message: ChatMessage | int) -> ChatMessage:
        if isinstance(message, ChatMessage):
            return message
        found = self.session.chats.get(self.chat_id, {}).get(message)
        if found is None:
            raise AssertionError(f"no message {message} in chat {self.chat_id}")
        return found

    @staticmethod
    def _find_button(
        text: str | re.Pattern[str], candidates: list[ChatMessage]
    ) -> tuple[InlineKeyboardButton, ChatMessage]:
        def buttons() -> list[tuple[InlineKeyboardButton, ChatMessage]]:
            return [
                (button, message)
                for message in candidates
                if message.reply_markup is not None
                for row in message.reply_markup.inline_keyboard
                for button in row
            ]

        if isinstance(text, re.Pattern):
            checks = [lambda b: text.search(b.text) is not None]
        else:
            checks = [lambda b: b.text == text, lambda b: text in b.text]
        for check in checks:
            for button, message in buttons():
                if check(button):
                    if message.deleted:
                        raise AssertionError(f"message {message.message_id} is deleted")
                    return button, message
        available = (
            "\n".join(f"  message {m.message_id}: {m.buttons()}" for m in candidates)
            or "  (no inline keyboards)"
        )
        raise AssertionError(f"no button matching {text!r}; available buttons:\n{available}")

    async def _press(self, data: str, target: ChatMessage | None) -> list[TelegramMethod[Any]]:
        query_id = f"cq{next(_query_ids)}"
        self.callback_ids.append(query_id)
        payload: dict[str, Any] = {
            "id": query_id,
            "from": self.user,
            "chat_instance": f"ci{self.chat_id}",
            "data": data,
        }
        if target is not None:
            payload["message"] = self.session.message_json(target)
        return await self._feed({"callback_query": payload})

    async def _feed(self, payload: dict[str, Any]) -> list[TelegramMethod[Any]]:
        update = Update.model_validate(
            {"update_id": next(_update_ids), **payload}, context={"bot": self.bot}
        )
        with self.session.capture() as captured:
            await self.dispatcher.feed_update(self.bot, update)
        return list(captured)
