"""Running a parser on an uploaded file in a child process with a time and a memory limit.

A thread would keep parsing off the event loop but could neither be stopped nor kept from
taking all the memory: a hostile .docx or .xlsx that parses for minutes would hold the GIL
and the RAM of the whole bot. A child process (a fresh interpreter, not a fork of a process
with threads and open database connections) is given its own address-space limit
(``RLIMIT_AS``) and a CPU-time limit, and is killed when the wall-clock limit passes. The
function runs by its importable name, its arguments and result travel as pickles over pipes:
only the bot's own types cross, the file's bytes are only ever data.

Starting an interpreter costs about a tenth of a second, which an upload can afford.

The child is this module run with ``python -m bot.services.bounded``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

DEFAULT_MEMORY_BYTES = 1024 * 1024 * 1024
_PROJECT_ROOT = str(Path(__file__).resolve().parents[2])
_SECRETS = frozenset({"BOT_TOKEN", "DATABASE_URL", "REDIS_URL", "WEBHOOK_SECRET"})


class BoundedRunError(Exception):
    """The parse did not finish within its limits; ``reason`` is ``timeout``, ``memory`` or
    ``crashed``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def run_bounded(
    func: Callable[..., T],
    *args: Any,
    time_limit: float,
    memory_bytes: int = DEFAULT_MEMORY_BYTES,
) -> T:
    """``func(*args)`` in a child process; its exceptions are raised here as they were there.

    :raises BoundedRunError: the child ran out of time or memory, or died.
    """
    payload = pickle.dumps(
        (func.__module__, func.__qualname__, args, memory_bytes, time_limit),
        protocol=pickle.HIGHEST_PROTOCOL,
    )
    # The child reads hostile bytes; it needs no credentials of the bot.
    env = {key: value for key, value in os.environ.items() if key not in _SECRETS}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (_PROJECT_ROOT, env.get("PYTHONPATH"))))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.services.bounded",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(payload), time_limit)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.communicate()
        log.warning("a parse of %s ran out of time (%ss)", func.__qualname__, time_limit)
        raise BoundedRunError("timeout") from None
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.communicate()
        raise
    try:
        # A big result (85,000 refused questions) takes a moment to unpickle: not on the loop.
        status, value = await asyncio.to_thread(pickle.loads, out)
    except Exception:
        # Killed by the kernel (the CPU limit) or died before it could answer.
        log.warning(
            "a parse of %s ended with code %s: %s",
            func.__qualname__,
            process.returncode,
            err[-500:].decode("utf-8", "replace"),
        )
        # SIGXCPU (the CPU-time limit), then SIGKILL from the kernel.
        reason = "timeout" if process.returncode in (-9, -24) else "crashed"
        raise BoundedRunError(reason) from None
    if status == "ok":
        return value  # type: ignore[no-any-return]
    if status == "raised":
        raise value
    raise BoundedRunError(str(value))


def _limit_self(memory_bytes: int, time_limit: float) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    cpu = int(time_limit) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def _child() -> None:
    """Read the call from stdin, run it within the limits, write the outcome to stdout."""
    module_name, qualname, args, memory_bytes, time_limit = pickle.loads(sys.stdin.buffer.read())
    _limit_self(memory_bytes, time_limit)
    func: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        func = getattr(func, part)
    try:
        outcome: tuple[str, Any] = ("ok", func(*args))
    except MemoryError:
        outcome = ("failed", "memory")
    except Exception as exc:  # handed to the parent, which raises it as the caller expects
        outcome = ("raised", exc)
    try:
        data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        data = pickle.dumps(("failed", "crashed"))
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    _child()
