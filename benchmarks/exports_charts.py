"""CPU cost of a spreadsheet export and of a chart, drawn cold and served from the cache.

    .venv/bin/python -m benchmarks.exports_charts              # 1,000 rows × 16 columns
    .venv/bin/python -m benchmarks.exports_charts --rows 5000

Printed: CPU seconds of the workbook, of the first chart (matplotlib import and font set-up
included), of a second chart with other data (warm), of a cached chart, and of eight charts
asked for at once (at most two are drawn in parallel). Last line: the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import date, timedelta
from decimal import Decimal

from bot.services import charts
from bot.services.exports import Column, Sheet, workbook_bytes
from bot.services.grading import DEFAULT_RULES


def _sheet(rows: int) -> Sheet:
    columns = [Column(f"Column {i}") for i in range(16)]
    data = [
        [f"S{n:06d}", f"=Student {n}", *(Decimal(n % 100) for _ in range(14))] for n in range(rows)
    ]
    return Sheet(title="Bench", caption=["Benchmark"], columns=columns, rows=data)


def _student_chart(seed: int) -> charts.StudentChart:
    start = date(2026, 9, 1)
    marks = [(start + timedelta(days=3 * i), Decimal((seed + 7 * i) % 100)) for i in range(30)]
    classes = [(start + timedelta(days=2 * i), (seed + i) % 5 != 0) for i in range(45)]
    weeks = charts.student_weeks(marks, classes, lambda d: f"{d:%d.%m}")
    return charts.StudentChart(
        title=f"Қазақстан тарихы {seed}",
        subtitle="IS-25-1 · 2026",
        weeks=weeks,
        thresholds=charts.letter_thresholds(DEFAULT_RULES),
        attendance_floor=80.0,
        marks_axis="Баға",
        attendance_axis="Қатысу, %",
        weekly_label="Апта",
        running_label="Орташа",
        pass_label="өту шегі 50",
        floor_label="Шек",
        empty_text="—",
    )


def _cpu(action) -> float:  # type: ignore[no-untyped-def]
    started = time.process_time()
    action()
    return time.process_time() - started


async def _main(rows: int) -> dict[str, float]:
    figures: dict[str, float] = {"rows": rows}
    size = 0

    def build() -> None:
        nonlocal size
        size = len(workbook_bytes([_sheet(rows)]))

    figures["workbook_cpu_s"] = round(_cpu(build), 3)
    figures["workbook_bytes"] = size
    started = time.process_time()
    await charts.png(_student_chart(1), "kk")
    figures["chart_cold_cpu_s"] = round(time.process_time() - started, 3)
    started = time.process_time()
    await charts.png(_student_chart(2), "kk")
    figures["chart_warm_cpu_s"] = round(time.process_time() - started, 3)
    started = time.process_time()
    await charts.png(_student_chart(2), "kk")
    figures["chart_cached_cpu_s"] = round(time.process_time() - started, 6)
    started = time.process_time()
    await asyncio.gather(*(charts.png(_student_chart(10 + i), "kk") for i in range(8)))
    figures["burst_of_8_cpu_s"] = round(time.process_time() - started, 3)
    figures["warm_to_cached_ratio"] = round(
        figures["chart_warm_cpu_s"] / max(figures["chart_cached_cpu_s"], 1e-6)
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1000)
    args = parser.parse_args()
    figures = asyncio.run(_main(args.rows))
    print(
        f"workbook of {args.rows} rows × 16 columns: {figures['workbook_cpu_s']} s CPU, "
        f"{figures['workbook_bytes']} bytes"
    )
    print(f"first chart (import and fonts included): {figures['chart_cold_cpu_s']} s CPU")
    print(f"another chart: {figures['chart_warm_cpu_s']} s CPU")
    print(f"the same chart again (cache): {figures['chart_cached_cpu_s']} s CPU")
    print(f"eight different charts at once: {figures['burst_of_8_cpu_s']} s CPU")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
