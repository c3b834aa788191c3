"""Queue notifications in the durable outbox (the delivery worker sends them).

Services call these inside their own write unit, so a notification is queued if and only if the
change it announces is committed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.delivery import Delivery, DeliveryStatus, NoticeKind, NotificationSettings

__all__ = ["NoticeKind", "notify", "notify_many"]

# Kinds a person cannot switch off: they concern the account itself.
ALWAYS_ON = frozenset({NoticeKind.account})
_CHUNK = 500


async def _disabled_for(session: AsyncSession, user_ids: list[int], kind: NoticeKind) -> set[int]:
    if kind in ALWAYS_ON:
        return set()
    disabled: set[int] = set()
    for start in range(0, len(user_ids), _CHUNK):
        chunk = user_ids[start : start + _CHUNK]
        rows = await session.execute(
            select(NotificationSettings.user_id, NotificationSettings.disabled_kinds).where(
                NotificationSettings.user_id.in_(chunk)
            )
        )
        disabled.update(uid for uid, kinds in rows if kinds and kind.value in kinds)
    return disabled


async def notify(
    session: AsyncSession,
    *,
    user_id: int,
    kind: NoticeKind,
    template: str,
    params: dict[str, Any],
    now: datetime,
    dedupe_key: str | None = None,
    urgent: bool = False,
    ref_type: str | None = None,
    ref_id: int | None = None,
    batch_id: int | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Queue one notification. False when the person switched this kind off or the
    `dedupe_key` was queued before (so re-running a reminder job sends nothing twice)."""
    if await _disabled_for(session, [user_id], kind):
        return False
    if dedupe_key is not None and await session.scalar(
        select(Delivery.id).where(Delivery.dedupe_key == dedupe_key)
    ):
        return False
    row = Delivery(
        user_id=user_id,
        kind=kind.value,
        template=template,
        params=params,
        dedupe_key=dedupe_key,
        urgent=urgent,
        status=DeliveryStatus.pending,
        not_before=not_before or now,
        ref_type=ref_type,
        ref_id=ref_id,
        batch_id=batch_id,
        created_at=now,
    )
    if dedupe_key is None:
        session.add(row)
        await session.flush()
        return True
    # Two writers racing on one key (possible on PostgreSQL): the loser changes nothing.
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


async def notify_many(
    session: AsyncSession,
    *,
    user_ids: Iterable[int],
    kind: NoticeKind,
    template: str,
    params: dict[str, Any],
    now: datetime,
    urgent: bool = False,
    ref_type: str | None = None,
    ref_id: int | None = None,
    batch_id: int | None = None,
    not_before: datetime | None = None,
    dedupe_prefix: str | None = None,
) -> int:
    """Queue the same notification for many people in bulk; returns how many were queued.

    With `dedupe_prefix`, each row's key is `<prefix>:<user_id>` and people who already have
    that key are skipped, so a broadcast re-run after a crash queues nobody twice.
    """
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return 0
    disabled = await _disabled_for(session, ids, kind)
    wanted = [uid for uid in ids if uid not in disabled]
    if dedupe_prefix is not None and wanted:
        existing: set[str] = set()
        keys = [f"{dedupe_prefix}:{uid}" for uid in wanted]
        for start in range(0, len(keys), _CHUNK):
            existing.update(
                await session.scalars(
                    select(Delivery.dedupe_key).where(
                        Delivery.dedupe_key.in_(keys[start : start + _CHUNK])
                    )
                )
            )
        wanted = [uid for uid in wanted if f"{dedupe_prefix}:{uid}" not in existing]
    rows = [
        {
            "user_id": uid,
            "kind": kind.value,
            "template": template,
            "params": params,
            "dedupe_key": f"{dedupe_prefix}:{uid}" if dedupe_prefix is not None else None,
            "urgent": urgent,
            "status": DeliveryStatus.pending,
            "not_before": not_before or now,
            "attempts": 0,
            "ref_type": ref_type,
            "ref_id": ref_id,
            "batch_id": batch_id,
            "created_at": now,
        }
        for uid in wanted
    ]
    for start in range(0, len(rows), 1000):
        await session.execute(insert(Delivery), rows[start : start + 1000])
    return len(rows)
