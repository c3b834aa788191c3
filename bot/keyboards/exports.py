"""Buttons of the spreadsheet exports and charts, shown on the screens of other modules.

`a` names the export: "jx" a group's journal, "ar" the attendance range choice, "ax" attendance
for a preset range (`r`), "at" type a range, "gc" the averages chart (x = discipline, y = group);
"tx" a test's results (x = test); "dx" an announcement's delivery report (x = message); "qx" the
requests queue (x = service, 0 for all); "sc" a student's discipline chart (x = enrolment).
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _


class ExportCb(CallbackData, prefix="xp"):
    a: str
    x: int = 0
    y: int = 0
    r: int = 0


def export_button(text: str, a: str, x: int = 0, y: int = 0, r: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=ExportCb(a=a, x=x, y=y, r=r).pack())


def class_export_rows(discipline_id: int, group_id: int) -> list[list[InlineKeyboardButton]]:
    """For the teacher's screen of a discipline and group."""
    return [
        [
            export_button(_("📥 Journal (XLSX)"), "jx", discipline_id, group_id),
            export_button(_("📥 Attendance (XLSX)"), "ar", discipline_id, group_id),
        ],
        [export_button(_("📊 Averages chart"), "gc", discipline_id, group_id)],
    ]


def test_results_button(test_id: int) -> InlineKeyboardButton:
    return export_button(_("📥 Results (XLSX)"), "tx", test_id)


def delivery_report_button(message_id: int) -> InlineKeyboardButton:
    return export_button(_("📥 Delivery report (XLSX)"), "dx", message_id)


def queue_export_button(service_id: int) -> InlineKeyboardButton:
    return export_button(_("📥 Export the queue (XLSX)"), "qx", service_id)


def student_chart_button(enrolment_id: int) -> InlineKeyboardButton:
    return export_button(_("📈 Chart of marks and attendance"), "sc", enrolment_id)
