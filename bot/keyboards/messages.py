"""Callback payloads and keyboards of the messages module (letters, tasks, announcements)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _

from bot.services.messaging import BOARD_ORDER, BoardStatus, Target
from db.models import Role
from db.models.messaging import MessageKind, TaskState, TaskStatus

KIND_CODE = {MessageKind.letter: "l", MessageKind.task: "t", MessageKind.announcement: "a"}
CODE_KIND = {code: kind for kind, code in KIND_CODE.items()}
STATE_CODE = {TaskState.received: "r", TaskState.in_progress: "p", TaskState.done: "d"}
CODE_STATE = {code: state for state, code in STATE_CODE.items()}
BOARD_CODE = {
    BoardStatus.no_telegram: "n",
    BoardStatus.received: "r",
    BoardStatus.in_progress: "p",
    BoardStatus.done: "d",
}
CODE_BOARD = {code: status for status, code in BOARD_CODE.items()}


class MailCb(CallbackData, prefix="ml"):
    """Mailbox screens. `a` is the action, `k` a kind code, `f` a folder ("i"nbox/"o"utbox) or
    another one-letter option, `id` a message id (checked against the presser), `p` a page."""

    a: str
    k: str = ""
    f: str = ""
    id: int = 0
    p: int = 0


class ComposeCb(CallbackData, prefix="mc"):
    """Steps of the composition dialogue; the draft itself lives in the FSM storage."""

    a: str
    v: str = ""
    n: int = 0


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def short(text: str, limit: int = 40) -> str:
    """A subject or a name cut to fit on a button."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- names shown on screens and buttons (translated in the reader's locale) ------------------

KIND_ICON = {MessageKind.letter: "📨", MessageKind.task: "📋", MessageKind.announcement: "📢"}


def kind_name(kind: MessageKind) -> str:
    return {
        MessageKind.letter: _("Letter"),
        MessageKind.task: _("Task"),
        MessageKind.announcement: _("Announcement"),
    }[kind]


def kind_folder(kind: MessageKind) -> str:
    return {
        MessageKind.letter: _("Letters"),
        MessageKind.task: _("Tasks"),
        MessageKind.announcement: _("Announcements"),
    }[kind]


def state_name(state: TaskState | None) -> str:
    return (
        {
            TaskState.received: _("received"),
            TaskState.in_progress: _("in progress"),
            TaskState.done: _("done"),
        }.get(state, "—")
        if state is not None
        else "—"
    )


def status_name(status: TaskStatus | None) -> str:
    if status == TaskStatus.closed:
        return _("closed")
    return _("open")


def target_kind_name(target: Target, role: Role) -> str:
    """A kind of recipient as a button on the recipients step."""
    if target == Target.group and role == Role.student:
        return _("👥 My group")
    return {
        Target.person: _("👤 A person"),
        Target.everyone: _("🌐 Everyone"),
        Target.teachers: _("👩‍🏫 All teachers"),
        Target.students: _("🎓 All students"),
        Target.faculty: _("🏛 A faculty"),
        Target.programme: _("📚 A programme"),
        Target.course: _("🔢 A year of study"),
        Target.stream: _("🧩 A stream (programme and year)"),
        Target.group: _("👥 A group"),
        Target.form: _("🗂 A form of study"),
    }[target]


def target_line(target: Target, label: str) -> str:
    """A chosen recipient, e.g. "Group: IS-24-1" (label is already escaped)."""
    if target == Target.everyone:
        return _("Everyone")
    if target == Target.teachers:
        return _("All teachers")
    if target == Target.students:
        return _("All students")
    template = {
        Target.person: _("Person: {name}"),
        Target.faculty: _("Faculty: {name}"),
        Target.programme: _("Programme: {name}"),
        Target.course: _("Year of study: {name}"),
        Target.stream: _("Stream: {name}"),
        Target.group: _("Group: {name}"),
        Target.form: _("Form of study: {name}"),
    }[target]
    return template.format(name=label)


# ---- the task board --------------------------------------------------------------------------


def board_status_name(status: BoardStatus) -> str:
    return {
        BoardStatus.no_telegram: _("no Telegram"),
        BoardStatus.received: _("received"),
        BoardStatus.in_progress: _("in progress"),
        BoardStatus.done: _("done"),
    }[status]


BOARD_ICON = {
    BoardStatus.no_telegram: "📵",
    BoardStatus.received: "📥",
    BoardStatus.in_progress: "▶️",
    BoardStatus.done: "✅",
}


def board_filter_buttons(
    message_id: int, counts: dict[BoardStatus, int], current: BoardStatus | None
) -> list[list[InlineKeyboardButton]]:
    """One button per status with its total (and "all"); the current filter is marked."""

    def label(text: str, selected: bool) -> str:
        return ("• " if selected else "") + text

    everyone = sum(counts.values())
    rows = [
        [
            button(
                label(_("All: {n}").format(n=everyone), current is None),
                MailCb(a="tb", id=message_id),
            )
        ]
    ]
    statuses = [
        button(
            label(f"{BOARD_ICON[s]} {counts[s]}", current == s),
            MailCb(a="tb", id=message_id, f=BOARD_CODE[s]),
        )
        for s in BOARD_ORDER
        if counts[s] or current == s
    ]
    if statuses:
        rows.append(statuses)
    return rows
