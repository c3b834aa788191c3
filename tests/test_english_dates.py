"""English dates put the day before the month, the month as a word; kk and ru keep CLDR's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from aiogram.utils.i18n import I18n
from babel.dates import format_date

from bot.i18n import fmt_date, fmt_datetime
from bot.services.service_centre import certificate_labels

DAY = date(2026, 12, 1)  # 12/1 is the 12th of January to half the world
TZ = ZoneInfo("Asia/Almaty")


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        ("short", "1 Dec 2026"),
        ("medium", "1 Dec 2026"),
        ("long", "1 December 2026"),
        ("full", "Tuesday, 1 December 2026"),
        ("d MMMM", "1 December"),
        ("dd.MM.yyyy", "1 Dec 2026"),
        ("dd.MM", "1 Dec"),
    ],
)
def test_english_dates_are_day_first(width: str, expected: str) -> None:
    assert fmt_date(DAY, "en", width) == expected


@pytest.mark.parametrize("locale", ["kk", "ru"])
@pytest.mark.parametrize("width", ["short", "medium", "long", "full", "dd.MM.yyyy", "dd.MM"])
def test_kazakh_and_russian_dates_are_unchanged(locale: str, width: str) -> None:
    assert fmt_date(DAY, locale, width) == format_date(DAY, width, locale=locale)


def test_english_date_and_time() -> None:
    moment = datetime(2026, 12, 1, 9, 5, tzinfo=UTC)  # 14:05 in Almaty
    assert fmt_datetime(moment, "en", TZ, "short") == "1 Dec 2026 14:05"
    assert fmt_datetime(moment, "en", TZ) == "1 Dec 2026 14:05"
    assert fmt_datetime(moment, "ru", TZ, "short") == "01.12.2026 14:05"


def test_certificates_in_english_carry_iso_dates(i18n: I18n) -> None:
    with i18n.context():
        with i18n.use_locale("en"):
            english = certificate_labels()
        with i18n.use_locale("ru"):
            russian = certificate_labels()
    assert DAY.strftime(english.date_format) == "2026-12-01"
    assert DAY.strftime(russian.date_format) == "01.12.2026"
