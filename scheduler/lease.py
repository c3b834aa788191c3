"""Exactly one scheduler per database: a lease row renewed by its holder.

A second scheduler (another replica started by mistake, or `python -m scheduler` beside a bot
that also runs one) finds the lease held and stays idle until the holder stops renewing it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from db.models.delivery import SchedulerLease
from db.session import Database

LEASE_NAME = "scheduler"


async def acquire(
    db: Database, holder: str, now: datetime, ttl: timedelta, name: str = LEASE_NAME
) -> bool:
    """Take or renew the lease; False while someone else holds a live one."""
    async with db.write() as session:
        lease = await session.scalar(
            select(SchedulerLease).where(SchedulerLease.name == name).with_for_update()
        )
        if lease is None:
            session.add(SchedulerLease(name=name, holder=holder, expires_at=now + ttl))
            return True
        if lease.holder != holder and lease.expires_at > now:
            return False
        lease.holder = holder
        lease.expires_at = now + ttl
        return True


async def release(db: Database, holder: str, name: str = LEASE_NAME) -> None:
    async with db.write() as session:
        lease = await session.get(SchedulerLease, name)
        if lease is not None and lease.holder == holder:
            await session.delete(lease)
