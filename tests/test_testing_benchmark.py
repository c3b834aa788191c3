"""The exam-load benchmark runs end to end on a tiny class (the numbers are not checked)."""

from __future__ import annotations

import os
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from benchmarks.exam_load import _split, main_async, scaling

PG_URL = os.environ.get("TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def test_benchmark_smoke(capsys) -> None:  # type: ignore[no-untyped-def]
    (result,) = await main_async([3], questions=3)
    exam = result["exam"]
    assert exam["answers"] == 9
    assert exam["lost"] == 0 and exam["duplicated"] == 0 and exam["errors"] == 0
    assert exam["sql_per_answer"] > 0
    assert result["ceiling"]["updates"] > 0
    assert "lost answers: 0   duplicated answers: 0" in capsys.readouterr().out


def _connect(url: str, timeout: float = 60) -> Any:
    parts = make_url(url)
    return asyncpg.connect(
        host=parts.host,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        database=parts.database,
        timeout=timeout,
    )


async def test_benchmark_smoke_postgres_two_processes(capsys) -> None:  # type: ignore[no-untyped-def]
    try:
        conn = await _connect(PG_URL, timeout=3)
    except Exception as exc:
        pytest.skip(f"needs PostgreSQL at {PG_URL} (set TEST_PG_URL): {type(exc).__name__}: {exc}")
    await conn.close()
    # 3 questions: about 12 updates a student, within the flood control's burst of 15 even
    # when a tiny class presses as fast as the bot answers.
    (result,) = await main_async([4], questions=3, database_url=PG_URL, processes=[2])
    exam = result["exam"]
    assert (exam["backend"], exam["processes"], exam["students"]) == ("PostgreSQL", 2, 4)
    # Both children's answers are counted and checked against the shared database.
    assert exam["answers"] == 12
    assert exam["lost"] == 0 and exam["duplicated"] == 0 and exam["errors"] == 0
    assert exam["sql_per_answer"] > 0
    assert "PostgreSQL, 2 processes: N = 4 students" in capsys.readouterr().out
    conn = await _connect(PG_URL)
    try:
        left = await conn.fetchval(
            "SELECT count(*) FROM pg_database WHERE datname = $1", exam["database"]
        )
    finally:
        await conn.close()
    assert left == 0, "the scratch database is dropped"


def test_slices_cover_every_student_once() -> None:
    assert _split(5, 2) == [(0, 3), (3, 2)]
    assert _split(4, 4) == [(0, 1), (1, 1), (2, 1), (3, 1)]


def test_scaling_compares_each_process_count_with_the_smallest() -> None:
    def run(processes: int | None, rate: float) -> dict[str, object]:
        return {
            "backend": "PostgreSQL",
            "processes": processes,
            "students": 200,
            "updates_per_s": rate,
            "p50_ms": 100.0,
        }

    lines = scaling([run(None, 50.0), run(1, 100.0), run(2, 180.0)])
    assert lines == ["PostgreSQL, 2 processes vs 1: ×1.8 updates/s (N = 200; p50 100 → 100 ms)"]
