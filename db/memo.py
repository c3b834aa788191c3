"""A small in-process memo of rows that never or rarely change, one per `Database`.

Screens shown on every press of an exam need texts that do not change while it runs: a question
and its options are immutable once imported (a changed question is a new row), a test's name and
kind and a discipline's names change seldom. Each is kept here under a key with a lifetime: None
for immutable rows (the memo is bounded, the oldest entries go first), a few minutes for the
rarely changed ones, so an edit made by another process shows within that time.

The memo reaches services through `session.info["memo"]` (set by `Database`), so a session made
elsewhere simply has none and reads the database every time.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

_MISSING = object()


class Memo:
    def __init__(self, max_items: int = 50_000) -> None:
        self.max_items = max_items
        # key -> (expires at on the monotonic clock or None, value); insertion-ordered.
        self._items: dict[Any, tuple[float | None, Any]] = {}

    def get(self, key: Any) -> Any:
        """The value under `key`, or None when absent or expired."""
        entry = self._items.get(key, _MISSING)
        if entry is _MISSING:
            return None
        expires, value = entry  # type: ignore[misc]
        if expires is not None and time.monotonic() >= expires:
            self._items.pop(key, None)
            return None
        return value

    def put(self, key: Any, value: Any, ttl_s: float | None = None) -> None:
        if len(self._items) >= self.max_items:
            # Drop the oldest tenth at once, so a full memo is not trimmed on every put.
            for old in list(self._items)[: max(self.max_items // 10, 1)]:
                del self._items[old]
        expires = None if ttl_s is None else time.monotonic() + ttl_s
        self._items[key] = (expires, value)

    def forget(self, key: Any) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()


def memo_of(session: AsyncSession) -> Memo | None:
    return session.info.get("memo")
