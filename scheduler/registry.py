"""Which jobs run and how often. A job is referenced by text so its id is stable."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class JobSpec:
    id: str
    ref: str  # "package.module:function", an async function taking a JobContext
    seconds: float


JOBS: tuple[JobSpec, ...] = ()
