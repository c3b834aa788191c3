"""iCalendar export of a student's or teacher's timetable.

The output is meant to be imported into Google Calendar, Apple Calendar or Outlook. Two details
matter for that:

* every event carries a UID that depends only on the caller's ``ClassEvent.uid``, so importing
  an updated week replaces the old events instead of adding a second copy;
* times are written as local wall-clock times with a ``TZID`` and the matching ``VTIMEZONE`` is
  embedded, so a class at 09:00 in Almaty stays at 09:00 even in clients that do not ship the
  IANA database or have an outdated copy of it (Kazakhstan changed its offset in 2024).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["ClassEvent", "build_week_ics"]

# Margin around the exported events for which VTIMEZONE transitions are generated: wide
# enough for clients that expand a few weeks around an event, small enough to keep the file
# short (the full 1970-2038 history of Asia/Almaty is dozens of DST rules).
_TZ_MARGIN = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class ClassEvent:
    """One class session in the timetable.

    ``start`` and ``end`` may be aware datetimes in any zone or naive datetimes that are
    understood as wall-clock times in the calendar's zone. ``uid`` must be stable for the
    same session across exports (e.g. built from the timetable slot id and the date).
    """

    uid: str
    start: datetime
    end: datetime
    summary: str
    location: str | None = None
    description: str | None = None


def build_week_ics(
    events: Sequence[ClassEvent],
    tz_name: str,
    calendar_name: str,
    prodid_domain: str = "ais-bot",
    *,
    stamp: datetime | None = None,
) -> bytes:
    """Render ``events`` as an iCalendar (RFC 5545) file.

    :param events: the sessions to export; order does not matter.
    :param tz_name: IANA zone of the university, e.g. ``"Asia/Almaty"``.
    :param calendar_name: shown by clients as the calendar's title.
    :param prodid_domain: identifies this application in PRODID and makes event UIDs
        globally unique.
    :param stamp: DTSTAMP for all events; defaults to the current time. Fixing it makes the
        output byte-for-byte reproducible.
    :raises ValueError: if the zone is unknown or an event ends before it starts.
    """
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone: {tz_name!r}") from exc

    dtstamp = (stamp or datetime.now(UTC)).astimezone(UTC)
    # Imported here: icalendar (and dateutil under it) is heavy and only this needs it.
    from icalendar import Calendar, Event, Timezone

    calendar = Calendar.new(
        name=calendar_name,
        prodid=f"-//{prodid_domain}//timetable//EN",
        # Derived from the name so that repeated exports describe the same calendar.
        uid=uuid.uuid5(uuid.NAMESPACE_DNS, f"{calendar_name}.{prodid_domain}"),
    )
    calendar.add("calscale", "GREGORIAN")
    # PUBLISH tells Outlook this is a plain calendar, not a meeting invitation to answer.
    calendar.add("method", "PUBLISH")
    # Read by Google Calendar and Apple Calendar, which ignore the RFC 7986 NAME property.
    calendar.add("x-wr-timezone", tz_name)

    for item in events:
        start = _in_zone(item.start, tz)
        end = _in_zone(item.end, tz)
        if end <= start:
            raise ValueError(f"event {item.uid!r} ends before it starts")
        event = Event.new(
            uid=_global_uid(item.uid, prodid_domain),
            start=start,
            end=end,
            stamp=dtstamp,
            summary=item.summary,
            location=item.location or None,
            description=item.description or None,
        )
        calendar.add_component(event)

    first, last = _tz_range(events, tz)
    calendar.add_missing_timezones(first_date=first, last_date=last)
    if not events:
        # No event references the zone, yet clients still read X-WR-TIMEZONE, so the
        # definition is added explicitly to keep the file self-contained.
        calendar.subcomponents.insert(
            0, Timezone.from_tzid(tz_name, first_date=first, last_date=last)
        )
    return calendar.to_ical()


def _in_zone(value: datetime, tz: ZoneInfo) -> datetime:
    """Express ``value`` as wall-clock time in ``tz`` so DTSTART carries that TZID."""
    if value.tzinfo is None:
        return value.replace(tzinfo=tz)
    return value.astimezone(tz)


def _global_uid(uid: str, domain: str) -> str:
    """Qualify the caller's id with the domain, as RFC 5545 recommends for uniqueness."""
    return uid if "@" in uid else f"{uid}@{domain}"


def _tz_range(events: Sequence[ClassEvent], tz: ZoneInfo) -> tuple[date, date]:
    """Return the span for which VTIMEZONE transitions must be valid."""
    if not events:
        today = datetime.now(tz).date()
        return today - _TZ_MARGIN, today + _TZ_MARGIN
    starts = [_in_zone(e.start, tz) for e in events]
    ends = [_in_zone(e.end, tz) for e in events]
    return (min(starts) - _TZ_MARGIN).date(), (max(ends) + _TZ_MARGIN).date()
