"""Service centre housekeeping: the verification log is kept for the audit trail only so long.

Each look-up of a document by its QR code leaves a `document_checks` row (the rate limit counts
them, and staff can tell how often a document was checked). Old rows serve neither purpose.
"""

from __future__ import annotations

import logging

from bot.services import service_centre as sc
from scheduler.context import JobContext

log = logging.getLogger(__name__)


async def prune_document_checks(ctx: JobContext) -> None:
    """Delete verification look-ups older than the retention period; idempotent. Daily is
    plenty."""
    async with ctx.db.write() as session:
        deleted = await sc.prune_checks(session, ctx.clock.now())
    if deleted:
        log.info("pruned %s old document checks", deleted)
