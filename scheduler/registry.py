"""Which jobs run and how often. A job is referenced by text so its id is stable.

Every job is idempotent (finished things are never redone, pushes carry dedupe keys), so the
intervals only decide how soon something happens, never whether it happens twice. The runner
coalesces missed ticks: after downtime each job runs once and catches up from the database.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class JobSpec:
    id: str
    ref: str  # "package.module:function", an async function taking a JobContext
    seconds: float


JOBS: tuple[JobSpec, ...] = (
    # An abandoned attempt must be closed within a minute of its deadline.
    JobSpec("testing.close_overdue", "scheduler.jobs.testing:close_overdue_attempts", 20),
    JobSpec("testing.held_results", "scheduler.jobs.testing:deliver_held_results", 60),
    # Reminds three hours ahead; every five minutes is early enough.
    JobSpec(
        "appeals.windows_closing", "scheduler.jobs.appeals:remind_appeal_windows_closing", 300
    ),
    # The QR code on the teacher's screen rotates every few seconds.
    JobSpec("attendance.checkins", "scheduler.jobs.attendance:refresh_checkins", 5),
    JobSpec("messages.expire", "scheduler.jobs.messages:expire_messages", 120),
    JobSpec(
        "messages.broadcast_reports", "scheduler.jobs.messages:report_finished_broadcasts", 60
    ),
    JobSpec("reminders.tests", "scheduler.jobs.reminders:remind_test_windows", 60),
    # A class reminder is due at a given minute and useless once the class has begun.
    JobSpec("reminders.classes", "scheduler.jobs.reminders:class_reminders", 60),
    JobSpec("reminders.calendar", "scheduler.jobs.reminders:calendar_reminders", 600),
    JobSpec("reminders.digest", "scheduler.jobs.reminders:morning_digest", 300),
    JobSpec(
        "service_centre.prune_checks", "scheduler.jobs.service_centre:prune_document_checks", 86400
    ),
)
