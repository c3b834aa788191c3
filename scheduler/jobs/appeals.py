"""Appeal jobs: remind students a few hours before an open appeal window closes.

Idempotent: each attempt's reminder carries a dedupe key, so a re-run (or two schedulers after
a restart) queues it once.
"""

from __future__ import annotations

import logging

from bot.services import appeals as svc
from scheduler.context import JobContext

log = logging.getLogger(__name__)


async def remind_appeal_windows_closing(ctx: JobContext) -> None:
    """Queue "your appeal window closes soon" for attempts with wrong answers not appealed yet
    whose window closes within the next few hours."""
    async with ctx.db.write() as session:
        queued = await svc.remind_closing(session, ctx.clock.now(), ctx.settings.tz)
    if queued:
        log.info("appeal window reminders queued: %s", queued)
