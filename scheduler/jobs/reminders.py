"""Reminder jobs: test windows, the academic calendar, classes and the morning digest.

Each job asks `bot.services.reminders` what is due at the clock's `now` and queues it in the
outbox; the delivery worker sends it in the recipient's language, holding non-urgent pushes
through their quiet hours. Every push carries a deterministic dedupe key, so a re-run, two runs
racing after a restart or a run that catches up after downtime never queue one twice.

Suggested intervals (scheduler/registry.py): tests and classes every minute (a class reminder
must not be late), the calendar every ten minutes, the digest every five.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.services import reminders as svc
from bot.services.academic_calendar import academic_year_of
from scheduler.context import JobContext

log = logging.getLogger(__name__)


def _now(ctx: JobContext) -> datetime:
    return ctx.clock.now()


async def remind_test_windows(ctx: JobContext) -> None:
    """A test opened: tell its students; an hour before it closes: remind who has not started."""
    async with ctx.db.write() as session:
        queued = await svc.queue_test_reminders(session, _now(ctx), ctx.settings.tz)
    if queued:
        log.info("queued %d test window reminders", queued)


async def calendar_reminders(ctx: JobContext) -> None:
    """Milestones of each student's academic calendar, the day before and on the day."""
    async with ctx.db.write() as session:
        queued = await svc.queue_calendar_reminders(session, _now(ctx), ctx.settings.tz)
    if queued:
        log.info("queued %d calendar reminders", queued)


async def class_reminders(ctx: JobContext) -> None:
    """The chosen number of minutes before each class."""
    async with ctx.db.write() as session:
        queued = await svc.queue_class_reminders(session, _now(ctx), ctx.settings.tz)
    if queued:
        log.info("queued %d class reminders", queued)


async def morning_digest(ctx: JobContext) -> None:
    """The morning digest of everyone who turned it on, once a day, in bounded write units."""
    now = _now(ctx)
    tz = ctx.settings.tz
    if not svc.digest_due(now, tz):
        return
    today = now.astimezone(tz).date()
    async with ctx.db.read() as session:
        readers = await svc.digest_readers(session, today)
        if not readers:
            return
        calendars = await svc.calendar_of_groups(session, academic_year_of(today))
    classes_cache: dict = {}
    queued = 0
    for start in range(0, len(readers), svc.DIGEST_CHUNK):
        async with ctx.db.write() as session:
            queued += await svc.queue_digests(
                session,
                readers[start : start + svc.DIGEST_CHUNK],
                now,
                tz,
                calendars=calendars,
                classes_cache=classes_cache,
            )
    if queued:
        log.info("queued %d morning digests", queued)
