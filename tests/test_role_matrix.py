"""Every staff and admin action, pressed or typed by someone whose role it is not.

The actions are discovered from the dispatcher: each callback and command handler of a router
that is restricted to some roles (a `SignedIn(...)` router filter, or a teacher/staff/admin
router that checks the role inside), with the button actions read from the handler's own filter
(`XCb.filter(F.a == "...")`) and real ids from the demo database. Each is tried as the demo
student and, where the action is not a teacher's, as the demo teacher: every attempt is answered
with a refusal, the errors handler never runs, and not one row of the database changes.
"""

from __future__ import annotations

import itertools
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.methods import AnswerCallbackQuery
from sqlalchemy import select, update

from bot.demo.core import DEMO_ACCOUNTS
from bot.filters import SignedIn
from bot.handlers import build_root_router
from db.base import Base
from db.models import Role, User
from db.session import Database
from tests.conftest import App
from tests.test_fuzz_handlers import ErrorWatch

ALL_ROLES = frozenset(Role)
# Routers that check the role inside their handlers rather than with a router filter.
NAMED_ROLES = {
    "teacher": frozenset({Role.teacher}),
    "staff": frozenset({Role.staff, Role.admin}),
    "admin": frozenset({Role.admin}),
}


@dataclass(frozen=True)
class Action:
    router: str
    handler: str
    roles: frozenset[Role]
    cls: type[CallbackData] | None = None
    values: tuple[str, ...] = ()
    command: str | None = None


def _strings(node: Any, depth: int = 0) -> set[str]:
    """String constants inside a magic filter (the action names a handler accepts)."""
    if depth > 6:
        return set()
    if isinstance(node, str):
        return {node}
    if isinstance(node, set | frozenset | list | tuple):
        return {s for item in node for s in _strings(item, depth + 1)}
    found: set[str] = set()
    for name in ("_operations", "right", "args", "kwargs", "value", "magic"):
        if hasattr(node, name):
            value = getattr(node, name)
            if isinstance(value, dict):
                value = list(value.values())
            found |= _strings(value, depth + 1)
    return found


def _actions_in_source(module: str) -> tuple[str, ...]:
    """Action names a handler that dispatches on `a` itself compares against or builds."""
    source = Path(sys.modules[module].__file__ or "").read_text("utf-8")
    pattern = r"\b(?:a|action|to)\s*==?\s*\"([a-z0-9_]{1,12})\""
    return tuple(sorted(set(re.findall(pattern, source))))


def _router_roles(router: Router, observer: str) -> frozenset[Role] | None:
    roles = None
    for flt in getattr(router, observer)._handler.filters or []:
        if isinstance(flt.callback, SignedIn) and flt.callback.roles:
            roles = frozenset(flt.callback.roles)
    has_handlers = router.callback_query.handlers or router.message.handlers
    if roles is None and has_handlers and "refus" not in router.name:
        for word, named in NAMED_ROLES.items():
            if word in router.name:
                roles = named
    return roles


def staff_actions() -> list[Action]:
    actions: list[Action] = []

    def walk(router: Router, inherited: frozenset[Role]) -> None:
        for observer in ("callback_query", "message"):
            roles = _router_roles(router, observer)
            scope = inherited & roles if roles is not None else inherited
            if scope == ALL_ROLES:
                continue
            for handler in getattr(router, observer).handlers:
                name = handler.callback.__qualname__
                for flt in handler.filters or []:
                    cb = flt.callback
                    if isinstance(cb, CallbackQueryFilter):
                        values = tuple(sorted(_strings(cb.rule))) if cb.rule else ()
                        if not values:
                            values = _actions_in_source(handler.callback.__module__)
                        actions.append(Action(router.name, name, scope, cb.callback_data, values))
                    elif isinstance(cb, Command):
                        for command in cb.commands:
                            if isinstance(command, str):
                                actions.append(Action(router.name, name, scope, command=command))
        for sub in router.sub_routers:
            sub_roles = {
                observer: _router_roles(sub, observer) for observer in ("callback_query",)
            }["callback_query"]
            walk(sub, inherited & sub_roles if sub_roles is not None else inherited)

    walk(build_root_router(), ALL_ROLES)
    return actions


ACTIONS = staff_actions()


def test_the_matrix_covers_every_staff_module() -> None:
    routers = {a.router for a in ACTIONS}
    assert {
        "teacher_journal",
        "testing_staff",
        "service_centre_staff_only",
        "admin_only",
    } <= routers
    assert any(a.command for a in ACTIONS)


def payloads(action: Action, ids: list[int]) -> list[str]:
    assert action.cls is not None
    fields = list(action.cls.model_fields.items())
    words = list(action.values) or ["x"]
    out = []
    for word, number in itertools.product(words, ids):
        values = []
        for name, field in fields:
            if field.annotation in (int, "int"):
                values.append(str(number))
            elif name in ("a", "action", "to", "t", "scope"):
                values.append(word)
            else:
                values.append(word if len(words) == 1 else "")
        payload = action.cls.__separator__.join([action.cls.__prefix__, *values])
        if len(payload.encode()) <= 64:
            out.append(payload)
    return out


async def whole_database(db: Database) -> dict[str, list[tuple]]:
    dump: dict[str, list[tuple]] = {}
    async with db.read() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            dump[table.name] = sorted(tuple(repr(v) for v in row) for row in rows)
    return dump


_telegram_ids = itertools.count(770_000)


async def bound_client(app: App, login: str) -> Any:
    telegram_id = next(_telegram_ids)
    async with app.db.write() as session:
        await session.execute(
            update(User).where(User.login == login).values(telegram_id=telegram_id)
        )
    return app.client(telegram_id)


@pytest.mark.parametrize("actor", ["student", "teacher"])
async def test_staff_actions_are_refused(demo_app: App, actor: str) -> None:
    error_watch = ErrorWatch()
    logging.getLogger("bot.handlers.common").addHandler(error_watch)
    try:
        await _refused(demo_app, error_watch, actor)
    finally:
        logging.getLogger("bot.handlers.common").removeHandler(error_watch)


async def _refused(demo_app: App, error_watch: ErrorWatch, actor: str) -> None:
    role = Role(actor)
    login = DEMO_ACCOUNTS[actor][0]
    client = await bound_client(demo_app, login)
    before = await whole_database(demo_app.db)
    # Real ids of other people's things: the low ids of every table exist in the demo.
    ids = [1, 2, 3]
    mine = [a for a in ACTIONS if role not in a.roles]
    assert mine, actor
    tried = 0
    for action in mine:
        await client.send("/menu")
        if action.command is not None:
            requests = await client.send(f"/{action.command}")
            assert any(type(r).__name__.startswith(("Send", "Edit")) for r in requests), action
            tried += 1
            continue
        for payload in payloads(action, ids):
            requests = await client.click_data(payload)
            query_id = client.callback_ids[-1]
            answers = [
                r
                for r in requests
                if isinstance(r, AnswerCallbackQuery) and r.callback_query_id == query_id
            ]
            assert answers and answers[0].text, f"{actor} pressed {payload} ({action.handler})"
            tried += 1
        errors = error_watch.take()
        assert not errors, f"{actor} on {action.handler}: {errors}"
    after = await whole_database(demo_app.db)
    changed = [t for t in before if before[t] != after[t]]
    assert not changed, f"{actor} changed {changed}"
    assert tried > 20
