"""What seeders share: the clock, a seeded random source and the accounts to print."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo


def academic_year_start(today: date) -> int:
    """The calendar year in which the current academic year began (it starts in September)."""
    return today.year if today.month >= 8 else today.year - 1


@dataclass
class DemoContext:
    today: date
    tz: ZoneInfo
    rng: random.Random = field(default_factory=lambda: random.Random(20240901))
    # (role, login, password) of the accounts a person can try, printed at the end.
    accounts: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def year(self) -> int:
        return academic_year_start(self.today)
