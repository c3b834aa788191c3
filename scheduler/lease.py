"""Exactly one scheduler per database: a lease row renewed by its holder.

A second scheduler (another replica started by mistake, or `python -m scheduler` beside a bot
that also runs one) finds the lease held and stays idle until the holder stops renewing it.

A holder that died is not waited for when that can be known: holder ids name the machine (host
name, boot id and PID namespace), the process id and a token drawn at process start. A lease
whose holder ran on this machine in a process that no longer exists (or whose PID now belongs
to this very process, as after a container restart where the bot is PID 1 again) is taken over
at once. A holder on another machine is waited for until its lease expires (LEASE_TTL in
scheduler/runner.py).
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from sqlalchemy import select

from db.models.delivery import SchedulerLease
from db.session import Database

LEASE_NAME = "scheduler"
_PROCESS_TOKEN = uuid.uuid4().hex[:8]


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


@cache
def machine_id() -> str:
    """This host as processes on it see it: one value per host, boot and PID namespace."""
    try:
        pid_namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        pid_namespace = ""
    seed = "|".join(
        (socket.gethostname(), _read("/proc/sys/kernel/random/boot_id"), pid_namespace)
    )
    return hashlib.sha256(seed.encode()).hexdigest()[:12]


def holder_id() -> str:
    """A new holder id for this process: host/machine/pid/process token/instance."""
    host = socket.gethostname()[:40].replace("/", "_")
    return f"{host}/{machine_id()}/{os.getpid()}/{_PROCESS_TOKEN}/{uuid.uuid4().hex[:6]}"


def holder_is_gone(holder: str) -> bool:
    """True when `holder` certainly no longer runs; False when it may (or cannot be told)."""
    parts = holder.split("/")
    if len(parts) != 5 or parts[1] != machine_id() or not parts[2].isdigit():
        return False
    pid, token = int(parts[2]), parts[3]
    if pid == os.getpid():
        return token != _PROCESS_TOKEN
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


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
        if lease.holder != holder and lease.expires_at > now and not holder_is_gone(lease.holder):
            return False
        lease.holder = holder
        lease.expires_at = now + ttl
        return True


async def release(db: Database, holder: str, name: str = LEASE_NAME) -> None:
    async with db.write() as session:
        lease = await session.get(SchedulerLease, name)
        if lease is not None and lease.holder == holder:
            await session.delete(lease)
