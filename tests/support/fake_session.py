"""An in-memory Telegram Bot API for tests.

``FakeBotSession`` replaces aiogram's HTTP session: every request is recorded, answered the way
Telegram would answer it and fed back through aiogram's own ``check_response`` so that result
types and error classes are exactly the ones production code sees.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import mimetypes
import re
import time
from collections import defaultdict
from collections.abc import AsyncGenerator, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from aiogram.client.default import Default
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    AnswerCallbackQuery,
    AnswerInlineQuery,
    CopyMessage,
    DeleteMessage,
    DeleteMessages,
    DeleteMyCommands,
    EditMessageCaption,
    EditMessageMedia,
    EditMessageReplyMarkup,
    EditMessageText,
    ForwardMessage,
    GetChatMenuButton,
    GetFile,
    GetMyCommands,
    SendAnimation,
    SendAudio,
    SendDocument,
    SendMediaGroup,
    SendMessage,
    SendPhoto,
    SendVideo,
    SendVoice,
    SetChatMenuButton,
    SetMyCommands,
    TelegramMethod,
)
from aiogram.types import (
    ForceReply,
    InlineKeyboardMarkup,
    InputFile,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    TelegramObject,
    URLInputFile,
)

if TYPE_CHECKING:
    from aiogram.client.bot import Bot

__all__ = [
    "BOT_FIRST_NAME",
    "BOT_ID",
    "BOT_USERNAME",
    "ChatMessage",
    "FakeBotSession",
    "ParsedText",
    "StoredFile",
    "TelegramHtmlError",
    "parse_html",
]

BOT_ID = 42
BOT_USERNAME = "ais_test_bot"
BOT_FIRST_NAME = "AIS"

MESSAGE_TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
CALLBACK_ANSWER_LIMIT = 200
UPLOAD_LIMIT = 50 * 1024 * 1024
DOWNLOAD_LIMIT = 20 * 1024 * 1024

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
BLOCKED = "Forbidden: bot was blocked by the user"

ReplyKeyboard = ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply
MethodT = TypeVar("MethodT", bound=TelegramMethod[Any])

# Collectors of the requests made inside ``FakeBotSession.capture()``. A context variable (not a
# shared list) keeps concurrent clients apart: tasks spawned by a handler inherit it as well.
_CAPTURES: ContextVar[tuple[list[TelegramMethod[Any]], ...]] = ContextVar(
    "fake_bot_session_captures", default=()
)


# --------------------------------------------------------------------------------------------
# Telegram HTML
# --------------------------------------------------------------------------------------------


class TelegramHtmlError(ValueError):
    """Raised by :func:`parse_html` with the text Telegram puts after "can't parse entities: "."""


@dataclass(frozen=True)
class ParsedText:
    """Visible text and entities (UTF-16 offsets, as in the Bot API) of a formatted text."""

    text: str
    entities: list[MessageEntity]


@dataclass
class _OpenTag:
    name: str
    offset: int
    begin: int
    attribute: str | None = None
    language: str | None = None


_SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_SIMPLE_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
# tdlib's is_space(); NUL is left out because Python strings have an explicit end.
_HTML_SPACES = frozenset(" \t\r\n\v")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TRIM_CHARS = " \t\n\r\v\f"


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _decode_entity(source: str, pos: int) -> tuple[str, int] | None:
    """Decode an HTML entity starting at ``source[pos] == "&"`` the way tdlib does."""
    n = len(source)
    end = pos + 1
    if end < n and source[end] == "#":
        end += 1
        if end < n and source[end] == "x":
            end += 1
            digits_start = end
            while end < n and source[end] in "0123456789abcdefABCDEF":
                end += 1
            base = 16
        else:
            digits_start = end
            while end < n and source[end] in "0123456789":
                end += 1
            base = 10
        digits = source[digits_start:end]
        if not digits or end - pos >= 10:
            return None
        code = int(digits, base)
        if code == 0 or code >= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        char = chr(code)
    else:
        while end < n and source[end].isascii() and source[end].isalpha():
            end += 1
        named = _NAMED_ENTITIES.get(source[pos + 1 : end])
        if named is None:
            return None
        char = named
    if end < n and source[end] == ";":
        end += 1
    return char, end


def _parse_start_tag(source: str, begin: int) -> tuple[_OpenTag, int]:
    """Parse ``<name attr=value ...>`` at ``begin``; return the tag and the index after ``>``."""
    n = len(source)
    offset = _byte_offset(source, begin)
    i = begin + 1
    while i < n and source[i] not in _HTML_SPACES and source[i] != ">":
        i += 1
    if i >= n:
        raise TelegramHtmlError(f"Unclosed start tag at byte offset {offset}")
    name = source[begin + 1 : i].lower()
    if name not in _SUPPORTED_TAGS:
        raise TelegramHtmlError(f'Unsupported start tag "{name}" at byte offset {offset}')
    tag = _OpenTag(name=name, offset=0, begin=offset)
    while True:
        while i < n and source[i] in _HTML_SPACES:
            i += 1
        if i >= n:
            raise TelegramHtmlError(f"Unclosed start tag at byte offset {offset}")
        if source[i] == ">":
            i += 1
            break
        attr_begin = i
        while i < n and source[i] not in _HTML_SPACES and source[i] not in "=>":
            i += 1
        attr_name = source[attr_begin:i].lower()
        if not attr_name:
            raise TelegramHtmlError(
                f'Empty attribute name in the tag "{name}" at byte offset {offset}'
            )
        while i < n and source[i] in _HTML_SPACES:
            i += 1
        if i >= n or source[i] != "=":
            if name == "blockquote" and attr_name == "expandable":
                tag.attribute = "expandable"
                continue
            raise TelegramHtmlError(
                "Expected equal sign in declaration of an attribute of the tag "
                f'"{name}" at byte offset {offset}'
            )
        i += 1
        while i < n and source[i] in _HTML_SPACES:
            i += 1
        if i >= n:
            raise TelegramHtmlError(f'Unclosed start tag "{name}" at byte offset {offset}')
        if source[i] in "'\"":
            quote = source[i]
            i += 1
            value_chars: list[str] = []
            while i < n and source[i] != quote:
                if source[i] == "&" and (decoded := _decode_entity(source, i)) is not None:
                    value_chars.append(decoded[0])
                    i = decoded[1]
                    continue
                value_chars.append(source[i])
                i += 1
            if i < n:
                i += 1
            value = "".join(value_chars)
        else:
            token_begin = i
            while i < n and ((source[i].isascii() and source[i].isalnum()) or source[i] in ".-"):
                i += 1
            value = source[token_begin:i].lower()
            if i < n and source[i] not in _HTML_SPACES and source[i] != ">":
                raise TelegramHtmlError(
                    f"Unexpected end of name token at byte offset "
                    f"{_byte_offset(source, token_begin)}"
                )
        if i >= n:
            raise TelegramHtmlError(f"Unclosed start tag at byte offset {offset}")
        if (
            (name == "a" and attr_name == "href")
            or (name == "span" and attr_name == "class")
            or (name == "tg-emoji" and attr_name == "emoji-id")
        ):
            tag.attribute = value
        elif name == "code" and attr_name == "class" and value.startswith("language-"):
            tag.attribute = value.removeprefix("language-")
    if name == "span" and tag.attribute != "tg-spoiler":
        raise TelegramHtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
    if name == "tg-emoji" and not (tag.attribute or "").isdigit():
        raise TelegramHtmlError(
            f"Invalid custom emoji identifier specified at byte offset {offset}"
        )
    return tag, i


def _close_entity(
    tag: _OpenTag, end: int, stack: list[_OpenTag], entities: list[MessageEntity]
) -> None:
    length = end - tag.offset
    if tag.name == "code" and tag.attribute and stack and stack[-1].name == "pre":
        parent = stack[-1]
        if parent.offset == tag.offset:
            # <pre><code class="language-x"> is one pre entity with a language.
            parent.language = tag.attribute
            return
    if length <= 0:
        return
    if tag.name == "a":
        if tag.attribute:
            entities.append(
                MessageEntity(
                    type="text_link", offset=tag.offset, length=length, url=tag.attribute
                )
            )
    elif tag.name == "tg-emoji":
        entities.append(
            MessageEntity(
                type="custom_emoji",
                offset=tag.offset,
                length=length,
                custom_emoji_id=tag.attribute,
            )
        )
    elif tag.name == "blockquote":
        kind = "expandable_blockquote" if tag.attribute == "expandable" else "blockquote"
        entities.append(MessageEntity(type=kind, offset=tag.offset, length=length))
    elif tag.name == "pre":
        entities.append(
            MessageEntity(type="pre", offset=tag.offset, length=length, language=tag.language)
        )
    else:
        entities.append(
            MessageEntity(type=_SIMPLE_ENTITY_TYPES[tag.name], offset=tag.offset, length=length)
        )


def parse_html(source: str, *, strict_ampersand: bool = True) -> ParsedText:
    """Parse Telegram-flavoured HTML into visible text and entities, or raise like Telegram.

    The grammar and error texts follow tdlib's ``parse_html``. One deliberate difference: with
    ``strict_ampersand`` (the default) a ``&`` that does not start a known entity is an error,
    as the Bot API documentation demands, although real Telegram keeps such a ``&`` verbatim.
    Leading and trailing whitespace is trimmed, as Telegram does for messages and captions.
    """
    parts: list[str] = []
    length16 = 0
    stack: list[_OpenTag] = []
    entities: list[MessageEntity] = []
    n = len(source)
    i = 0
    while i < n:
        char = source[i]
        if char == "&":
            decoded = _decode_entity(source, i)
            if decoded is None:
                if strict_ampersand:
                    raise TelegramHtmlError(
                        f"Character '&' at byte offset {_byte_offset(source, i)} doesn't start "
                        'an HTML entity and must be escaped as "&amp;"'
                    )
                decoded = ("&", i + 1)
            parts.append(decoded[0])
            length16 += _utf16_len(decoded[0])
            i = decoded[1]
            continue
        if char != "<":
            run_end = i + 1
            while run_end < n and source[run_end] not in "<&":
                run_end += 1
            run = source[i:run_end]
            parts.append(run)
            length16 += _utf16_len(run)
            i = run_end
            continue
        if i + 1 < n and source[i + 1] == "/":
            offset = _byte_offset(source, i)
            if not stack:
                raise TelegramHtmlError(f"Unexpected end tag at byte offset {offset}")
            j = i + 2
            while j < n and source[j] not in _HTML_SPACES and source[j] != ">":
                j += 1
            end_name = source[i + 2 : j].lower()
            while j < n and source[j] in _HTML_SPACES:
                j += 1
            if j >= n or source[j] != ">":
                raise TelegramHtmlError(f"Unclosed end tag at byte offset {offset}")
            tag = stack.pop()
            if end_name and end_name != tag.name:
                raise TelegramHtmlError(
                    f'Unmatched end tag at byte offset {offset}, expected "</{tag.name}>", '
                    f'found "</{end_name}>"'
                )
            _close_entity(tag, length16, stack, entities)
            i = j + 1
            continue
        tag, i = _parse_start_tag(source, i)
        tag.offset = length16
        stack.append(tag)
    if stack:
        raise TelegramHtmlError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        )
    return _trim("".join(parts), entities)


def _trim(text: str, entities: list[MessageEntity]) -> ParsedText:
    """Strip surrounding whitespace and shift/clip entities the way Telegram does."""
    stripped = text.strip(_TRIM_CHARS)
    if stripped == text:
        ordered = sorted(entities, key=lambda e: (e.offset, -e.length))
        return ParsedText(text=text, entities=ordered)
    lead16 = _utf16_len(text[: len(text) - len(text.lstrip(_TRIM_CHARS))])
    total16 = _utf16_len(stripped)
    clipped: list[MessageEntity] = []
    for entity in entities:
        start = max(entity.offset - lead16, 0)
        end = min(entity.offset + entity.length - lead16, total16)
        if end > start:
            clipped.append(entity.model_copy(update={"offset": start, "length": end - start}))
    clipped.sort(key=lambda e: (e.offset, -e.length))
    return ParsedText(text=stripped, entities=clipped)


# --------------------------------------------------------------------------------------------
# Stored state
# --------------------------------------------------------------------------------------------


@dataclass
class StoredFile:
    """A file known to the fake server, addressable by ``file_id`` and by ``file_path``."""

    file_id: str
    file_unique_id: str
    data: bytes
    kind: str
    file_name: str | None = None
    mime_type: str | None = None
    file_path: str = ""

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)


@dataclass
class ChatMessage:
    """One message as the user sees it in the chat."""

    message_id: int
    chat_id: int
    from_bot: bool
    date: datetime
    sender_id: int
    text: str | None = None
    """Visible text of a text message or caption of a media message (markup already parsed)."""
    raw_text: str | None = None
    """The text or caption exactly as it was sent, e.g. with HTML tags."""
    entities: list[MessageEntity] = field(default_factory=list)
    reply_markup: InlineKeyboardMarkup | None = None
    reply_keyboard: ReplyKeyboard | None = None
    media_type: str | None = None
    """``"document"``, ``"photo"``, ``"video"``, ``"audio"``, ``"voice"``, ``"animation"``."""
    file: StoredFile | None = None
    media_group_id: str | None = None
    forwarded_from: int | None = None
    """Sender of the original message, for forwarded messages."""
    forward_date: datetime | None = None
    protect_content: bool = False
    deleted: bool = False
    edited: bool = False
    edit_date: datetime | None = None

    @property
    def caption(self) -> str | None:
        """The caption of a media message (``None`` for text messages)."""
        return self.text if self.media_type else None

    @property
    def document_name(self) -> str | None:
        """File name of an attached document."""
        return self.file.file_name if self.file and self.media_type == "document" else None

    @property
    def document_bytes(self) -> bytes | None:
        """Content of an attached document."""
        return self.file.data if self.file and self.media_type == "document" else None

    @property
    def document_mime(self) -> str | None:
        """MIME type of an attached document."""
        return self.file.mime_type if self.file and self.media_type == "document" else None

    @property
    def photo_bytes(self) -> bytes | None:
        """Content of an attached photo."""
        return self.file.data if self.file and self.media_type == "photo" else None

    def buttons(self) -> list[str]:
        """Texts of the inline buttons, row by row."""
        if self.reply_markup is None:
            return []
        return [button.text for row in self.reply_markup.inline_keyboard for button in row]


@dataclass
class _FailRule:
    method: str
    chat_id: int | None
    error_code: int
    description: str
    retry_after: int | None
    remaining: int


class _ApiError(Exception):
    def __init__(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after


class _Bucket:
    """Token bucket that allows a burst of one second's worth of requests."""

    def __init__(self, rate: float, now: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.updated = now

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self) -> float:
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


