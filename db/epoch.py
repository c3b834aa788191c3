"""The account epoch: how a process learns that another one changed an account.

The bot keeps each signed-in person's Viewer in memory for a while (bot/middlewares/viewer.py),
and drops it at once when this process changes the account. A change made elsewhere (the admin
command line resetting a password or blocking someone, another replica moving a binding) must
end that person's session in this process too, and quickly. So every unit that changes an
account, its student or its teacher row adds one to `account_epoch.value` as its last
statement, right before it commits; each process reads that one number at most once a second and
forgets every Viewer when it moved.

The increment is the last statement of its unit, after every row lock the unit takes, so on
PostgreSQL it is held only for the commit itself and cannot take part in a deadlock.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from db.models.core import Student, Teacher, User
from db.models.epoch import AccountEpoch

ACCOUNT_TABLES = frozenset({User.__tablename__, Student.__tablename__, Teacher.__tablename__})
_CHANGED = "account_epoch_changed"


def account_user_ids(session: Session) -> set[int] | None:
    """Users whose Viewer the pending flush may change; None for "can't tell: everyone"."""
    changed: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, User):
            if obj.id is None:
                continue  # a new account: nobody can be signed in to it yet
            changed.add(obj.id)
        elif isinstance(obj, Student | Teacher):
            if obj.user_id is None:
                return None
            changed.add(obj.user_id)
    return changed


def is_account_bulk_change(state: ORMExecuteState) -> bool:
    if not (state.is_update or state.is_delete):
        return False
    table = getattr(state.statement, "table", None)
    return getattr(table, "name", None) in ACCOUNT_TABLES


@event.listens_for(Session, "before_flush")
def _note_flush(session: Session, _context: Any, _instances: Any) -> None:
    if account_user_ids(session) != set():
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk(state: ORMExecuteState) -> None:
    if is_account_bulk_change(state):
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _move_epoch(session: Session) -> None:
    # The commit flushes only after this event: flush now, so the account rows are written
    # (and locked) before the epoch row, never after it.
    if session.new or session.dirty or session.deleted:
        session.flush()
    if session.info.pop(_CHANGED, False):
        session.connection().execute(
            update(AccountEpoch).where(AccountEpoch.id == 1).values(value=AccountEpoch.value + 1)
        )


@event.listens_for(Session, "after_rollback")
def _forget_note(session: Session) -> None:
    session.info.pop(_CHANGED, None)


async def read_epoch(session: AsyncSession) -> int:
    """The current account epoch (0 before anything changed)."""
    return await session.scalar(select(AccountEpoch.value).where(AccountEpoch.id == 1)) or 0


__all__ = ["ACCOUNT_TABLES", "account_user_ids", "is_account_bulk_change", "read_epoch"]
