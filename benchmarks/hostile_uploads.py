"""Hostile uploads against the bounded readers: how much the bot's own process pays for each.

    .venv/bin/python -m benchmarks.hostile_uploads

Files: a .docx that inflates to 95 MB (the zip bomb), an .xlsx whose sharedStrings.xml
inflates to 60 MB, a 4.9 MB .txt of one question repeated, and a small valid bank (the cost of
starting the child process). For each: the wall time, the CPU time of this process (what the
event loop would have lost) and the outcome. The machine is shared: compare ratios measured in
one run, not absolute figures across runs.
"""

from __future__ import annotations

import asyncio
import json
import time

from bot.services.question_import import parse_bank_bounded
from bot.services.tables import FileProblem, read_table_bounded


async def _measure(name: str, run) -> dict[str, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        outcome = await run()
    except FileProblem as exc:
        outcome = f"refused: {exc.reason}"
    figures = {
        "wall_s": round(time.perf_counter() - wall, 3),
        "parent_cpu_s": round(time.process_time() - cpu, 3),
        "outcome": outcome,
    }
    print(
        f"{name}: {figures['outcome']} in {figures['wall_s']} s "
        f"({figures['parent_cpu_s']} s of CPU in the bot's process, threads included)"
    )
    return figures


async def main() -> None:
    from tests.test_upload_limits import QUESTION, huge_shared_strings_xlsx, zip_bomb_docx

    repeated = (QUESTION * (int(4.9 * 2**20) // len(QUESTION))).encode()
    bomb, strings = zip_bomb_docx(), huge_shared_strings_xlsx()

    async def bank(name: str, data: bytes) -> str:
        result = await parse_bank_bounded(name, data)
        return f"{len(result.questions)} imported, {len(result.problems)} refused"

    async def table(data: bytes) -> str:
        found = await read_table_bounded(data, "students.xlsx")
        return f"{len(found.rows)} rows"

    small = b"<question>q\n<variant>a\n<variant>b\n"
    cases = [
        ("small_bank", "small bank (the child's start-up)", lambda: bank("b.txt", small)),
        ("zip_bomb_docx", f"zip bomb .docx ({len(bomb)} bytes)", lambda: bank("b.docx", bomb)),
        (
            "shared_strings_xlsx",
            f"huge sharedStrings .xlsx ({len(strings)} bytes)",
            lambda: table(strings),
        ),
        (
            "repeated_txt",
            f"repeated questions .txt ({len(repeated)} bytes)",
            lambda: bank("b.txt", repeated),
        ),
    ]
    figures = {key: await _measure(label, run) for key, label, run in cases}
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
