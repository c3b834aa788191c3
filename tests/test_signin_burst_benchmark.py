"""The sign-in burst benchmark runs end to end at a tiny size (the timings are not checked)."""

from __future__ import annotations

import json

from benchmarks.signin_burst import main_async


async def test_benchmark_smoke(capsys) -> None:  # type: ignore[no-untyped-def]
    figures = await main_async(signins=6, students=3, questions=3, baseline=False)
    assert figures["errors"] == 0
    assert figures["signins"] == 6 and figures["students"] == 3
    assert figures["others_p99_ms"] > 0 and figures["signin_p99_ms"] > 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last)["bench"] == "signin_burst"
