"""Quiet hours as plain arithmetic (no Telegram, no database): used by the worker that holds
notices and by the settings that re-evaluate what is held."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo


def in_quiet_hours(local_minutes: int, start: int, end: int) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= local_minutes < end
    return local_minutes >= start or local_minutes < end


def quiet_end_after(now: datetime, tz: tzinfo, end_minutes: int) -> datetime:
    """The next moment (aware UTC) when the local clock shows `end_minutes`."""
    local = now.astimezone(tz)
    target = local.replace(
        hour=end_minutes // 60, minute=end_minutes % 60, second=0, microsecond=0
    )
    if target <= local:
        target += timedelta(days=1)
    return target.astimezone(now.tzinfo)


def held_until(
    now: datetime, tz: tzinfo, *, enabled: bool, start: int, end: int
) -> datetime | None:
    """When a notice that may wait can go out: None now, else the end of the quiet period."""
    if not enabled:
        return None
    local = now.astimezone(tz)
    if not in_quiet_hours(local.hour * 60 + local.minute, start, end):
        return None
    return quiet_end_after(now, tz, end)
