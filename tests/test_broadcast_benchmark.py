"""The broadcast benchmark runs end to end on a small audience."""

from __future__ import annotations

from benchmarks.broadcast import run


async def test_broadcast_benchmark_smoke() -> None:
    result = await run(recipients=150, limit=30, rate=25)
    assert result["sent"] == result["queued"] == 150
    assert result["lost"] == 0 and result["duplicated"] == 0
    # Paced under the limit: no 429 at the default rate, and close to the configured rate.
    assert result["retry_after"] == 0
    assert 20 <= result["rate"] <= 30


async def test_broadcast_too_fast_meets_429_and_loses_nothing() -> None:
    result = await run(recipients=150, limit=30, rate=60)
    assert result["retry_after"] > 0
    assert result["sent"] == 150 and result["lost"] == 0 and result["duplicated"] == 0
