"""Every handler against bad input: forged and mutated buttons, random text, wrong files.

Handlers are discovered, not listed: every CallbackData class defined in bot/keyboards and
bot/handlers, every FSM state of every StatesGroup, every command of every module. A module that
lands later is fuzzed without touching this file.

For each example a fresh Telegram user (bound to a demo account, or a stranger) sends one update,
possibly from inside a random FSM state. Checked: the errors handler never met an unexpected
exception, every press got an AnswerCallbackQuery, every private message got a reply, and the
rows belonging to other people (a classmate, another teacher) are exactly as before.
"""

from __future__ import annotations

import importlib
import itertools
import logging
import os
import pkgutil
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.methods import AnswerCallbackQuery, TelegramMethod
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, select, update

import bot.handlers
import bot.keyboards
from bot.demo.core import DEMO_ACCOUNTS
from bot.handlers import MODULES
from db.base import Base
from db.models import User
from db.session import Database
from tests.conftest import App

ROOT = Path(__file__).resolve().parents[1]
MAX_CALLBACK_BYTES = 64

# ---- discovery -------------------------------------------------------------------------------


def _import_all(package: Any) -> None:
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")


def _subclasses(cls: type) -> list[type]:
    found: list[type] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


def callback_classes() -> list[type[CallbackData]]:
    """Every CallbackData class of the bot, by module and name (a stable order)."""
    _import_all(bot.keyboards)
    _import_all(bot.handlers)
    classes = {
        c
        for c in _subclasses(CallbackData)
        if c.__module__.startswith(("bot.keyboards", "bot.handlers"))
    }
    return sorted(classes, key=lambda c: (c.__module__, c.__qualname__))


def fsm_states() -> list[State]:
    _import_all(bot.handlers)
    states: list[State] = []
    for group in _subclasses(StatesGroup):
        if group.__module__.startswith("bot."):
            states.extend(group.__all_states__)
    return sorted(states, key=lambda s: s.state or "")


def commands() -> list[str]:
    names = {"start", "lang", "logout", "menu", "help", "cancel"}
    for module in MODULES:
        names.update(name for name, _describe in module.commands)
    return sorted(names)


def source_words() -> list[str]:
    """Short literals of the handler and keyboard sources: the real action names of buttons."""
    words: set[str] = set()
    for folder in ("bot/handlers", "bot/keyboards"):
        for path in (ROOT / folder).glob("*.py"):
            words.update(re.findall(r"\"([a-z][a-z0-9_]{0,11})\"", path.read_text("utf-8")))
    return sorted(words)


CALLBACK_CLASSES = callback_classes()
STATES = fsm_states()
COMMANDS = commands()
WORDS = source_words()


def test_discovery_finds_the_modules() -> None:
    """The walk sees the known buttons and dialogues (so an empty walk cannot pass silently)."""
    prefixes = {c.__prefix__ for c in CALLBACK_CLASSES}
    assert {"nav", "jr", "qz", "qa", "sc", "sq", "cls", "lib", "ml"} <= prefixes
    assert len(STATES) >= 10
    assert "start" in COMMANDS and len(COMMANDS) > 5


# ---- the data of other people ----------------------------------------------------------------


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


