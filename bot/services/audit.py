"""The audit log of staff actions: who did what to what, and when.

Any module records a staff action with `record(...)` inside the write unit that makes the
change, so the entry exists if and only if the change was committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from db.models.admin import AuditEntry

PAGE_SIZE = 10
_MAX_TARGET = 200
_MAX_ACTION = 64


async def record(
    session: AsyncSession,
    actor_user_id: int | None,
    action: str,
    target: str,
    details: dict[str, Any] | None,
    now: datetime,
) -> AuditEntry:
    """Append one entry; `action` is a short stable code ("import.students", "user.block")."""
    login = ""
    if actor_user_id is not None:
        login = await session.scalar(select(User.login).where(User.id == actor_user_id)) or ""
    entry = AuditEntry(
        actor_user_id=actor_user_id,
        actor_login=login,
        action=action[:_MAX_ACTION],
        target=(target or "")[:_MAX_TARGET],
        details=dict(details or {}),
        created_at=now,
    )
    session.add(entry)
    await session.flush()
    return entry


@dataclass(frozen=True, slots=True)
class AuditLine:
    id: int
    created_at: datetime
    actor_login: str
    action: str
    target: str
    details: dict[str, Any]


async def page(
    session: AsyncSession, page_no: int, per_page: int = PAGE_SIZE
) -> tuple[list[AuditLine], int]:
    """The newest entries first; returns one page and the number of pages (at least 1)."""
    total = await session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    pages = max(1, -(-total // per_page))
    page_no = min(max(page_no, 0), pages - 1)
    rows = await session.scalars(
        select(AuditEntry)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .offset(page_no * per_page)
        .limit(per_page)
    )
    return [
        AuditLine(
            id=row.id,
            created_at=row.created_at,
            actor_login=row.actor_login or "—",
            action=row.action,
            target=row.target,
            details=row.details or {},
        )
        for row in rows
    ], pages
