"""A memory FSM storage that round-trips data through JSON, as Redis would.

State that Redis could not hold (ORM objects, sets, datetimes) fails here in tests instead of in
production.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage


class JsonMemoryStorage(MemoryStorage):
    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await super().set_data(key, json.loads(json.dumps(dict(data))))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return json.loads(json.dumps(await super().get_data(key)))