async def owned_rows(db: Database, roots: dict[str, set[Any]]) -> dict[str, dict[tuple, tuple]]:
    """Rows reachable from `roots` (table -> primary keys) along foreign keys, as plain values.

    A row belongs to a person when it points (directly or through other such rows) at their user,
    student or teacher row: their marks, attempts and answers, messages, requests, sessions.
    """
    dumps: dict[str, list[dict[str, Any]]] = {}
    async with db.read() as session:
        for table in _tables():
            result = await session.execute(select(table))
            dumps[table.name] = [dict(row._mapping) for row in result]
    owned: dict[str, set[Any]] = {name: set(keys) for name, keys in roots.items()}
    changed = True
    while changed:
        changed = False
        for table in _tables():
            links = [
                (fk.parent.name, fk.column.table.name, fk.column.name) for fk in table.foreign_keys
            ]
            if not links:
                continue
            pk = [c.name for c in table.primary_key.columns]
            keys = owned.setdefault(table.name, set())
            for row in dumps[table.name]:
                key = tuple(row[c] for c in pk)
                if key in keys:
                    continue
                for column, target, target_column in links:
                    value = row.get(column)
                    if value is None or target_column != "id":
                        continue
                    if (value,) in owned.get(target, ()) or value in owned.get(target, ()):
                        keys.add(key)
                        changed = True
                        break
    snapshot: dict[str, dict[tuple, tuple]] = {}
    for table in _tables():
        keys = owned.get(table.name)
        if not keys:
            continue
        pk = [c.name for c in table.primary_key.columns]
        rows = {}
        for row in dumps[table.name]:
            key = tuple(row[c] for c in pk)
            if key in keys or (len(key) == 1 and key[0] in keys):
                rows[key] = tuple(sorted((k, repr(v)) for k, v in row.items()))
        snapshot[table.name] = rows
    return snapshot


async def person_roots(db: Database, login: str) -> dict[str, set[Any]]:
    from db.models import Student, Teacher

    async with db.read() as session:
        user = await session.scalar(select(User).where(User.login == login))
        assert user is not None, login
        students = set(await session.scalars(select(Student.id).where(Student.user_id == user.id)))
        teachers = set(await session.scalars(select(Teacher.id).where(Teacher.user_id == user.id)))
    roots: dict[str, set[Any]] = {"users": {(user.id,)}}
    if students:
        roots["students"] = {(i,) for i in students}
    if teachers:
        roots["teachers"] = {(i,) for i in teachers}
    return roots


async def snapshot_of(db: Database, logins: tuple[str, ...]) -> dict[str, dict[tuple, tuple]]:
    roots: dict[str, set[Any]] = {}
    for login in logins:
        for table, keys in (await person_roots(db, login)).items():
            roots.setdefault(table, set()).update(keys)
    return await owned_rows(db, roots)


def diff(before: dict, after: dict) -> list[str]:
    problems = []
    for table in sorted(set(before) | set(after)):
        old, new = before.get(table, {}), after.get(table, {})
        for key in sorted(set(old) | set(new), key=repr):
            if old.get(key) != new.get(key):
                problems.append(f"{table}{key}: {old.get(key)} -> {new.get(key)}")
    return problems


async def ids_of(db: Database, snapshot: dict[str, dict[tuple, tuple]]) -> list[int]:
    """Integer primary keys of somebody else's rows: the ids a forger would try."""
    ids = {k[0] for rows in snapshot.values() for k in rows if isinstance(k[0], int)}
    return sorted(ids)[:400] or [1]


async def classmate_identity(db: Database) -> list[str]:
    """The classmate's login and student number: shown to nobody but them and their staff."""
    from db.models import Student

    async with db.read() as session:
        user = await session.scalar(select(User).where(User.login == VICTIMS[0]))
        assert user is not None
        number = await session.scalar(select(Student.student_no).where(Student.user_id == user.id))
    return [user.login, *([number] if number else [])]


# ---- watching the errors handler -------------------------------------------------------------


