"""Every message the code can show exists in kk, ru and en, with the same placeholders."""

from __future__ import annotations

import pytest

from bot.config import SUPPORTED_LOCALES
from bot.i18n import catalog_conflicts, fmt_date, fmt_number, load_catalog
from bot.i18n_catalog import missing, placeholder_mismatches, used_messages


@pytest.fixture(scope="module")
def used():
    return used_messages()


def test_the_code_uses_messages(used) -> None:
    assert len(used) > 50


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_message_is_translated(locale: str, used) -> None:
    lacking = [f"{m.where}: {m.msgid!r}" for m in missing(locale, used)]
    assert lacking == [], f"{len(lacking)} untranslated in {locale}:\n" + "\n".join(lacking)


def test_catalogs_agree_with_each_other() -> None:
    """The same English text must not be translated two ways in two features' catalogs."""
    assert catalog_conflicts() == []


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_placeholders_match(locale: str) -> None:
    assert placeholder_mismatches(locale) == []


def test_kazakh_and_russian_differ_from_english() -> None:
    kk, ru = load_catalog("kk"), load_catalog("ru")
    assert kk.get("Choose a section:").string == "Бөлімді таңдаңыз:"
    assert ru.get("Choose a section:").string == "Выберите раздел:"


def test_numbers_and_dates_follow_the_locale() -> None:
    from datetime import date

    assert fmt_number(2.25, "ru") == "2,25"
    assert fmt_number(2.25, "en") == "2.25"
    assert fmt_number(None, "kk") == ""
    assert "қаң" in fmt_date(date(2026, 1, 20), "kk").lower()
    assert "января" in fmt_date(date(2026, 1, 20), "ru", "d MMMM")
