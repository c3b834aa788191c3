"""Testing jobs: close attempts whose time is up, release results held until a window closes.

Both run every minute and are idempotent: an attempt is finished once (a finished attempt is
never touched again), a test's results are released once (`results_released_at`), and every push
carries a dedupe key, so a re-run after a crash queues nothing twice.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.services import testing as svc
from bot.services.notify import NoticeKind, notify
from db.models.testing import Attempt, OnlineTest
from scheduler.context import JobContext

log = logging.getLogger(__name__)

BATCH = 200


def _names(test: OnlineTest) -> dict[str, Any]:
    return {
        "name": test.name,
        "discipline_kk": test.discipline.name_kk,
        "discipline_ru": test.discipline.name_ru,
        "discipline_en": test.discipline.name_en,
    }


def result_params(test: OnlineTest, attempt: Attempt) -> dict[str, Any]:
    return {
        **_names(test),
        "test_id": test.id,
        "attempt_id": attempt.id,
        "correct": attempt.correct,
        "total": attempt.total,
        "score": str(attempt.score) if attempt.score is not None else None,
    }


async def close_overdue_attempts(ctx: JobContext) -> None:
    """Finish and score every attempt whose deadline plus grace has passed (the student never
    came back), put visible scores into the journal and tell the student."""
    now = ctx.clock.now()
    closed_total = 0
    while True:
        async with ctx.db.write() as session:
            attempts = await svc.close_overdue(
                session, now, svc.grace_period(ctx.settings), limit=BATCH
            )
            for attempt in attempts:
                test = await session.get(OnlineTest, attempt.test_id)
                assert test is not None
                await session.refresh(test, ["discipline"])
                user_id = await svc.student_user_id(session, attempt.student_id)
                if user_id is None:
                    continue
                params = result_params(test, attempt)
                if not svc.results_visible(test):
                    params["score"] = None
                await notify(
                    session,
                    user_id=user_id,
                    kind=NoticeKind.tests,
                    template="testing.attempt_closed",
                    params=params,
                    now=now,
                    dedupe_key=f"testing:closed:{attempt.id}",
                    ref_type="test_attempt",
                    ref_id=attempt.id,
                )
        closed_total += len(attempts)
        if len(attempts) < BATCH:
            break
    if closed_total:
        log.info("closed %d overdue test attempts", closed_total)


async def deliver_held_results(ctx: JobContext) -> None:
    """Release the results of tests that hid them until their window closed: scores go to the
    journal and each student gets a push with the result."""
    now = ctx.clock.now()
    async with ctx.db.read() as session:
        test_ids = [
            t.id for t in await svc.tests_to_release(session, now, svc.grace_period(ctx.settings))
        ]
    for test_id in test_ids:
        async with ctx.db.write() as session:
            test = await session.get(OnlineTest, test_id)
            if test is None or test.results_released_at is not None:
                continue
            await session.refresh(test, ["discipline"])
            released = await svc.release_results(session, test, now)
            for user_id, attempt in released:
                await notify(
                    session,
                    user_id=user_id,
                    kind=NoticeKind.tests,
                    template="testing.result_released",
                    params=result_params(test, attempt),
                    now=now,
                    dedupe_key=f"testing:released:{test.id}:{attempt.student_id}",
                    ref_type="test_attempt",
                    ref_id=attempt.id,
                )
        log.info("released the results of test %s to %d students", test_id, len(released))
