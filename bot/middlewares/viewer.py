"""Know the signed-in person of each update and choose the language of the answer.

The Viewer is kept for a short time per Telegram id (ViewerCache), so a student pressing answer
after answer is not read from the database on every press. Any change to an account, its
student or teacher row made through the ORM in this process drops the affected entries at once
(SQLAlchemy session events); a change made by another process (a replica, the admin command
line) moves the account epoch (db/epoch.py), read at most once a second, and empties the cache.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject
from aiogram.types import User as TgUser
from aiogram.utils.i18n import I18n, I18nMiddleware
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from bot.config import SUPPORTED_LOCALES
from bot.services.auth import Viewer, load_viewer
from db.epoch import account_user_ids, is_account_bulk_change, read_epoch
from db.session import Database

# How long a signed-in person's Viewer is reused without reading the database again (longer
# than the pause between two answers of an exam, so a press needs no read of its own). A change
# made through this process (sign-in, sign-out, blocking, a new password, language, role) drops
# the entry at once; one made by another process (a replica, the admin CLI) within EPOCH_CHECK_S.
VIEWER_TTL_S = 120.0
_caches: weakref.WeakSet[ViewerCache] = weakref.WeakSet()
# How often the account epoch (db/epoch.py) is read to learn of changes made by other processes.
EPOCH_CHECK_S = 1.0


class ViewerCache:
    """Viewers by Telegram id for a short time; only signed-in people are kept."""

    def __init__(self, ttl_s: float = VIEWER_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[int, tuple[float, Viewer]] = {}
        # Bumped by every change of an account: a load that began before a change does not
        # store what it read.
        self.generation = 0
        _caches.add(self)

    def get(self, telegram_id: int) -> Viewer | None:
        entry = self._entries.get(telegram_id)
        if entry is None:
            return None
        if time.monotonic() >= entry[0]:
            del self._entries[telegram_id]
            return None
        return entry[1]

    def put(self, telegram_id: int, viewer: Viewer, generation: int) -> None:
        if generation == self.generation:
            self._entries[telegram_id] = (time.monotonic() + self.ttl_s, viewer)

    def forget_users(self, user_ids: set[int]) -> None:
        self.generation += 1
        for telegram_id, (_expires, viewer) in list(self._entries.items()):
            if viewer.user_id in user_ids:
                del self._entries[telegram_id]

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()


@event.listens_for(Session, "after_flush")
def _on_flush(session: Session, _context: Any) -> None:
    if not _caches:
        return
    changed = account_user_ids(session)
    if changed == set():
        return
    session.info.setdefault("viewer_changes", []).append(changed)
    _forget(changed)


@event.listens_for(Session, "after_commit")
def _on_commit(session: Session) -> None:
    # Again after the commit: a load that read the old row between the flush and the commit
    # must not keep it.
    for changed in session.info.pop("viewer_changes", ()):
        _forget(changed)


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    """Bulk UPDATE / DELETE of accounts (sign-out, a new language): forget everyone."""
    if _caches and is_account_bulk_change(state):
        state.session.info.setdefault("viewer_changes", []).append(None)
        _forget(None)


def _forget(user_ids: set[int] | None) -> None:
    for cache in list(_caches):
        if user_ids is None:
            cache.clear()
        else:
            cache.forget_users(user_ids)


class ViewerMiddleware(BaseMiddleware):
    """Puts `viewer` (a Viewer or None) into the handler data: from the cache, else from one
    short read."""

    def __init__(
        self, db: Database, ttl_s: float = VIEWER_TTL_S, epoch_check_s: float = EPOCH_CHECK_S
    ) -> None:
        self.db = db
        self.cache = ViewerCache(ttl_s)
        self.epoch_check_s = epoch_check_s
        self._epoch: int | None = None
        self._epoch_due = 0.0

    async def _follow_other_processes(self) -> None:
        """At most once every `epoch_check_s`: one read of the account epoch; when another
        process changed an account since (a reset, a block, a binding moved), every cached
        Viewer goes."""
        now = time.monotonic()
        if now < self._epoch_due:
            return
        self._epoch_due = now + self.epoch_check_s  # before the await: one reader at a time
        generation = self.cache.generation
        async with self.db.read() as session:
            epoch = await read_epoch(session)
        if epoch != self._epoch:
            if self._epoch is not None or generation != self.cache.generation:
                self.cache.clear()
            self._epoch = epoch

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: TgUser | None = data.get("event_from_user")
        viewer: Viewer | None = None
        if user is not None and not user.is_bot:
            await self._follow_other_processes()
            viewer = self.cache.get(user.id)
            if viewer is None:
                generation = self.cache.generation
                async with self.db.read() as session:
                    viewer = await load_viewer(session, user.id)
                if viewer is not None:
                    self.cache.put(user.id, viewer, generation)
        data["viewer"] = viewer
        return await handler(event, data)


class LocaleMiddleware(I18nMiddleware):
    """The stored choice of a signed-in user, else the one made during sign-in, else Telegram's
    language if we speak it, else the university's default."""

    def __init__(self, i18n: I18n) -> None:
        super().__init__(i18n)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        viewer: Viewer | None = data.get("viewer")
        if viewer is not None and viewer.locale in SUPPORTED_LOCALES:
            return viewer.locale
        state: FSMContext | None = data.get("state")
        if state is not None:
            chosen = (await state.get_data()).get("locale")
            if chosen in SUPPORTED_LOCALES:
                return chosen
        user: TgUser | None = data.get("event_from_user")
        if user is not None and user.language_code:
            code = user.language_code.split("-")[0].lower()
            if code in SUPPORTED_LOCALES:
                return code
        return self.i18n.default_locale
