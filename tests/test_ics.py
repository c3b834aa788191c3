"""Tests for the iCalendar timetable export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.services.ics import ClassEvent, build_week_ics

ALMATY = ZoneInfo("Asia/Almaty")
STAMP = datetime(2025, 8, 30, 12, 0, tzinfo=UTC)


def _week() -> list[ClassEvent]:
    """Eight sessions over Monday-Friday of one week, mixing naive and aware datetimes."""
    monday = datetime(2025, 9, 1)
    slots = [
        (0, 9, "Қазақ тілі", "Ауд. 301"),
        (0, 11, "Математический анализ", "Ауд. 215"),
        (1, 9, "Physics", None),
        (1, 14, "Программирование на Python", "Лаб. 4"),
        (2, 10, "Қазақстан тарихы", "Ауд. 102"),
        (3, 9, "English", "Room 12"),
        (3, 13, "Философия", None),
        (4, 8, "Дене шынықтыру", "Спортзал"),
    ]
    events = []
    for n, (day, hour, summary, location) in enumerate(slots):
        start = monday + timedelta(days=day, hours=hour)
        if n % 2:
            start = start.replace(tzinfo=ALMATY)
        events.append(
            ClassEvent(
                uid=f"slot-{n}-20250901",
                start=start,
                end=start + timedelta(minutes=50),
                summary=summary,
                location=location,
                description="Оқытушы: Әлия Серікқызы" if n == 0 else None,
            )
        )
    return events


def _parse(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def test_week_round_trip() -> None:
    events = _week()
    data = build_week_ics(events, "Asia/Almaty", "Кесте / Расписание", stamp=STAMP)
    calendar = _parse(data)

    parsed = list(calendar.walk("VEVENT"))
    assert len(parsed) == 8
    for source, event in zip(events, parsed, strict=True):
        assert str(event["UID"]) == f"{source.uid}@ais-bot"
        assert event.start.tzinfo is not None
        assert str(event.start.tzinfo) == "Asia/Almaty"
        assert event["DTSTART"].params["TZID"] == "Asia/Almaty"
        assert event["DTEND"].params["TZID"] == "Asia/Almaty"
        expected = source.start.replace(tzinfo=None)
        assert event.start.replace(tzinfo=None) == expected
        assert event.end - event.start == timedelta(minutes=50)
        assert str(event["SUMMARY"]) == source.summary
        assert event.DTSTAMP == STAMP
        if source.location is None:
            assert "LOCATION" not in event
        else:
            assert str(event["LOCATION"]) == source.location

    assert str(parsed[0]["SUMMARY"]) == "Қазақ тілі"
    assert str(parsed[1]["SUMMARY"]) == "Математический анализ"
    assert str(parsed[0]["DESCRIPTION"]) == "Оқытушы: Әлия Серікқызы"

    timezones = list(calendar.walk("VTIMEZONE"))
    assert [str(tz["TZID"]) for tz in timezones] == ["Asia/Almaty"]
    assert str(calendar["X-WR-CALNAME"]) == "Кесте / Расписание"
    assert str(calendar["X-WR-TIMEZONE"]) == "Asia/Almaty"
    assert str(calendar["PRODID"]).startswith("-//ais-bot//")


def test_utc_offset_of_parsed_events_is_almaty() -> None:
    """The 09:00 class must land at 04:00 UTC (Kazakhstan is UTC+5 since March 2024)."""
    calendar = _parse(build_week_ics(_week(), "Asia/Almaty", "Week", stamp=STAMP))
    first = next(iter(calendar.walk("VEVENT")))
    assert first.start.astimezone(UTC) == datetime(2025, 9, 1, 4, 0, tzinfo=UTC)


def test_aware_datetimes_in_other_zones_are_converted() -> None:
    start = datetime(2025, 9, 1, 4, 0, tzinfo=UTC)
    event = ClassEvent("online", start, start + timedelta(hours=1), "Онлайн-лекция", None, None)
    calendar = _parse(build_week_ics([event], "Asia/Almaty", "Week", stamp=STAMP))
    parsed = next(iter(calendar.walk("VEVENT")))
    assert str(parsed.start.tzinfo) == "Asia/Almaty"
    assert parsed.start.replace(tzinfo=None) == datetime(2025, 9, 1, 9, 0)


def test_output_is_stable_for_reimport() -> None:
    """Same input and stamp give identical bytes, so UIDs never drift between exports."""
    first = build_week_ics(_week(), "Asia/Almaty", "Week", stamp=STAMP)
    second = build_week_ics(_week(), "Asia/Almaty", "Week", stamp=STAMP)
    assert first == second


def test_uid_with_domain_is_kept() -> None:
    start = datetime(2025, 9, 1, 9, 0)
    event = ClassEvent("42@university.kz", start, start + timedelta(hours=1), "X", None, None)
    calendar = _parse(build_week_ics([event], "Asia/Almaty", "Week", stamp=STAMP))
    assert str(next(iter(calendar.walk("VEVENT")))["UID"]) == "42@university.kz"


def test_empty_week_still_has_timezone() -> None:
    calendar = _parse(build_week_ics([], "Asia/Almaty", "Week", stamp=STAMP))
    assert list(calendar.walk("VEVENT")) == []
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Asia/Almaty"]


def test_rejects_unknown_zone_and_inverted_event() -> None:
    with pytest.raises(ValueError, match="time zone"):
        build_week_ics([], "Asia/Nowhere", "Week")
    start = datetime(2025, 9, 1, 9, 0)
    bad = ClassEvent("bad", start, start - timedelta(minutes=1), "X", None, None)
    with pytest.raises(ValueError, match="ends before"):
        build_week_ics([bad], "Asia/Almaty", "Week")
