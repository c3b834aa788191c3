"""Tests of the test tools: FakeBotSession (fake Bot API) and BotClient (scripted user)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageText,
    GetFile,
    SendDocument,
    SendMessage,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
)

from tests.support import BotClient, FakeBotSession, TelegramHtmlError, parse_html

REPORT = b"%PDF-1.4 fake report\n" * 10


def _menu() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="Journal", callback_data="menu:journal"),
                InlineKeyboardButton(text="Timetable", callback_data="menu:timetable"),
            ],
            [InlineKeyboardButton(text="Site", url="https://example.org")],
        ]
    )


def _router() -> Router:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> None:
        await message.answer(f"Hello, <b>{message.from_user.first_name}</b>! [{command.args}]")

    @router.message(Command("menu"))
    async def menu(message: Message) -> None:
        await message.answer("Main menu", reply_markup=_menu())

    @router.message(Command("report"))
    async def report(message: Message) -> None:
        await message.answer_document(
            BufferedInputFile(REPORT, filename="report.pdf"), caption="Your <i>report</i>"
        )

    @router.message(Command("chat"))
    async def chat_type(message: Message) -> None:
        await message.answer(f"type={message.chat.type} id={message.chat.id}")

    @router.message(F.document)
    async def size(message: Message, bot: Bot) -> None:
        assert message.document is not None
        data = await bot.download(message.document)
        assert data is not None
        await message.answer(f"{message.document.file_name}: {len(data.read())} bytes")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    @router.callback_query(F.data.startswith("menu:"))
    async def open_section(callback: CallbackQuery) -> None:
        assert isinstance(callback.message, Message)
        section = (callback.data or "").split(":", 1)[1]
        await callback.message.edit_text(f"Section: {section}", reply_markup=_menu())
        await callback.answer(f"Opened {section}")

    @router.callback_query()
    async def unknown(callback: CallbackQuery) -> None:
        await callback.answer("Unknown button", show_alert=True)

    @router.inline_query()
    async def inline(query: InlineQuery) -> None:
        article = InlineQueryResultArticle(
            id="1",
            title=query.query,
            input_message_content=InputTextMessageContent(message_text=query.query),
        )
        await query.answer([article])

    return router


@dataclass
class Env:
    """Bot, dispatcher and fake session wired together."""

    bot: Bot
    dispatcher: Dispatcher
    session: FakeBotSession

    def client(self, **kwargs: object) -> BotClient:
        """A user talking to this bot."""
        return BotClient(self.dispatcher, self.bot, self.session, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    session = FakeBotSession()
    bot = Bot(token="42:TEST", session=session, default=DefaultBotProperties(parse_mode="HTML"))
    dispatcher = Dispatcher()
    dispatcher.include_router(_router())
    yield Env(bot, dispatcher, session)
    await bot.session.close()


# ---- conversation -------------------------------------------------------------------------


async def test_get_me_is_the_test_bot(env: Env) -> None:
    me = await env.bot.get_me()
    assert (me.id, me.username, me.first_name, me.is_bot) == (42, "ais_test_bot", "AIS", True)


async def test_send_and_receive_with_deep_link(env: Env) -> None:
    client = env.client()
    requests = await client.send("/start promo42")
    assert [type(r) for r in requests] == [SendMessage]
    reply = client.last_message()
    assert reply.text == "Hello, Aru! [promo42]"
    assert reply.raw_text == "Hello, <b>Aru</b>! [promo42]"
    assert [e.type for e in reply.entities] == ["bold"]
    assert [m.from_bot for m in client.messages()] == [False, True]
    assert [m.message_id for m in client.messages()] == [1, 2]


async def test_returned_message_is_a_real_typed_message(env: Env) -> None:
    env.client()
    sent = await env.bot.send_message(1001, "<b>bold</b> &amp; plain")
    assert isinstance(sent, Message)
    assert sent.text == "bold & plain"
    assert sent.from_user is not None and sent.from_user.id == 42
    assert sent.chat.type == "private"
    assert sent.html_text == "<b>bold</b> &amp; plain"


async def test_click_by_text_edits_the_message(env: Env) -> None:
    client = env.client()
    await client.send("/menu")
    menu = client.last_message()
    assert client.buttons() == ["Journal", "Timetable", "Site"]

    requests = await client.click("Time")
    assert [type(r) for r in requests] == [EditMessageText, AnswerCallbackQuery]
    assert menu.edited and menu.text == "Section: timetable"
    assert client.last_answer() is not None
    assert client.last_answer().text == "Opened timetable"  # type: ignore[union-attr]
    assert len(client.messages()) == 2

    await client.click(re.compile(r"^Jour"))
    assert menu.text == "Section: journal"


async def test_click_reports_available_buttons_and_refuses_url_buttons(env: Env) -> None:
    client = env.client()
    await client.send("/menu")
    with pytest.raises(AssertionError, match="Journal"):
        await client.click("Grades")
    with pytest.raises(AssertionError, match="not a callback button"):
        await client.click("Site")


async def test_forged_callback_data(env: Env) -> None:
    client = env.client()
    await client.send("/menu")
    await client.click_data("admin:drop_everything")
    answer = client.last_answer()
    assert answer is not None and answer.show_alert and answer.text == "Unknown button"


async def test_identical_edit_is_not_modified(env: Env) -> None:
    client = env.client()
    await client.send("/menu")
    await client.click("Journal")
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await client.click("Journal")


async def test_edit_and_delete_of_missing_messages(env: Env) -> None:
    env.client()
    sent = await env.bot.send_message(1001, "bye")
    assert await env.bot.delete_message(1001, sent.message_id)
    assert env.session.chats[1001][sent.message_id].deleted
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await env.bot.delete_message(1001, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await env.bot.edit_message_text("x", chat_id=1001, message_id=sent.message_id)


async def test_callback_query_cannot_be_answered_twice(env: Env) -> None:
    await env.bot.answer_callback_query("q1")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await env.bot.answer_callback_query("q1")


# ---- Telegram's refusals ------------------------------------------------------------------


async def test_too_long_text_counts_visible_characters(env: Env) -> None:
    # 4096 visible characters are fine even though the HTML source is longer.
    await env.bot.send_message(7, "<b>" + "a" * 4096 + "</b>")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await env.bot.send_message(7, "a" * 4097)
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await env.bot.send_document(
            7, BufferedInputFile(b"x", filename="x.txt"), caption="c" * 1025
        )


async def test_empty_text_is_refused(env: Env) -> None:
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await env.bot.send_message(7, "<b> </b>")


@pytest.mark.parametrize(
    "html",
    [
        "<b>unclosed",
        "line<br>break",
        "1 < 2",
        "Tom & Jerry",
        "<b><i>crossed</b></i>",
        "</b>",
        '<span class="x">no</span>',
    ],
)
async def test_bad_html_is_refused(env: Env, html: str) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await env.bot.send_message(7, html)


async def test_default_parse_mode_can_be_switched_off(env: Env) -> None:
    sent = await env.bot.send_message(7, "1 < 2 & <b>", parse_mode=None)
    assert sent.text == "1 < 2 & <b>"


def test_parse_html_entities_and_errors() -> None:
    parsed = parse_html(
        '  <a href="https://x.org/?a=1&amp;b=2">link</a> &lt;&#x263A;&#65;&quot; '
        '<pre><code class="language-python">x = 1</code></pre> <tg-spoiler>s</tg-spoiler>\n'
    )
    assert parsed.text == 'link <☺A" x = 1 s'
    kinds = [(e.type, e.offset, e.length) for e in parsed.entities]
    assert kinds == [("text_link", 0, 4), ("pre", 10, 5), ("spoiler", 16, 1)]
    assert parsed.entities[0].url == "https://x.org/?a=1&b=2"
    assert parsed.entities[1].language == "python"
    with pytest.raises(TelegramHtmlError, match='Unsupported start tag "br" at byte offset 3'):
        parse_html("ab <br>")
    with pytest.raises(TelegramHtmlError, match='corresponding to start tag "b"'):
        parse_html("<b>x")
    assert parse_html("a & b", strict_ampersand=False).text == "a & b"


async def test_long_callback_data_is_refused(env: Env) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await env.bot.send_message(7, "hi", reply_markup=markup)
    # Multi-byte characters count as bytes: 22 Cyrillic letters are 44 bytes, 33 are 66.
    ok = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="ж" * 22)]]
    )
    await env.bot.send_message(7, "hi", reply_markup=ok)
    bad = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="ж" * 33)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await env.bot.send_message(7, "hi", reply_markup=bad)


# ---- failure injection --------------------------------------------------------------------


async def test_injected_429_raises_retry_after(env: Env) -> None:
    env.session.fail("sendMessage", 7, error_code=429, retry_after=5, times=2)
    for _ in range(2):
        with pytest.raises(TelegramRetryAfter) as caught:
            await env.bot.send_message(7, "hi")
        assert caught.value.retry_after == 5
    await env.bot.send_message(8, "another chat is unaffected")
    await env.bot.send_message(7, "hi")
    assert len(env.session.requests_of(SendMessage)) == 4


async def test_blocked_user_raises_forbidden(env: Env) -> None:
    client = env.client(user_id=555)
    env.session.block_user(555)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await client.send("hello")
    env.session.unblock_user(555)
    await client.send("hello again")
    assert client.last_message().text == "hello again"


async def test_rate_limit_with_fake_clock(env: Env) -> None:
    now = [0.0]
    env.session.set_rate_limit(global_per_s=2, per_chat_per_s=1, clock=lambda: now[0])
    await env.bot.send_message(1, "a")
    await env.bot.send_message(2, "b")
    with pytest.raises(TelegramRetryAfter) as caught:
        await env.bot.send_message(3, "c")
    assert caught.value.retry_after == 1
    now[0] = 1.0
    await env.bot.send_message(3, "c")
    with pytest.raises(TelegramRetryAfter):
        await env.bot.send_message(3, "again")


async def test_unknown_method_is_loud(env: Env) -> None:
    with pytest.raises(NotImplementedError, match="getChat"):
        await env.bot.get_chat(7)
    assert await env.bot.pin_chat_message(7, 1) is True


# ---- files --------------------------------------------------------------------------------


async def test_document_round_trip(env: Env) -> None:
    client = env.client()
    await client.send("/report")
    sent = client.last_message()
    assert sent.document_name == "report.pdf"
    assert sent.document_bytes == REPORT
    assert sent.document_mime == "application/pdf"
    assert sent.caption == "Your report"

    request = env.session.requests_of(SendDocument)[-1]
    assert isinstance(request.document, BufferedInputFile)
    assert sent.file is not None
    downloaded = await env.bot.download(sent.file.file_id)
    assert downloaded is not None and downloaded.read() == REPORT

    # Re-sending by file_id reuses the stored bytes.
    again = await env.bot.send_document(7, sent.file.file_id)
    assert again.document is not None and again.document.file_id == sent.file.file_id


async def test_user_document_is_downloadable_by_the_bot(env: Env) -> None:
    client = env.client()
    requests = await client.send_document("grades.xlsx", b"\x00" * 1234)
    assert [type(r) for r in requests] == [GetFile, SendMessage]
    assert client.last_message().text == "grades.xlsx: 1234 bytes"


async def test_fs_input_file(env: Env, tmp_path: object) -> None:
    path = tmp_path / "notes.txt"  # type: ignore[operator]
    path.write_bytes(b"hello")
    sent = await env.bot.send_document(7, FSInputFile(path))
    assert sent.document is not None and sent.document.file_name == "notes.txt"
    assert env.session.file_bytes(sent.document.file_id) == b"hello"


# ---- chats, users, misc -------------------------------------------------------------------


async def test_group_chat_and_second_user(env: Env) -> None:
    alice = env.client()
    bob = env.client(user_id=2002, first_name="Bob", chat_id=-4001234, chat_type="group")
    await alice.send("/chat")
    await bob.send("/chat")
    assert alice.last_message().text == "type=private id=1001"
    assert bob.last_message().text == "type=group id=-4001234"
    assert [m.message_id for m in bob.messages()] == [1, 2]


async def test_concurrent_clients_get_their_own_requests(env: Env) -> None:
    clients = [env.client(user_id=3000 + i) for i in range(20)]
    results = await asyncio.gather(*(c.send(f"hi {i}") for i, c in enumerate(clients)))
    for i, (client, requests) in enumerate(zip(clients, results, strict=True)):
        assert len(requests) == 1 and requests[0].text == f"hi {i}"
        assert client.last_message().text == f"hi {i}"


async def test_inline_query(env: Env) -> None:
    answer = await env.client().inline("ics")
    assert answer is not None and answer.results[0].title == "ics"


async def test_commands_round_trip(env: Env) -> None:
    await env.bot.set_my_commands([BotCommand(command="start", description="Start")])
    commands = await env.bot.get_my_commands()
    assert [c.command for c in commands] == ["start"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await env.bot.set_my_commands([BotCommand(command="Start-Now", description="x")])
    assert await env.bot.delete_my_commands()
    assert await env.bot.get_my_commands() == []
    assert await env.bot.get_updates() == []
