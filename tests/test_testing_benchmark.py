"""The exam-load benchmark runs end to end on a tiny class (the numbers are not checked)."""

from __future__ import annotations

from benchmarks.exam_load import main_async


async def test_benchmark_smoke(capsys) -> None:  # type: ignore[no-untyped-def]
    (result,) = await main_async([3], questions=3)
    exam = result["exam"]
    assert exam["answers"] == 9
    assert exam["lost"] == 0 and exam["duplicated"] == 0 and exam["errors"] == 0
    assert exam["sql_per_answer"] > 0
    assert result["ceiling"]["updates"] > 0
    assert "lost answers: 0   duplicated answers: 0" in capsys.readouterr().out
