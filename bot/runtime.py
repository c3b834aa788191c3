"""Process-wide tuning of a running bot: kept response models, the garbage collector, and
sync filters called on the event loop.

- aiogram validates every Bot API answer with `Response[T]`, a pydantic generic model built on
  first use; pydantic keeps parametrised models only weakly, so after a garbage collection the
  next call builds it again (milliseconds of CPU each time). `pin_response_models` builds the
  ones of every Bot API method once and keeps them.
- Start-up leaves about a million long-lived objects (aiogram's and the bot's models,
  SQLAlchemy mappers); every full collection would walk them all. `python -m bot` starts with
  the collector off; `tune_gc` moves those objects out of its sight (`gc.freeze`) once
  start-up is done, turns it on and makes young collections rarer, as an update allocates
  thousands of short-lived objects (ORM rows, pydantic models).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiogram import Router

# Young-generation threshold: CPython's default is 700 (2000 since 3.13).
GEN0_THRESHOLD = 50_000
# Seconds after `tune_gc` at which the response models are built and pinned.
PIN_AFTER_S = 1.0

_pinned: list[Any] = []


def pin_response_models() -> int:
    """Build and keep `Response[T]` for the return type of every Bot API method; idempotent."""
    if _pinned:
        return len(_pinned)
    import aiogram.methods as methods
    from aiogram.methods.base import Response, TelegramMethod

    seen: dict[str, Any] = {}
    for name in methods.__all__:
        method = getattr(methods, name, None)
        if (
            isinstance(method, type)
            and issubclass(method, TelegramMethod)
            and method is not TelegramMethod
        ):
            returning = getattr(method, "__returning__", None)
            if returning is not None:
                seen.setdefault(repr(returning), returning)
    _pinned.extend(Response[returning] for returning in seen.values())  # type: ignore[index]
    return len(_pinned)


def tune_gc(gen0_threshold: int = GEN0_THRESHOLD) -> None:
    """Call once start-up is over, right before serving updates."""
    try:
        # Soon after serving begins, not before: nothing needs them for the first poll.
        asyncio.get_running_loop().call_later(PIN_AFTER_S, pin_response_models)
    except RuntimeError:  # no running loop
        pin_response_models()
    # No full collection first: it would walk every start-up object once more (a quarter of a
    # second); what little garbage is frozen with them is not worth that.
    gc.freeze()
    gc.enable()  # `python -m bot` starts with it off (bot/__main__.py)
    _gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)


def run_sync_filters_inline(router: Router) -> int:
    """aiogram calls a filter that is a plain function (a magic `F.data == ...`, a lambda) in a
    worker thread (`asyncio.to_thread`), a round trip through the thread pool for what is an
    attribute comparison: with a few such filters on the way, that was a third of an answer
    press's CPU. They only look at the event, so this wraps each one of `router` and its
    sub-routers in a coroutine that calls it on the event loop. Returns how many."""
    wrapped = 0
    for each in router.chain_tail:
        for observer in each.observers.values():
            filters = list(observer._handler.filters or [])
            for handler in observer.handlers:
                filters.extend(handler.filters or [])
            for filter_object in filters:
                if not filter_object.awaitable:
                    filter_object.callback = _on_the_loop(filter_object.callback)
                    filter_object.awaitable = True
                    wrapped += 1
    return wrapped


def _on_the_loop(function: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    async def call(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    return call