class ErrorWatch(logging.Handler):
    """Collects the errors handler's "unhandled error" lines (with their exceptions)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        out = []
        for record in self.records:
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                text += f": {record.exc_info[0].__name__}: {record.exc_info[1]}"
            out.append(text)
        self.records.clear()
        return out


@pytest.fixture
def error_watch() -> AsyncIterator[ErrorWatch]:
    watch = ErrorWatch()
    logger = logging.getLogger("bot.handlers.common")
    logger.addHandler(watch)
    try:
        yield watch
    finally:
        logger.removeHandler(watch)


# ---- strategies ------------------------------------------------------------------------------

HUGE = [2**31, 2**63, 10**30, -(2**63) - 1]
NASTY = [
    "",
    " ",
    "-1",
    "0x10",
    "1e9",
    "None",
    "null",
    "1.5",
    "<b>",
    "&",
    "🙂",
    "ҚАЗ",
    "中文",
    "\x00",
]


def _fit(payload: str) -> str:
    """Telegram delivers at most 64 bytes of callback data."""
    return payload.encode("utf-8")[:MAX_CALLBACK_BYTES].decode("utf-8", "ignore")


def field_value(annotation: Any, ids: list[int]) -> st.SearchStrategy[str]:
    real = st.sampled_from(ids).map(str)
    ints = st.one_of(
        real,
        st.integers(-5, 5).map(str),
        st.sampled_from(HUGE).map(str),
        st.integers().map(str),
    )
    texts = st.one_of(st.sampled_from(WORDS), st.text(max_size=8))
    wrong = st.sampled_from(NASTY)
    if annotation in (int, "int"):
        return st.one_of(ints, ints, wrong, texts)
    return st.one_of(texts, texts, real, wrong)


@st.composite
def callback_payload(draw: st.DrawFn, ids: list[int]) -> str:
    cls = draw(st.sampled_from(CALLBACK_CLASSES))
    sep = cls.__separator__
    values = [
        draw(field_value(field.annotation, ids)).replace(sep, "")
        for field in cls.model_fields.values()
    ]
    payload = sep.join([cls.__prefix__, *values])
    mutation = draw(st.sampled_from(["none", "none", "truncate", "extra", "drop", "unicode"]))
    if mutation == "truncate":
        payload = payload[: draw(st.integers(0, max(len(payload) - 1, 0)))]
    elif mutation == "extra":
        payload += sep * draw(st.integers(1, 3)) + draw(st.sampled_from(["", "1", "x"]))
    elif mutation == "drop" and values:
        payload = sep.join([cls.__prefix__, *values[:-1]])
    elif mutation == "unicode":
        payload += draw(st.sampled_from(["é", "Ә", "字", "🙂", "\u200b"]))
    return _fit(payload)


def any_callback(ids: list[int]) -> st.SearchStrategy[str]:
    raw = st.text(min_size=1, max_size=64).map(_fit).filter(bool)
    return st.one_of(callback_payload(ids), callback_payload(ids), raw)


CONTROL = "".join(chr(c) for c in range(1, 32)) + "\x7f"
SCRIPTS = ["Сәлем, қалайсың?", "Привет", "你好，世界", "🙂🎓📚" * 3, "مرحبا", "👨‍👩‍👧‍👦"]
HTML = ["<b>", "</b>", "<b>bold</b>", "&", "&amp;", "<a href='x'>", "<script>", "a & b < c"]
SQL = ["'; DROP TABLE users; --", '" OR 1=1 --', "%", "_%_", "\\", "s2025000' --"]


def message_text() -> st.SearchStrategy[str]:
    junk = st.text(max_size=40)
    return st.one_of(
        st.just(""),
        st.just("x" * 10_000),
        st.just("Ә" * 5000),
        st.text(alphabet=CONTROL, min_size=1, max_size=30),
        st.sampled_from(HTML),
        st.sampled_from(SCRIPTS),
        st.sampled_from(SQL),
        st.text(max_size=200),
        st.tuples(st.sampled_from(COMMANDS), junk).map(lambda p: f"/{p[0]} {p[1]}".strip()),
        st.sampled_from(COMMANDS).map(lambda c: f"/{c}"),
        st.tuples(st.sampled_from(WORDS), st.integers()).map(lambda p: f"/start {p[0]}_{p[1]}"),
        st.integers().map(str),
    )


FILES = [
    ("report.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "application/pdf"),
    ("empty.pdf", b"", "application/pdf"),
    ("virus.exe", b"MZ\x90\x00", "application/x-msdownload"),
    ("table.xlsx", b"not a zip at all", None),
    ("questions.csv", "a,b,c\n\x00\x01,Ә,<b>\n".encode(), "text/csv"),
    ("notes.txt", ("\ufeff" + "й" * 3000).encode(), "text/plain"),
]

# ---- the fuzzing harness ---------------------------------------------------------------------

ACTORS = {
    "student": DEMO_ACCOUNTS["student"][0],
    "teacher": DEMO_ACCOUNTS["teacher"][0],
    "stranger": None,
    "staff": DEMO_ACCOUNTS["staff"][0],
    "admin": DEMO_ACCOUNTS["admin"][0],
}
# Staff and admins may legitimately change and see other people's records: for them the fuzz
# checks only that nothing crashes and every update is answered.
PRIVILEGED = frozenset({DEMO_ACCOUNTS["staff"][0], DEMO_ACCOUNTS["admin"][0]})
# Whose rows each actor must never change: a classmate and another teacher.
VICTIMS = ("s2025000", "t.ospanov")
_telegram_ids = itertools.count(880_000)


class Fuzz:
    def __init__(self, app: App, watch: ErrorWatch, actor: str) -> None:
        self.app = app
        self.watch = watch
        self.login = ACTORS[actor]
        self.before: dict | None = None
        self.ids: list[int] = [1]
        self.secrets: list[str] = []

    async def start(self) -> None:
        if self.before is None:
            self.before = await snapshot_of(self.app.db, VICTIMS)
            self.ids = await ids_of(self.app.db, self.before)
            self.secrets = await classmate_identity(self.app.db)

    async def fresh_client(self, state: State | None, language: str) -> Any:
        telegram_id = next(_telegram_ids)
        if self.login is not None:
            async with self.app.db.write() as session:
                await session.execute(
                    update(User).where(User.login == self.login).values(telegram_id=telegram_id)
                )
        client = self.app.client(telegram_id, language_code=language)
        if state is not None:
            context = self.app.dp.fsm.get_context(
                self.app.bot, chat_id=telegram_id, user_id=telegram_id
            )
            await context.set_state(state)
        return client

    def check_leaks(self, requests: list[TelegramMethod[Any]], what: str) -> None:
        """Nothing that names the classmate reaches a student or a stranger."""
        if self.login == ACTORS["teacher"] or self.login in PRIVILEGED:
            return
        for request in requests:
            shown = " ".join(
                str(getattr(request, name, None) or "") for name in ("text", "caption")
            )
            for secret in self.secrets:
                assert secret not in shown, f"{what}: {secret!r} shown in {shown[:200]!r}"

    def check_errors(self, what: str) -> None:
        errors = self.watch.take()
        assert not errors, f"{what}: the errors handler caught {errors}"

    async def finish(self) -> None:
        assert self.before is not None
        if self.login in PRIVILEGED:
            return
        after = await snapshot_of(self.app.db, VICTIMS)
        problems = diff(self.before, after)
        assert not problems, "other people's rows changed:\n" + "\n".join(problems[:20])


def _replies(requests: list[TelegramMethod[Any]]) -> list[TelegramMethod[Any]]:
    return [
        r
        for r in requests
        if type(r).__name__.startswith(("Send", "Edit", "Copy", "Forward", "AnswerCallback"))
    ]


EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))  # raise for a deeper run
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(params=list(ACTORS))
async def fuzz(
    request: pytest.FixtureRequest, demo_app: App, error_watch: ErrorWatch
) -> AsyncIterator[Fuzz]:
    harness = Fuzz(demo_app, error_watch, request.param)
    await harness.start()
    yield harness
    await harness.finish()


states = st.one_of(st.none(), st.sampled_from(STATES))
languages = st.sampled_from(["en", "ru", "kk", "zh", ""])


@FUZZ_SETTINGS
@given(data=st.data(), state=states, language=languages, on_screen=st.booleans())
async def test_forged_and_mutated_buttons(
    fuzz: Fuzz, data: st.DataObject, state: State | None, language: str, on_screen: bool
) -> None:
    await fuzz.start()
    client = await fuzz.fresh_client(state, language)
    if on_screen:
        await client.send("/menu")
        fuzz.check_errors("/menu")
    presses = data.draw(st.lists(any_callback(fuzz.ids), min_size=1, max_size=3), label="presses")
    for payload in presses:
        requests = await client.click_data(payload)
        fuzz.check_errors(f"press {payload!r} in {state}")
        fuzz.check_leaks(requests, f"press {payload!r}")
        query_id = client.callback_ids[-1]
        answered = [
            r
            for r in requests
            if isinstance(r, AnswerCallbackQuery) and r.callback_query_id == query_id
        ]
        assert answered, f"press {payload!r} in {state} was not answered: {requests}"


@FUZZ_SETTINGS
@given(text=message_text(), state=states, language=languages)
async def test_random_text(fuzz: Fuzz, text: str, state: State | None, language: str) -> None:
    await fuzz.start()
    client = await fuzz.fresh_client(state, language)
    requests = await client.send(text)
    fuzz.check_errors(f"text {text[:60]!r} in {state}")
    if VICTIMS[0] not in text:
        fuzz.check_leaks(requests, f"text {text[:60]!r}")
    assert _replies(requests), f"text {text[:60]!r} in {state} got no reply"


@settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    file=st.sampled_from(FILES),
    photo=st.booleans(),
    caption=st.one_of(st.none(), st.sampled_from(HTML + SCRIPTS)),
    state=states,
)
async def test_wrong_files(
    fuzz: Fuzz,
    file: tuple[str, bytes, str | None],
    photo: bool,
    caption: str | None,
    state: State | None,
) -> None:
    await fuzz.start()
    client = await fuzz.fresh_client(state, "en")
    if photo:
        requests = await client.send_photo(b"", caption=caption)
    else:
        requests = await client.send_document(*file, caption=caption)
    fuzz.check_errors(f"file {file[0]} (photo={photo}) in {state}")
    fuzz.check_leaks(requests, f"file {file[0]}")
    assert _replies(requests), f"file {file[0]} in {state} got no reply"


async def test_group_messages(demo_app: App, error_watch: ErrorWatch) -> None:
    """In a group only a command or a mention gets an answer (pointing to the private chat)."""
    client = demo_app.client(chat_id=-100777, chat_type="supergroup")
    for text in ["hello all", "<b>&", "x" * 10_000, "Сәлем"]:
        assert not _replies(await client.send(text)), text
    for text in ["/start", "/menu junk", "/grades@ais_test_bot"]:
        replies = _replies(await client.send(text))
        assert replies and "private chat" in replies[0].text, text
    assert not error_watch.take()


async def test_numbers_beyond_any_column_are_refused(
    demo_app: App, error_watch: ErrorWatch
) -> None:
    """The buttons of every section a student opens from home, replayed with a 64-bit and a
    33-bit number in each integer field: a stale-button answer, never a database error."""
    harness = Fuzz(demo_app, error_watch, "student")
    client = await harness.fresh_client(None, "en")
    await client.send("/menu")
    home = client.last_message()
    seen: set[str] = set()
    for row in home.reply_markup.inline_keyboard if home.reply_markup else []:
        for button in row:
            if button.callback_data:
                await client.click_data(button.callback_data, home.message_id)
                for message in client.messages()[-2:]:
                    if message.from_bot and message.reply_markup:
                        for line in message.reply_markup.inline_keyboard:
                            seen.update(b.callback_data for b in line if b.callback_data)
    by_prefix = {c.__prefix__: c for c in CALLBACK_CLASSES}
    pressed = 0
    for data in sorted(seen):
        cls = by_prefix[data.split(":")[0]]
        ints = [n for n, f in cls.model_fields.items() if f.annotation in (int, "int")]
        if not ints:
            continue
        parsed = cls.unpack(data)
        for field, huge in itertools.product(ints, (2**63, 2**31)):
            values = [
                str(huge) if name == field else str(getattr(parsed, name) or "")
                for name in cls.model_fields
            ]
            forged = cls.__separator__.join([cls.__prefix__, *values])
            if len(forged.encode()) > MAX_CALLBACK_BYTES:
                continue
            requests = await client.click_data(forged)
            answers = [r for r in requests if isinstance(r, AnswerCallbackQuery)]
            assert answers and answers[0].text, forged
            assert not error_watch.take(), forged
            pressed += 1
    assert pressed >= 10, sorted(seen)
