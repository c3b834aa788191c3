"""The attendance check-in screens: the teacher's live QR message and its final count."""

from __future__ import annotations

from aiogram.types import BufferedInputFile
from aiogram.utils.i18n import gettext as _

from bot.i18n import fmt_date
from bot.keyboards.academic import class_kind_label
from bot.services import attendance_checkin as svc
from bot.ui import esc
from db.models.attendance_checkin import CheckIn


def class_line(checkin: CheckIn, locale: str) -> str:
    """The class of a check-in: discipline, kind, group; date and time."""
    slot = checkin.meeting.slot
    return "{discipline} · {kind} · {group}\n{date}, {start}–{end}".format(
        discipline=esc(slot.discipline.name(locale)),
        kind=class_kind_label(slot.kind),
        group=esc(slot.group.code),
        date=fmt_date(checkin.meeting.on_date, locale),
        start=slot.starts_at.strftime("%H:%M"),
        end=slot.ends_at.strftime("%H:%M"),
    )


def qr_caption(checkin: CheckIn, counts: svc.Counts, locale: str, rotate_seconds: int) -> str:
    """The caption of the live QR code: the class, who has checked in, how it works."""
    return "\n".join(
        [
            _("📷 <b>Attendance check-in</b>"),
            class_line(checkin, locale),
            "",
            _("Checked in: <b>{present}</b> of {total}").format(
                present=counts.present, total=counts.total
            ),
            _(
                "Students scan this code with the phone camera. It changes every {seconds} s, "
                "so a photo of it stops working a minute later."
            ).format(seconds=rotate_seconds),
        ]
    )


def closed_caption(checkin: CheckIn, counts: svc.Counts, locale: str) -> str:
    """What the QR message becomes when the check-in closes: the final count."""
    return "\n".join(
        [
            _("📷 <b>Attendance check-in</b>: closed"),
            class_line(checkin, locale),
            "",
            _("Present: {present} of {total}").format(present=counts.present, total=counts.total),
        ]
    )


def qr_photo(bot_username: str, token: str) -> BufferedInputFile:
    """The QR code of a check-in token, as a photo to send."""
    # Imported here: qrcode loads PIL, which start-up does not need.
    from bot.services.qr import qr_png

    return BufferedInputFile(
        qr_png(svc.start_link(bot_username, token), box_size=8), filename="check-in.png"
    )
