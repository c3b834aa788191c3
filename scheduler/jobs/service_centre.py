"""Service centre housekeeping: the verification log is kept for the audit trail only so long.

Each look-up of a document by its QR code leaves a `document_checks` row (the rate limit counts
them, and staff can tell how often a document was checked). Old rows serve neither purpose. A
transcript's registry entry whose PDF never came (the process stopped mid-render) goes too.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.services import service_centre as sc
from bot.services import transcript as transcript_svc
from scheduler.context import JobContext

log = logging.getLogger(__name__)
# Rendering takes about a second; an entry an hour old without its PDF will never get one.
UNFINISHED_AFTER = timedelta(hours=1)


async def prune_document_checks(ctx: JobContext) -> None:
    """Delete verification look-ups older than the retention period; idempotent. Daily is
    plenty."""
    now = ctx.clock.now()
    async with ctx.db.write() as session:
        deleted = await sc.prune_checks(session, now)
        unfinished = await transcript_svc.drop_unfinished_transcripts(
            session, now - UNFINISHED_AFTER
        )
    if deleted:
        log.info("pruned %s old document checks", deleted)
    if unfinished:
        log.info("dropped %s transcripts reserved but never rendered", unfinished)
