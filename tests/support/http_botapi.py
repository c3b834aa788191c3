"""The fake Bot API behind a real HTTP port, for tests that run bot processes of their own.

Requests arrive as aiogram sends them to Telegram (form fields, JSON-encoded objects), are
turned back into aiogram method objects and answered by a `FakeBotSession`, so separate
processes share one fake Telegram and its chat view.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

from aiogram import Bot
from aiogram import methods as aiogram_methods
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiohttp import web

from tests.support.fake_session import FakeBotSession

METHODS: dict[str, type[TelegramMethod[Any]]] = {
    cls.__dict__["__api_method__"].lower(): cls
    for cls in vars(aiogram_methods).values()
    if isinstance(cls, type)
    and issubclass(cls, TelegramMethod)
    and isinstance(cls.__dict__.get("__api_method__"), str)
}


def _value(raw: str) -> Any:
    if raw[:1] in "{[" or raw in ("true", "false", "null"):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _dump(result: Any) -> Any:
    if hasattr(result, "model_dump"):
        return result.model_dump(mode="json", exclude_none=True, by_alias=True)
    if isinstance(result, list):
        return [_dump(item) for item in result]
    return result


class HttpBotApi:
    def __init__(self, session: FakeBotSession | None = None) -> None:
        self.session = session or FakeBotSession()
        self._bots: dict[str, Bot] = {}
        self.app = web.Application()
        self.app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner: web.AppRunner | None = None
        self.port = 0
        # Long polling: updates wait here until a getUpdates with a higher offset confirms them,
        # as Telegram keeps them; a poller killed before confirming gets them again on restart.
        self.pending: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._arrived = asyncio.Event()
        # Messages the bot sent, per chat (kept as they arrive), and a condition notified after
        # each one, so a test waits for "everyone has it" instead of rescanning the history.
        self.delivered: collections.Counter[int] = collections.Counter()
        self.changed = asyncio.Condition()
        # Seconds each send* request takes to answer, as over a real network.
        self.send_delay = 0.0

    def push_update(self, payload: dict[str, Any]) -> int:
        """Queue an update (`{"message": ...}` or `{"callback_query": ...}`) for getUpdates."""
        update_id = next(self._update_ids)
        self.pending.append({"update_id": update_id, **payload})
        self._arrived.set()
        return update_id

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        if offset:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        while not self.pending and time.monotonic() < deadline:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), deadline - time.monotonic())
            except TimeoutError:
                break
        return web.json_response({"ok": True, "result": self.pending[:limit]})

    def _bot(self, token: str) -> Bot:
        if token not in self._bots:
            self._bots[token] = Bot(token=token, session=self.session)
        return self._bots[token]

    async def _handle(self, request: web.Request) -> web.Response:
        name = request.match_info["method"].lower()
        if name == "getupdates":
            if request.content_type == "application/json":
                return await self._get_updates(await request.json())
            form = await request.post()
            return await self._get_updates({k: v for k, v in form.items() if isinstance(v, str)})
        cls = METHODS.get(name)
        if cls is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
                status=404,
            )
        if request.content_type == "application/json":
            params = await request.json()
        else:
            form = await request.post()
            params = {k: _value(v) for k, v in form.items() if isinstance(v, str)}
        is_send = name.startswith("send") and name != "sendchataction"
        if is_send and self.send_delay:
            await asyncio.sleep(self.send_delay)
        try:
            method = cls.model_validate(params)
            result = await self.session.make_request(
                self._bot(request.match_info["token"]), method
            )
            if is_send and str(params.get("chat_id", "")).lstrip("-").isdigit():
                self.delivered[int(params["chat_id"])] += 1
                async with self.changed:
                    self.changed.notify_all()
        except TelegramRetryAfter as exc:
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": exc.message,
                    "parameters": {"retry_after": exc.retry_after},
                },
                status=429,
            )
        except TelegramAPIError as exc:
            return web.json_response(
                {"ok": False, "error_code": 400, "description": exc.message}, status=400
            )
        return web.json_response({"ok": True, "result": _dump(result)})

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Return once `condition()` holds; it is checked after every message the bot sends."""
        async with self.changed:
            await self.changed.wait_for(condition)

    async def start(self, host: str = "127.0.0.1") -> str:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        for bot in self._bots.values():
            del bot
        self._bots.clear()
