"""Start-up cost of the real bot process against bare aiogram, measured side by side.

    .venv/bin/python -m benchmarks.startup            # 3 starts of each, the median reported

`python -m bot` is started against a local fake Bot API (tests/support/http_botapi.py) and a
fresh SQLite database (migrated and with its catalogs compiled by one unmeasured first start,
as a bot restarted in production finds them). Measured:

- the bot's CPU time (user + system) from exec to its first getUpdates, read from /proc at the
  moment that request arrives;
- its resident memory once idle (VmRSS, a second after that first getUpdates);
- the same two figures for `python -c "import aiogram"` (a process that imports aiogram and
  waits), started the same number of times in the same run: the floor any aiogram bot pays.

The ratio and the difference are what the bot adds to aiogram. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.http_botapi import HttpBotApi

PROJECT_DIR = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAFakeToken_for_local_runs_0123456789"
IDLE_S = 1.0
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime 14 and stime 15 (1-based, man proc).
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class StartupApi(HttpBotApi):
    """The fake Bot API, noting when the first getUpdates arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.first_poll = asyncio.Event()
        self.pid = 0
        self.cpu_at_poll = 0.0

    async def _get_updates(self, params: dict[str, Any]) -> Any:
        if not self.first_poll.is_set() and self.pid:
            self.cpu_at_poll = cpu_seconds(self.pid)
            self.first_poll.set()
        return await super()._get_updates(params)


async def start_bot(
    api: StartupApi, url: str, database_url: str, wait_s: float
) -> dict[str, float]:
    api.first_poll = asyncio.Event()
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "BOT_API_URL": url,
        "DATABASE_URL": database_url,
        "DEFAULT_LOCALE": "en",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=PROJECT_DIR,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    api.pid = proc.pid
    try:
        try:
            await asyncio.wait_for(api.first_poll.wait(), wait_s)
        except TimeoutError:
            proc.kill()
            _out, err = await proc.communicate()
            raise RuntimeError(
                "the bot did not poll within the timeout:\n" + err.decode()[-2000:]
            ) from None
        cpu = api.cpu_at_poll
        await asyncio.sleep(IDLE_S)
        rss = rss_mib(proc.pid)
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
    return {"cpu_s": cpu, "rss_mib": rss}


async def start_aiogram() -> dict[str, float]:
    """`import aiogram` in a fresh interpreter; its CPU and RSS once the import is done."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys, aiogram; print('ready', flush=True); sys.stdin.readline()",
        cwd=PROJECT_DIR,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        await proc.stdout.readline()
        cpu = cpu_seconds(proc.pid)
        await asyncio.sleep(IDLE_S)
        rss = rss_mib(proc.pid)
    finally:
        proc.stdin.close()
        await proc.wait()
    return {"cpu_s": cpu, "rss_mib": rss}


async def main_async(runs: int, wait_s: float) -> dict[str, Any]:
    api = StartupApi()
    url = await api.start()
    bots: list[dict[str, float]] = []
    bare: list[dict[str, float]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="startup-") as tmp:
            database_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bot.sqlite3'}"
            # Unmeasured: migrates the new database, as a restarted bot finds it migrated.
            first = await start_bot(api, url, database_url, wait_s)
            print(f"first start (migrates a new database): CPU {first['cpu_s']:.2f} s")
            for k in range(runs):
                # Alternated, so both see the same machine load.
                bare.append(await start_aiogram())
                bots.append(await start_bot(api, url, database_url, wait_s))
                print(
                    f"run {k + 1}: bot CPU {bots[-1]['cpu_s']:.2f} s, idle RSS "
                    f"{bots[-1]['rss_mib']:.0f} MiB;  import aiogram CPU "
                    f"{bare[-1]['cpu_s']:.2f} s, RSS {bare[-1]['rss_mib']:.0f} MiB",
                    flush=True,
                )
    finally:
        await api.stop()
    cpu = statistics.median(b["cpu_s"] for b in bots)
    rss = statistics.median(b["rss_mib"] for b in bots)
    aiogram_cpu = statistics.median(b["cpu_s"] for b in bare)
    aiogram_rss = statistics.median(b["rss_mib"] for b in bare)
    return {
        "bench": "startup",
        "runs": runs,
        "cpu_s": round(cpu, 2),
        "aiogram_cpu_s": round(aiogram_cpu, 2),
        "cpu_ratio": round(cpu / aiogram_cpu, 2),
        "rss_idle_mib": round(rss, 1),
        "aiogram_rss_mib": round(aiogram_rss, 1),
        "rss_over_aiogram_mib": round(rss - aiogram_rss, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup")
    parser.add_argument("--runs", type=int, default=3, help="starts of each (median reported)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to the first poll")
    args = parser.parse_args(argv)
    print(
        "Start-up: CPU time of `python -m bot` from exec to its first getUpdates and its idle\n"
        "RSS, beside a process that only imports aiogram (medians of the runs)."
    )
    started = time.perf_counter()
    result = asyncio.run(main_async(args.runs, args.timeout))
    print(
        f"bot: CPU {result['cpu_s']:.2f} s to the first getUpdates, idle RSS "
        f"{result['rss_idle_mib']:.0f} MiB\n"
        f"import aiogram: CPU {result['aiogram_cpu_s']:.2f} s, RSS "
        f"{result['aiogram_rss_mib']:.0f} MiB\n"
        f"bot / aiogram: ×{result['cpu_ratio']:.2f} CPU, "
        f"+{result['rss_over_aiogram_mib']:.0f} MiB  ({time.perf_counter() - started:.0f} s)"
    )
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
