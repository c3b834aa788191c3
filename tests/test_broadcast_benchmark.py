"""The broadcast benchmark runs end to end on a small audience (on the real clock, so small)."""

from __future__ import annotations

from benchmarks.broadcast import run


async def test_broadcast_benchmark_smoke() -> None:
    result = await run(recipients=100, limit=30, rate=25)
    assert result["sent"] == result["queued"] == 100
    assert result["lost"] == 0 and result["duplicated"] == 0
    # Paced under the limit: no 429 at the default rate. (The pace itself is the benchmark's
    # figure, not a test's: the machine may be busy.)
    assert result["retry_after"] == 0
    assert result["db_statements"] > 0 and result["cpu_s"] > 0


async def test_broadcast_too_fast_meets_429_and_loses_nothing() -> None:
    result = await run(recipients=100, limit=30, rate=60)
    assert result["retry_after"] > 0
    assert result["sent"] == 100 and result["lost"] == 0 and result["duplicated"] == 0
