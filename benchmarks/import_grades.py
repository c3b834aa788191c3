"""Grade import throughput: 50,000 grade rows through the same import the CLI and the bot use.

    .venv/bin/python -m benchmarks.import_grades                # 50,000 rows on SQLite
    .venv/bin/python -m benchmarks.import_grades --rows 200000 --database-url sqlite+aiosqlite:///x.db

A fresh database gets the demo university's structure (from the example files) and enough
students; a CSV of midterms, exams and current marks is generated and imported, then imported
again (every row unchanged). Printed: rows, seconds and rows per second of both runs, their
CPU time (rows per CPU second), and the grade notifications queued (one per changed mark, as the
journal does); the last line is one JSON object of these figures.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import tempfile
import time
import zlib
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.demo import core
from bot.demo.context import DemoContext
from bot.importer import KINDS, run_import
from bot.importer.base import ImportOptions, import_table
from bot.importer.reader import Table
from db.migrate import upgrade
from db.models import AcademicPeriod, Discipline, Group
from db.models.delivery import Delivery
from db.session import Database

DISCIPLINES_PER_STUDENT = 5
# Per discipline: midterm 1, midterm 2, the exam and seven current marks = 10 rows.
CURRENT_MARKS = 7


async def prepare(db: Database, rows: int) -> bytes:
    today = date(core.EXAMPLE_YEAR, 11, 1)
    async with db.write() as session:
        await core.seed(session, DemoContext(today=today, tz=ZoneInfo("Asia/Almaty")))
    per_student = DISCIPLINES_PER_STUDENT * (3 + CURRENT_MARKS)
    students = -(-rows // per_student)
    async with db.read() as session:
        groups = list(await session.scalars(select(Group.code).order_by(Group.id)))
        disciplines = list(await session.scalars(select(Discipline.code).order_by(Discipline.id)))[
            :DISCIPLINES_PER_STUDENT
        ]
        period = await session.scalar(
            select(AcademicPeriod).order_by(AcademicPeriod.starts_on.desc()).limit(1)
        )
    header = ["login", "student_no", "last_name", "first_name", "group"]
    people = [
        [f"bench{i:06d}", f"B{i:08d}", "Сапаров", f"Студент{i}", groups[i % len(groups)]]
        for i in range(students)
    ]
    async with db.write() as session:
        await import_table(
            session,
            KINDS["students"],
            Table(header, [(n + 2, cells) for n, cells in enumerate(people)]),
            ImportOptions(issue_passwords=False),
        )
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(
        ["студент", "дисциплина", "период", "контроль", "оценка", "дата", "вид работы"]
    )
    written = 0
    for person in people:
        for d, code in enumerate(disciplines):
            controls = [("midterm1", ""), ("midterm2", ""), ("exam", "")] + [
                ("current", (period.starts_on + timedelta(days=7 * w)).isoformat())
                for w in range(CURRENT_MARKS)
            ]
            for c, (control, on) in enumerate(controls):
                if written == rows:
                    break
                value = 50 + zlib.crc32(f"{person[0]}:{d}:{c}".encode()) % 50
                writer.writerow([person[0], code, period.code, control, value, on, "practice"])
                written += 1
    return out.getvalue().encode("utf-8-sig")


async def main(rows: int, database_url: str | None) -> dict[str, object]:
    result: dict[str, object] = {"bench": "import_grades", "rows": rows}
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        db = Database.from_url(url)
        try:
            await upgrade(db)
            data = await prepare(db, rows)
            for key, label in (("first", "first import"), ("again", "re-import")):
                started = time.perf_counter()
                cpu = time.process_time()
                report = await run_import(db, "grades", data, filename="grades.csv")
                cpu = time.process_time() - cpu
                elapsed = time.perf_counter() - started
                assert report.applied and not report.problems, report.problems[:3]
                print(
                    f"{label}: {report.rows} rows in {elapsed:.1f} s = "
                    f"{report.rows / elapsed:,.0f} rows/s, {report.rows / cpu:,.0f} rows per "
                    f"CPU second (new {report.created}, changed {report.updated}, "
                    f"unchanged {report.unchanged})"
                )
                result[f"{key}_rows_per_s"] = round(report.rows / elapsed)
                result[f"{key}_rows_per_cpu_s"] = round(report.rows / cpu)
            async with db.read() as session:
                pushes = await session.scalar(select(func.count()).select_from(Delivery))
            print(f"grade notifications queued: {pushes}")
            result["rows_per_cpu_s"] = result["first_rows_per_cpu_s"]
            result["notifications"] = pushes
        finally:
            await db.dispose()
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.rows, args.database_url))), flush=True)