def _normalize_method_name(method: str | type[TelegramMethod[Any]]) -> str:
    name = method if isinstance(method, str) else method.__api_method__
    return name.replace("_", "").lower()


def _dump(obj: TelegramObject) -> dict[str, Any]:
    return obj.model_dump(mode="json", exclude_none=True, by_alias=True, warnings=False)


_MEDIA_METHODS: dict[type[TelegramMethod[Any]], str] = {
    SendDocument: "document",
    SendPhoto: "photo",
    SendVideo: "video",
    SendAudio: "audio",
    SendVoice: "voice",
    SendAnimation: "animation",
}
_FILE_FOLDERS = {
    "document": "documents",
    "photo": "photos",
    "video": "videos",
    "audio": "music",
    "voice": "voice",
    "animation": "animations",
}
_FILE_ID_PREFIXES = {
    "document": "BQAC",
    "photo": "AgAC",
    "video": "BAAC",
    "audio": "CQAC",
    "voice": "AwAC",
    "animation": "CgAC",
}
_RATE_LIMITED_PREFIXES = ("send", "copy", "forward")


# --------------------------------------------------------------------------------------------
# The session
# --------------------------------------------------------------------------------------------


class FakeBotSession(BaseSession):
    """A Telegram Bot API double: records requests, answers like Telegram, never touches the net.

    State is updated synchronously inside ``make_request`` (the only await happens while
    reading non-buffered uploads, before any state changes), so concurrent tasks are safe.
    """

    def __init__(
        self,
        *,
        bot_id: int = BOT_ID,
        bot_username: str = BOT_USERNAME,
        bot_first_name: str = BOT_FIRST_NAME,
        strict_ampersand: bool = True,
    ) -> None:
        """Create an empty fake server; ``strict_ampersand`` is passed to :func:`parse_html`."""
        super().__init__()
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.strict_ampersand = strict_ampersand
        self.requests: list[TelegramMethod[Any]] = []
        self.chat_requests: defaultdict[int, int] = defaultdict(int)
        """How many requests named each chat (a cheap "has anything changed" per chat)."""
        self.callback_answers: dict[str, AnswerCallbackQuery] = {}
        """The answer given to each callback query, by its id."""
        self._watchers: set[asyncio.Event] = set()
        self.chats: defaultdict[int, dict[int, ChatMessage]] = defaultdict(dict)
        self.errors: list[tuple[TelegramMethod[Any], int, str]] = []
        """Every error answer given, as (request, error_code, description)."""
        self.reply_keyboards: dict[int, ReplyKeyboard] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.files: dict[str, StoredFile] = {}
        self.blocked: set[int] = set()
        self._files_by_path: dict[str, StoredFile] = {}
        self._chat_info: dict[int, dict[str, Any]] = {}
        self._users: dict[int, dict[str, Any]] = {bot_id: self.bot_user}
        self._next_message_id: dict[int, int] = {}
        self._file_counter = itertools.count(1)
        self._group_counter = itertools.count(1)
        self._answered_callbacks: set[str] = set()
        self._answered_inline: set[str] = set()
        self._fail_rules: list[_FailRule] = []
        self._clock: Callable[[], float] = time.monotonic
        self._chat_rate: float | None = None
        self._global_bucket: _Bucket | None = None
        self._chat_buckets: dict[int, _Bucket] = {}
        self._file_url_re = self._compile_file_url_re()
        self._handlers: dict[str, Callable[..., Any]] = {
            "getme": lambda bot, method, uploads: dict(self.bot_user, **self._bot_flags()),
            "sendmessage": self._send_message,
            "senddocument": self._send_media,
            "sendphoto": self._send_media,
            "sendvideo": self._send_media,
            "sendaudio": self._send_media,
            "sendvoice": self._send_media,
            "sendanimation": self._send_media,
            "sendmediagroup": self._send_media_group,
            "editmessagetext": self._edit_text,
            "editmessagecaption": self._edit_caption,
            "editmessagereplymarkup": self._edit_reply_markup,
            "editmessagemedia": self._edit_media,
            "deletemessage": self._delete_message,
            "deletemessages": self._delete_messages,
            "answercallbackquery": self._answer_callback_query,
            "answerinlinequery": self._answer_inline_query,
            "setmycommands": self._set_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getmycommands": self._get_my_commands,
            "setchatmenubutton": self._set_chat_menu_button,
            "getchatmenubutton": self._get_chat_menu_button,
            "getfile": self._get_file,
            "copymessage": self._copy_message,
            "forwardmessage": self._forward_message,
            "getupdates": lambda bot, method, uploads: [],
        }

    # ---- BaseSession -------------------------------------------------------------------------

    async def close(self) -> None:
        """Nothing to release."""

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> Any:
        """Record ``method``, answer it like Telegram and return the validated result."""
        self.requests.append(method)
        for captured in _CAPTURES.get():
            captured.append(method)
        chat_id = getattr(method, "chat_id", None)
        if isinstance(chat_id, int) or (
            isinstance(chat_id, str) and chat_id.lstrip("-").isdigit()
        ):
            self.chat_requests[int(chat_id)] += 1
        if isinstance(method, AnswerCallbackQuery):
            self.callback_answers.setdefault(method.callback_query_id, method)
        api_name = _normalize_method_name(method.__api_method__)
        try:
            self._check_delivery(api_name, method)
            handler = self._handlers.get(api_name)
            if handler is None:
                if method.__returning__ is bool:
                    return self._respond(bot, method, True)
                raise NotImplementedError(
                    f"FakeBotSession does not emulate {method.__api_method__!r} "
                    f"({type(method).__name__}); add a handler to tests/support/fake_session.py"
                )
            uploads = await self._read_uploads(bot, method)
            result = handler(bot, method, uploads)
        except _ApiError as error:
            return self._respond_error(bot, method, error)
        finally:
            for watcher in self._watchers:
                watcher.set()
        return self._respond(bot, method, result)

    async def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:  # noqa: ASYNC109
        """Wait until ``condition()`` holds, checking it now and after each request the bot
        makes (no polling); ``False`` if it still does not hold after ``timeout`` seconds."""
        if condition():
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        changed = asyncio.Event()
        self._watchers.add(changed)
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return condition()
                changed.clear()
                try:
                    await asyncio.wait_for(changed.wait(), remaining)
                except TimeoutError:
                    return condition()
                if condition():
                    return True
        finally:
            self._watchers.discard(changed)

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - BaseSession's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        """Yield the bytes of the file whose ``file_path`` is encoded in ``url``."""
        match = self._file_url_re.fullmatch(url)
        stored = self._files_by_path.get(match.group("path")) if match else None
        if stored is None:
            raise LookupError(f"FakeBotSession has no file at {url!r}")
        for start in range(0, len(stored.data), chunk_size):
            yield stored.data[start : start + chunk_size]

    # ---- public helpers ----------------------------------------------------------------------

    def requests_of(self, *method_types: type[MethodT]) -> list[MethodT]:
        """Recorded requests that are instances of any of ``method_types``."""
        return [request for request in self.requests if isinstance(request, method_types)]

    def clear(self) -> None:
        """Forget the recorded requests (chat state, files and failures are kept)."""
        self.requests.clear()
        self.chat_requests.clear()
        self.callback_answers.clear()

    @contextlib.contextmanager
    def capture(self) -> Iterator[list[TelegramMethod[Any]]]:
        """Collect the requests made by the current task and tasks it starts, inside the block."""
        captured: list[TelegramMethod[Any]] = []
        token = _CAPTURES.set((*_CAPTURES.get(), captured))
        try:
            yield captured
        finally:
            _CAPTURES.reset(token)

    def register_chat(self, chat_id: int, chat_type: str = "private", **info: Any) -> None:
        """Describe a chat (``title`` for groups, ``first_name``/``username`` for private)."""
        self._chat_info[chat_id] = {"id": chat_id, "type": chat_type, **info}

    def register_user(self, user: dict[str, Any]) -> None:
        """Remember a user (Bot API ``User`` JSON) so their messages carry a proper ``from``."""
        self._users[user["id"]] = user

    def chat_json(self, chat_id: int) -> dict[str, Any]:
        """Bot API ``Chat`` JSON for ``chat_id``."""
        info = self._chat_info.get(chat_id)
        if info is not None:
            return dict(info)
        if chat_id > 0:
            return {"id": chat_id, "type": "private"}
        chat_type = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": chat_type, "title": f"Chat {chat_id}"}

    def allocate_message_id(self, chat_id: int) -> int:
        """Next message id in ``chat_id`` (shared by bot and user messages)."""
        message_id = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = message_id
        return message_id

    def add_message(self, message: ChatMessage) -> ChatMessage:
        """Put a message into the chat view."""
        self.chats[message.chat_id][message.message_id] = message
        return message

    def new_file_id(self, kind: str = "document") -> tuple[str, str]:
        """A fresh ``(file_id, file_unique_id)`` pair."""
        number = next(self._file_counter)
        prefix = _FILE_ID_PREFIXES.get(kind, "BQAC")
        return f"{prefix}AgADfake{number:08d}", f"AgADu{number:08d}"

    def add_file(
        self,
        file_id: str | None,
        data: bytes,
        file_name: str | None = None,
        mime_type: str | None = None,
        *,
        kind: str = "document",
    ) -> StoredFile:
        """Register file bytes (e.g. sent by a user) so ``getFile``/``bot.download`` find them."""
        new_id, unique_id = self.new_file_id(kind)
        file_id = file_id or new_id
        if mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name)[0]
        suffix = Path(file_name).suffix if file_name else (".jpg" if kind == "photo" else "")
        number = unique_id.removeprefix("AgADu")
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=unique_id,
            data=data,
            kind=kind,
            file_name=file_name,
            mime_type=mime_type,
            file_path=f"{_FILE_FOLDERS.get(kind, 'documents')}/file_{int(number)}{suffix}",
        )
        self.files[file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def file_bytes(self, file_id: str) -> bytes:
        """Content of a stored file."""
        return self.files[file_id].data

    def visible(self, chat_id: int) -> list[ChatMessage]:
        """Non-deleted messages of the chat (bot and user), oldest first."""
        return [m for m in self.chats.get(chat_id, {}).values() if not m.deleted]

    def last_bot_message(self, chat_id: int) -> ChatMessage | None:
        """The newest non-deleted message sent by the bot in ``chat_id``."""
        for message in reversed(self.visible(chat_id)):
            if message.from_bot:
                return message
        return None

    def message_json(self, message: ChatMessage) -> dict[str, Any]:
        """Bot API ``Message`` JSON reflecting the current state of ``message``."""
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(message.date.timestamp()),
            "chat": self.chat_json(message.chat_id),
            "from": self._user_json(message.sender_id),
        }
        if message.media_type and message.file is not None:
            data[message.media_type] = self._media_json(message.file)
            if message.text:
                data["caption"] = message.text
                if message.entities:
                    data["caption_entities"] = [_dump(e) for e in message.entities]
        elif message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = [_dump(e) for e in message.entities]
        if message.reply_markup is not None:
            data["reply_markup"] = _dump(message.reply_markup)
        if message.edit_date is not None:
            data["edit_date"] = int(message.edit_date.timestamp())
        if message.protect_content:
            data["has_protected_content"] = True
        if message.media_group_id:
            data["media_group_id"] = message.media_group_id
        if message.forwarded_from is not None:
            data["forward_origin"] = {
                "type": "user",
                "date": int((message.forward_date or message.date).timestamp()),
                "sender_user": self._user_json(message.forwarded_from),
            }
        return data

    def _user_json(self, user_id: int) -> dict[str, Any]:
        return self._users.get(user_id, {"id": user_id, "is_bot": False, "first_name": "User"})

    # ---- failure injection -------------------------------------------------------------------

    def fail(
        self,
        method_name: str | type[TelegramMethod[Any]],
        chat_id: int | None = None,
        *,
        error_code: int = 400,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` matching calls with an error, then behave normally again.

        ``method_name`` is an API name (``"sendMessage"``, ``"send_message"``), a method class or
        ``"*"``; ``chat_id=None`` matches any chat. Without ``description`` a typical Telegram
        text for ``error_code`` is used.
        """
        if description is None:
            description = {
                400: "Bad Request: chat not found",
                403: BLOCKED,
                429: f"Too Many Requests: retry after {retry_after or 1}",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(error_code, f"Error {error_code}")
        if error_code == 429 and retry_after is None:
            retry_after = 1
        name = method_name if method_name == "*" else _normalize_method_name(method_name)
        self._fail_rules.append(
            _FailRule(name, chat_id, error_code, description, retry_after, times)
        )

    def block_user(self, chat_id: int) -> None:
        """Every request addressed to ``chat_id`` answers 403 until :meth:`unblock_user`."""
        self.blocked.add(chat_id)

    def unblock_user(self, chat_id: int) -> None:
        """Undo :meth:`block_user`."""
        self.blocked.discard(chat_id)

    def set_rate_limit(
        self,
        global_per_s: float | None,
        per_chat_per_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Answer 429 with ``retry_after`` when sends exceed these rates (``None`` = no limit)."""
        self._clock = clock
        self._chat_rate = per_chat_per_s
        now = clock()
        self._global_bucket = _Bucket(global_per_s, now) if global_per_s else None
        self._chat_buckets = {}

    # ---- request plumbing --------------------------------------------------------------------

    def _respond(self, bot: Bot, method: TelegramMethod[Any], result: Any) -> Any:
        content = self.json_dumps({"ok": True, "result": result})
        return self.check_response(bot, method, 200, content).result

    def _respond_error(self, bot: Bot, method: TelegramMethod[Any], error: _ApiError) -> Any:
        self.errors.append((method, error.error_code, error.description))
        payload: dict[str, Any] = {
            "ok": False,
            "error_code": error.error_code,
            "description": error.description,
        }
        if error.retry_after is not None:
            payload["parameters"] = {"retry_after": error.retry_after}
        response = self.check_response(bot, method, error.error_code, self.json_dumps(payload))
        # check_response raises for every non-2xx code; reaching here means a bad rule.
        raise AssertionError(f"error {error.error_code} was not raised: {response!r}")

    def _bot_flags(self) -> dict[str, Any]:
        return {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }

    def _compile_file_url_re(self) -> re.Pattern[str]:
        template = re.escape(self.api.file)
        template = template.replace(re.escape("{token}"), r"[^/]+")
        template = template.replace(re.escape("{path}"), r"(?P<path>.+)")
        return re.compile(template)

    def _check_delivery(self, api_name: str, method: TelegramMethod[Any]) -> None:
        chat_id = getattr(method, "chat_id", None)
        for rule in self._fail_rules:
            if rule.remaining <= 0:
                continue
            if rule.method not in ("*", api_name):
                continue
            if rule.chat_id is not None and rule.chat_id != chat_id:
                continue
            rule.remaining -= 1
            raise _ApiError(rule.error_code, rule.description, rule.retry_after)
        self._fail_rules = [rule for rule in self._fail_rules if rule.remaining > 0]
        if isinstance(chat_id, int) and chat_id in self.blocked:
            raise _ApiError(403, BLOCKED)
        if api_name.startswith(_RATE_LIMITED_PREFIXES) and api_name != "sendchataction":
            self._check_rate_limit(chat_id)

    def _check_rate_limit(self, chat_id: Any) -> None:
        if self._global_bucket is None and not self._chat_rate:
            return
        now = self._clock()
        buckets: list[_Bucket] = []
        if self._global_bucket is not None:
            buckets.append(self._global_bucket)
        if self._chat_rate and isinstance(chat_id, int):
            bucket = self._chat_buckets.get(chat_id)
            if bucket is None:
                bucket = self._chat_buckets[chat_id] = _Bucket(self._chat_rate, now)
            buckets.append(bucket)
        for bucket in buckets:
            bucket.refill(now)
        wait = max((bucket.wait_time() for bucket in buckets), default=0.0)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise _ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        for bucket in buckets:
            bucket.tokens -= 1

    async def _read_uploads(self, bot: Bot, method: TelegramMethod[Any]) -> dict[int, bytes]:
        """Read the bytes of every InputFile in ``method`` before any state is touched."""
        inputs: list[InputFile] = []
        for _, value in method:
            values = value if isinstance(value, list) else [value]
            for item in values:
                if isinstance(item, InputFile):
                    inputs.append(item)
                elif isinstance(item, TelegramObject):
                    inputs.extend(v for _, v in item if isinstance(v, InputFile))
        uploads: dict[int, bytes] = {}
        for item in inputs:
            data = getattr(item, "data", None)
            if isinstance(data, bytes):
                uploads[id(item)] = data
            elif isinstance(item, URLInputFile):
                raise NotImplementedError("FakeBotSession cannot download URLInputFile")
            else:
                uploads[id(item)] = b"".join([chunk async for chunk in item.read(bot)])
        return uploads

    # ---- validation helpers ------------------------------------------------------------------

    def _chat_id(self, value: int | str | None) -> int:
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        raise _ApiError(400, "Bad Request: chat not found")

    def _resolve(self, bot: Bot, value: Any) -> Any:
        # The same resolution aiogram's HTTP sessions do while serializing a request.
        if isinstance(value, Default):
            return self.prepare_value(value, bot=bot, files={}, _dumps_json=False)
        return value

    def _format(
        self,
        bot: Bot,
        text: str | None,
        parse_mode: Any,
        entities: list[MessageEntity] | None,
        *,
        caption: bool,
    ) -> ParsedText:
        if text is None:
            return ParsedText(text="", entities=[])
        mode = self._resolve(bot, parse_mode)
        mode = (mode or "").lower()
        if mode == "html":
            try:
                parsed = parse_html(text, strict_ampersand=self.strict_ampersand)
            except TelegramHtmlError as error:
                raise _ApiError(400, f"Bad Request: can't parse entities: {error}") from None
        elif mode in ("", "markdown", "markdownv2"):
            # Markdown is not parsed here: the text is kept verbatim.
            parsed = _trim(text, list(entities or []) if not mode else [])
        else:
            raise _ApiError(400, "Bad Request: unsupported parse_mode")
        limit = CAPTION_LIMIT if caption else MESSAGE_TEXT_LIMIT
        if len(parsed.text) > limit:
            what = "message caption is too long" if caption else "message is too long"
            raise _ApiError(400, f"Bad Request: {what}")
        if not caption and not parsed.text:
            raise _ApiError(400, "Bad Request: message text is empty")
        return parsed

    def _check_markup(self, markup: Any) -> tuple[InlineKeyboardMarkup | None, Any]:
        """Validate ``reply_markup``; return (inline keyboard, reply keyboard or None)."""
        if markup is None:
            return None, None
        if not isinstance(markup, InlineKeyboardMarkup):
            return None, markup
        for row in markup.inline_keyboard:
            for button in row:
                data = button.callback_data
                if data is not None and not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                actions = _dump(button)
                for key in ("text", "icon_custom_emoji_id", "style"):
                    actions.pop(key, None)
                if not actions:
                    raise _ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard",
                    )
        return markup, None

    def _find_message(self, chat_id: int, message_id: int, action: str) -> ChatMessage:
        message = self.chats.get(chat_id, {}).get(message_id)
        if message is None or message.deleted:
            raise _ApiError(400, f"Bad Request: message to {action} not found")
        return message

    def _editable(self, method: Any) -> ChatMessage | None:
        """The message targeted by an edit, or ``None`` for inline-message edits."""
        if method.inline_message_id is not None:
            return None
        message = self._find_message(self._chat_id(method.chat_id), method.message_id, "edit")
        if not message.from_bot:
            raise _ApiError(400, "Bad Request: message can't be edited")
        return message

    def _store_upload(
        self, value: InputFile | str, uploads: dict[int, bytes], kind: str
    ) -> StoredFile:
        if isinstance(value, str):
            stored = self.files.get(value)
            if stored is None:
                raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            return stored
        data = uploads[id(value)]
        if not data:
            raise _ApiError(400, "Bad Request: file must be non-empty")
        if len(data) > UPLOAD_LIMIT:
            raise _ApiError(413, "Request Entity Too Large")
        name = value.filename if kind != "photo" else None
        return self.add_file(None, data, name, kind=kind)

    def _media_json(self, stored: StoredFile) -> Any:
        base: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }
        if stored.kind == "photo":
            return [dict(base, width=800, height=600)]
        if stored.kind in ("video", "animation"):
            base.update(width=640, height=360, duration=1)
        elif stored.kind in ("audio", "voice"):
            base["duration"] = 1
        if stored.file_name and stored.kind != "voice":
            base["file_name"] = stored.file_name
        if stored.mime_type:
            base["mime_type"] = stored.mime_type
        return base

    def _bot_message(
        self,
        bot: Bot,
        chat_id: int,
        parsed: ParsedText,
        raw_text: str | None,
        markup: Any,
        protect_content: Any,
        *,
        media_type: str | None = None,
        file: StoredFile | None = None,
        media_group_id: str | None = None,
    ) -> ChatMessage:
        inline, keyboard = markup
        if keyboard is not None:
            self.reply_keyboards[chat_id] = keyboard
            if isinstance(keyboard, ReplyKeyboardRemove):
                del self.reply_keyboards[chat_id]
        message = ChatMessage(
            message_id=self.allocate_message_id(chat_id),
            chat_id=chat_id,
            from_bot=True,
            date=datetime.now(tz=UTC),
            sender_id=self.bot_user["id"],
            text=parsed.text if (parsed.text or not media_type) else None,
            raw_text=raw_text,
            entities=parsed.entities,
            reply_markup=inline,
            reply_keyboard=keyboard,
            media_type=media_type,
            file=file,
            media_group_id=media_group_id,
            protect_content=bool(self._resolve(bot, protect_content)),
        )
        return self.add_message(message)

    # ---- method handlers ---------------------------------------------------------------------

    def _send_message(self, bot: Bot, method: SendMessage, uploads: dict[int, bytes]) -> Any:
        chat_id = self._chat_id(method.chat_id)
        parsed = self._format(bot, method.text, method.parse_mode, method.entities, caption=False)
        markup = self._check_markup(method.reply_markup)
        message = self._bot_message(
            bot, chat_id, parsed, method.text, markup, method.protect_content
        )
        return self.message_json(message)

    def _send_media(self, bot: Bot, method: Any, uploads: dict[int, bytes]) -> Any:
        kind = _MEDIA_METHODS[type(method)]
        chat_id = self._chat_id(method.chat_id)
        parsed = self._format(
            bot, method.caption, method.parse_mode, method.caption_entities, caption=True
        )
        markup = self._check_markup(method.reply_markup)
        stored = self._store_upload(getattr(method, kind), uploads, kind)
        message = self._bot_message(
            bot,
            chat_id,
            parsed,
            method.caption,
            markup,
            method.protect_content,
            media_type=kind,
            file=stored,
        )
        return self.message_json(message)

    def _send_media_group(
        self, bot: Bot, method: SendMediaGroup, uploads: dict[int, bytes]
    ) -> Any:
        chat_id = self._chat_id(method.chat_id)
        if len(method.media) > 10:
            raise _ApiError(400, "Bad Request: too much messages to send as an album")
        kinds = {item.type for item in method.media}
        if "document" in kinds and len(kinds) > 1:
            raise _ApiError(400, "Bad Request: document can't be mixed with another media types")
        prepared = []
        for item in method.media:
            parsed = self._format(
                bot, item.caption, item.parse_mode, item.caption_entities, caption=True
            )
            prepared.append((item, parsed, self._store_upload(item.media, uploads, item.type)))
        group_id = f"{13000000000000000 + next(self._group_counter)}"
        results = []
        for item, parsed, stored in prepared:
            message = self._bot_message(
                bot,
                chat_id,
                parsed,
                item.caption,
                (None, None),
                method.protect_content,
                media_type=item.type,
                file=stored,
                media_group_id=group_id,
            )
            results.append(self.message_json(message))
        return results

    def _finish_edit(self, message: ChatMessage) -> Any:
        message.edited = True
        message.edit_date = datetime.now(tz=UTC)
        return self.message_json(message)

    @staticmethod
    def _same_content(
        message: ChatMessage, parsed: ParsedText, markup: InlineKeyboardMarkup | None
    ) -> bool:
        old_markup = _dump(message.reply_markup) if message.reply_markup else None
        new_markup = _dump(markup) if markup else None
        return (
            (message.text or "") == parsed.text
            and [_dump(e) for e in message.entities] == [_dump(e) for e in parsed.entities]
            and old_markup == new_markup
        )

    def _edit_text(self, bot: Bot, method: EditMessageText, uploads: dict[int, bytes]) -> Any:
        parsed = self._format(bot, method.text, method.parse_mode, method.entities, caption=False)
        inline, _ = self._check_markup(method.reply_markup)
        message = self._editable(method)
        if message is None:
            return True
        if message.media_type:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        if self._same_content(message, parsed, inline):
            raise _ApiError(400, NOT_MODIFIED)
        message.text, message.raw_text = parsed.text, method.text
        message.entities = parsed.entities
        message.reply_markup = inline
        return self._finish_edit(message)

    def _edit_caption(
        self, bot: Bot, method: EditMessageCaption, uploads: dict[int, bytes]
    ) -> Any:
        parsed = self._format(
            bot, method.caption, method.parse_mode, method.caption_entities, caption=True
        )
        inline, _ = self._check_markup(method.reply_markup)
        message = self._editable(method)
        if message is None:
            return True
        if not message.media_type:
            raise _ApiError(400, "Bad Request: there is no caption in the message to edit")
        if self._same_content(message, parsed, inline):
            raise _ApiError(400, NOT_MODIFIED)
        message.text = parsed.text or None
        message.raw_text, message.entities = method.caption, parsed.entities
        message.reply_markup = inline
        return self._finish_edit(message)

    def _edit_reply_markup(
        self, bot: Bot, method: EditMessageReplyMarkup, uploads: dict[int, bytes]
    ) -> Any:
        inline, _ = self._check_markup(method.reply_markup)
        message = self._editable(method)
        if message is None:
            return True
        old_markup = _dump(message.reply_markup) if message.reply_markup else None
        if old_markup == (_dump(inline) if inline else None):
            raise _ApiError(400, NOT_MODIFIED)
        message.reply_markup = inline
        return self._finish_edit(message)

    def _edit_media(self, bot: Bot, method: EditMessageMedia, uploads: dict[int, bytes]) -> Any:
        media = method.media
        parsed = self._format(
            bot, media.caption, media.parse_mode, media.caption_entities, caption=True
        )
        inline, _ = self._check_markup(method.reply_markup)
        message = self._editable(method)
        if message is None:
            return True
        if not message.media_type:
            raise _ApiError(400, "Bad Request: there is no media in the message to edit")
        if (
            isinstance(media.media, str)
            and message.file is not None
            and media.media == message.file.file_id
            and self._same_content(message, parsed, inline)
        ):
            raise _ApiError(400, NOT_MODIFIED)
        stored = self._store_upload(media.media, uploads, media.type)
        message.media_type, message.file = media.type, stored
        message.text = parsed.text or None
        message.raw_text, message.entities = media.caption, parsed.entities
        message.reply_markup = inline
        return self._finish_edit(message)

    def _delete_message(self, bot: Bot, method: DeleteMessage, uploads: dict[int, bytes]) -> Any:
        message = self._find_message(self._chat_id(method.chat_id), method.message_id, "delete")
        message.deleted = True
        return True

    def _delete_messages(self, bot: Bot, method: DeleteMessages, uploads: dict[int, bytes]) -> Any:
        chat = self.chats.get(self._chat_id(method.chat_id), {})
        for message_id in method.message_ids:
            # Telegram silently skips the messages it cannot find.
            if (message := chat.get(message_id)) is not None:
                message.deleted = True
        return True

    def _answer_callback_query(
        self, bot: Bot, method: AnswerCallbackQuery, uploads: dict[int, bytes]
    ) -> Any:
        if method.text is not None and len(method.text) > CALLBACK_ANSWER_LIMIT:
            raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        if method.callback_query_id in self._answered_callbacks:
            raise _ApiError(400, QUERY_TOO_OLD)
        self._answered_callbacks.add(method.callback_query_id)
        return True

    def _answer_inline_query(
        self, bot: Bot, method: AnswerInlineQuery, uploads: dict[int, bytes]
    ) -> Any:
        if len(method.results) > 50:
            raise _ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        if method.inline_query_id in self._answered_inline:
            raise _ApiError(400, QUERY_TOO_OLD)
        self._answered_inline.add(method.inline_query_id)
        return True

    @staticmethod
    def _commands_key(method: Any) -> tuple[str, str]:
        scope = method.scope.model_dump_json(exclude_none=True) if method.scope else None
        return scope or '{"type":"default"}', method.language_code or ""

    def _set_my_commands(self, bot: Bot, method: SetMyCommands, uploads: dict[int, bytes]) -> Any:
        if len(method.commands) > 100:
            raise _ApiError(400, "Bad Request: too many commands")
        for command in method.commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.command):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.description) <= 256:
                raise _ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(method)] = [_dump(c) for c in method.commands]
        return True

    def _delete_my_commands(
        self, bot: Bot, method: DeleteMyCommands, uploads: dict[int, bytes]
    ) -> Any:
        self.commands.pop(self._commands_key(method), None)
        return True

    def _get_my_commands(self, bot: Bot, method: GetMyCommands, uploads: dict[int, bytes]) -> Any:
        return self.commands.get(self._commands_key(method), [])

    def _set_chat_menu_button(
        self, bot: Bot, method: SetChatMenuButton, uploads: dict[int, bytes]
    ) -> Any:
        button = _dump(method.menu_button) if method.menu_button else {"type": "default"}
        self.menu_buttons[method.chat_id] = button
        return True

    def _get_chat_menu_button(
        self, bot: Bot, method: GetChatMenuButton, uploads: dict[int, bytes]
    ) -> Any:
        button = self.menu_buttons.get(method.chat_id) or self.menu_buttons.get(None)
        return button or {"type": "default"}

    def _get_file(self, bot: Bot, method: GetFile, uploads: dict[int, bytes]) -> Any:
        stored = self.files.get(method.file_id)
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if stored.size > DOWNLOAD_LIMIT:
            raise _ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    def _copy_message(self, bot: Bot, method: CopyMessage, uploads: dict[int, bytes]) -> Any:
        chat_id = self._chat_id(method.chat_id)
        source = self._find_message(self._chat_id(method.from_chat_id), method.message_id, "copy")
        if method.caption is not None:
            parsed = self._format(
                bot, method.caption, method.parse_mode, method.caption_entities, caption=True
            )
            raw = method.caption
        else:
            parsed = ParsedText(text=source.text or "", entities=list(source.entities))
            raw = source.raw_text
        markup = self._check_markup(method.reply_markup)
        message = self._bot_message(
            bot,
            chat_id,
            parsed,
            raw,
            markup,
            method.protect_content,
            media_type=source.media_type,
            file=source.file,
        )
        return {"message_id": message.message_id}

    def _forward_message(self, bot: Bot, method: ForwardMessage, uploads: dict[int, bytes]) -> Any:
        chat_id = self._chat_id(method.chat_id)
        source = self._find_message(
            self._chat_id(method.from_chat_id), method.message_id, "forward"
        )
        parsed = ParsedText(text=source.text or "", entities=list(source.entities))
        message = self._bot_message(
            bot,
            chat_id,
            parsed,
            source.raw_text,
            (source.reply_markup, None),
            method.protect_content,
            media_type=source.media_type,
            file=source.file,
        )
        message.forwarded_from, message.forward_date = source.sender_id, source.date
        return self.message_json(message)
