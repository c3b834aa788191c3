"""Attendance check-in job: keeps every open QR screen live and closes forgotten check-ins.

Run it every few seconds (CHECKIN_REFRESH_SECONDS, default 5). For each open check-in it shows
a new code when the current one is due (CHECKIN_ROTATE_SECONDS) and the new count when students
arrived, editing the teacher's message no faster than Telegram tolerates; a check-in still open
past its class (plus CHECKIN_AUTO_CLOSE_MINUTES) is closed, which marks the absent. Idempotent:
an unchanged screen is not edited, and a closed check-in is never closed again. Codes of
check-ins closed over a day ago are deleted.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from bot.delivery.checkin_screen import close_and_report, refresh_qr_message
from bot.services import attendance_checkin as svc
from db.models import Teacher, User
from db.models.attendance_checkin import CheckIn
from scheduler.context import JobContext

log = logging.getLogger(__name__)


async def refresh_checkins(ctx: JobContext) -> None:
    now = ctx.clock.now()
    async with ctx.db.read() as session:
        rows = (
            await session.execute(
                select(CheckIn.id, CheckIn.closes_at, User.locale)
                .outerjoin(Teacher, Teacher.id == CheckIn.teacher_id)
                .outerjoin(User, User.id == Teacher.user_id)
                .where(CheckIn.closed_at.is_(None))
            )
        ).all()
    for checkin_id, closes_at, locale in rows:
        locale = locale or ctx.settings.default_locale
        try:
            with ctx.i18n.context(), ctx.i18n.use_locale(locale):
                if now >= closes_at:
                    await close_and_report(ctx.bot, ctx.db, checkin_id, locale, now)
                else:
                    await refresh_qr_message(
                        ctx.bot, ctx.db, checkin_id, locale, now, ctx.settings.checkin
                    )
        except Exception:
            # One broken check-in must not stop the others from refreshing.
            log.exception("check-in %s: refresh failed", checkin_id)
    async with ctx.db.write() as session:
        await svc.purge_old_tokens(session, now)
