"""Guards around every button handler: impossible numbers, and one answer per press.

Forged numbers. CallbackData parses any integer, however large; such a value reaches a query and
the database driver refuses it (SQLite: beyond 64 bits, PostgreSQL: beyond the INTEGER column's
32 bits), which would surface as an unexpected error. Every id, page and option the bot puts on a
button fits in 32 bits, so anything outside is a forgery and gets the stale-button answer.

One answer per press. Telegram takes one answer to a press; a second is refused. Handlers answer
early (`await callback.answer()`, to stop the spinner) and then call the domain, whose refusal of
a forged id (another student's request, say) the errors router turns into an alert: a second
answer, so the person saw nothing. Here a bare answer (no text, no alert, no URL) is held back
until the handler has finished, or for `HOLD_BARE_ANSWER_S` at most; a refusal raised meanwhile
becomes the press's only answer. An answer that was already sent makes the errors router write
the refusal into the chat instead (`press_answered`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Generator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramAPIError
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.services.errors import DomainError

log = logging.getLogger(__name__)

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
# Long enough for any domain check; short enough that a slow handler (a PDF) still stops the
# spinner well within Telegram's time for answering a press.
HOLD_BARE_ANSWER_S = 2.0


def out_of_range(data: CallbackData) -> bool:
    return any(
        isinstance(value, int)
        and not isinstance(value, bool)
        and not INT32_MIN <= value <= INT32_MAX
        for value in data.__dict__.values()
    )


@dataclass
class _Press:
    callback_id: str
    held: bool = False
    answered: bool = False


# The press being handled in this task (each update runs in its own task; a test feeding updates
# one after another is told apart by the callback id).
_press: ContextVar[_Press | None] = ContextVar("ais_press", default=None)


def press_answered(callback_id: str) -> bool:
    """Whether an answer to this press has already gone to Telegram."""
    press = _press.get()
    return press is not None and press.callback_id == callback_id and press.answered


class _Done:
    """What a held-back answer gives its caller: Telegram's `True`, at once."""

    def __await__(self) -> Generator[Any, None, bool]:
        return True
        yield  # pragma: no cover - makes this a generator


class AnswerOnceCallbackQuery(CallbackQuery):
    """The press as handlers see it: a bare `answer()` waits (see the module docstring)."""

    def answer(  # type: ignore[override]
        self,
        text: str | None = None,
        show_alert: bool | None = None,
        url: str | None = None,
        cache_time: int | None = None,
        **kwargs: Any,
    ) -> AnswerCallbackQuery | _Done:
        press = _press.get()
        if press is None or press.callback_id != self.id:
            return super().answer(text, show_alert, url, cache_time, **kwargs)
        if press.answered:
            # Telegram would refuse a second answer; the first one stands.
            return _Done()
        if text is None and not show_alert and url is None and not kwargs:
            press.held = True
            return _Done()
        press.answered = True
        return super().answer(text, show_alert, url, cache_time, **kwargs)


async def _send_held(event: CallbackQuery, press: _Press) -> None:
    if press.held and not press.answered:
        press.answered = True
        try:
            await event.answer()
        except TelegramAPIError as exc:
            # Only the spinner is at stake: the handler's work is done.
            log.info("could not answer press %s: %s", event.id, exc)


class CallbackGuardMiddleware(BaseMiddleware):
    """Inner (after the filters parsed `callback_data`): refuse impossible numbers, and make
    every press answered exactly once."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, CallbackQuery):
            return await handler(event, data)
        parsed = data.get("callback_data")
        if isinstance(parsed, CallbackData) and out_of_range(parsed):
            raise DomainError("forged_callback", lambda: _("This button is no longer available."))
        press = _Press(event.id)
        _press.set(press)
        wrapped = AnswerOnceCallbackQuery.model_construct(
            **event.__dict__, **(event.model_extra or {})
        ).as_(event.bot)
        flushes: list[asyncio.Task[None]] = []
        timer = asyncio.get_running_loop().call_later(
            HOLD_BARE_ANSWER_S,
            lambda: flushes.append(asyncio.ensure_future(_send_held(event, press))),
        )
        try:
            result = await handler(wrapped, data)
        finally:
            timer.cancel()
            if flushes:
                await asyncio.gather(*flushes, return_exceptions=True)
        # Success: the held answer goes now. On a refusal it never goes: the errors router's
        # alert is the answer.
        await _send_held(event, press)
        return result
