"""Queue notifications in the durable outbox (the delivery worker sends them).

Services call these inside their own write unit, so a notification is queued if and only if the
change it announces is committed.

`NOTICES` is the one table of what every notice is and whether it is urgent: an urgent notice
goes out at once, a notice that may wait is held through the person's quiet hours. Callers do
not choose; `notify` looks the urgency up here (docs/architecture.md shows the same table).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.quiet import held_until
from db.models.delivery import Delivery, DeliveryStatus, NoticeKind, NotificationSettings

__all__ = [
    "NOTICES",
    "Notice",
    "NoticeKind",
    "is_urgent",
    "notify",
    "notify_many",
    "reevaluate_held",
]

# Kinds a person cannot switch off: they concern the account itself.
ALWAYS_ON = frozenset({NoticeKind.account})
# Kinds that never wait for quiet hours, whatever their template.
URGENT_KINDS = frozenset({NoticeKind.account})
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice: its template, the switch that controls it, and whether it may wait."""

    template: str
    kinds: tuple[NoticeKind, ...]
    urgent: bool
    what: str
    # Only for `services.status_changed`: the request status this row is about.
    status: str | None = None


_K = NoticeKind
NOTICES: tuple[Notice, ...] = (
    # Urgent: a deadline passes, or something waits on the person, during the night too.
    Notice("testing.attempt_closed", (_K.tests,), True, "time is up: the attempt was closed"),
    Notice("reminders.test_closing", (_K.tests,), True, "a test closes within the hour"),
    Notice("appeals.closing", (_K.appeals,), True, "the appeal window is closing"),
    Notice("appeals.decided", (_K.appeals,), True, "an appeal was decided"),
    Notice(
        "services.status_changed",
        (_K.services,),
        True,
        "a request waits on the student (needs information)",
        status="needs_info",
    ),
    # May wait until the person's quiet hours end.
    Notice("testing.assigned", (_K.tests,), False, "a test was assigned"),
    Notice("testing.result_released", (_K.tests,), False, "a held test result was released"),
    Notice("reminders.test_opened", (_K.tests,), False, "a test opened"),
    Notice("reminders.calendar", (_K.calendar,), False, "a calendar date today or tomorrow"),
    # Queued only outside quiet hours (a class reminder held until morning is useless).
    Notice("reminders.class", (_K.classes,), False, "a class begins soon"),
    Notice("reminders.digest", (_K.digest,), False, "the morning digest"),
    Notice("journal.mark_changed", (_K.grades,), False, "a mark was set or changed"),
    Notice("journal.absence_limit", (_K.attendance,), False, "absences passed the limit"),
    Notice(
        "messages.new",
        (_K.letters, _K.tasks, _K.announcements),
        False,
        "a new letter, task or announcement",
    ),
    Notice("messages.broadcast_done", (_K.announcements,), False, "a broadcast finished"),
    Notice("classrooms.post", (_K.classroom,), False, "a post in a virtual classroom"),
    Notice("services.status_changed", (_K.services,), False, "a request changed status"),
    Notice("services.document_verified", (_K.services,), False, "a document was verified"),
    Notice("services.document_revoked", (_K.services,), False, "a document was revoked"),
    Notice(
        "documents.transcript_verified", (_K.services,), False, "an issued transcript was checked"
    ),
    Notice(
        "documents.transcript_revoked", (_K.services,), False, "an issued transcript was revoked"
    ),
)
_BY_TEMPLATE: dict[str, list[Notice]] = {}
for _notice in NOTICES:
    _BY_TEMPLATE.setdefault(_notice.template, []).append(_notice)


def notice_for(template: str, params: Mapping[str, Any]) -> Notice | None:
    """The table's row for this template (and request status), None for templates outside it."""
    for notice in _BY_TEMPLATE.get(template, ()):
        if notice.status is None or notice.status == params.get("status"):
            return notice
    return None


def is_urgent(kind: NoticeKind, template: str, params: Mapping[str, Any]) -> bool:
    if kind in URGENT_KINDS:
        return True
    notice = notice_for(template, params)
    return notice is not None and notice.urgent


def _urgency(
    kind: NoticeKind, template: str, params: Mapping[str, Any], override: bool | None
) -> bool:
    if override is None:
        return is_urgent(kind, template, params)
    if template in _BY_TEMPLATE or kind in URGENT_KINDS:
        raise ValueError(f"the urgency of {template!r} is decided in NOTICES, not by the caller")
    return override


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
    urgent: bool | None = None,
    ref_type: str | None = None,
    ref_id: int | None = None,
    batch_id: int | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Queue one notification. False when the person switched this kind off or the
    `dedupe_key` was queued before (so re-running a reminder job sends nothing twice).

    `urgent` is for templates outside `NOTICES` only (tests); the table decides for the rest."""
    urgent = _urgency(kind, template, params, urgent)
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
    urgent: bool | None = None,
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
    urgent = _urgency(kind, template, params, urgent)
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


async def reevaluate_held(session: AsyncSession, user_id: int, now: datetime, tz: tzinfo) -> int:
    """Recompute what is held for one person after their settings changed (quiet hours moved
    or turned off, a kind switched on or off); returns how many held rows changed.

    Held rows go out now when the new quiet hours no longer cover this moment, or wait until
    the new end; rows of a kind now switched off are not sent at all."""
    prefs = await session.get(NotificationSettings, user_id)
    disabled = [k for k in (prefs.disabled_kinds if prefs else None) or () if k not in ALWAYS_ON]
    held = (
        Delivery.user_id == user_id,
        Delivery.status == DeliveryStatus.pending,
        Delivery.held_quiet.is_(True),
    )
    changed = 0
    if disabled:
        result = await session.execute(
            update(Delivery)
            .where(*held, Delivery.kind.in_(disabled))
            .values(
                status=DeliveryStatus.skipped, held_quiet=False, last_error="notifications off"
            )
        )
        changed += result.rowcount or 0
    until = held_until(
        now,
        tz,
        enabled=True if prefs is None else prefs.quiet_enabled,
        start=22 * 60 if prefs is None else prefs.quiet_start,
        end=8 * 60 if prefs is None else prefs.quiet_end,
    )
    result = await session.execute(
        update(Delivery).where(*held).values(not_before=until or now, held_quiet=until is not None)
    )
    return changed + (result.rowcount or 0)
