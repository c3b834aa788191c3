"""Every handler of the bot, tried by the roles it is not for.

The handlers are discovered by walking the dispatcher's router tree: each message handler
(commands, typed text in a dialogue state, documents and photos with a caption) and each
callback handler. Every one of them must have a line in :data:`MATRIX` saying which roles may
use it; a handler without one fails :func:`test_every_handler_is_in_the_matrix` with the line
to add. Each handler that is not for every role is then tried as the demo student, the demo
teacher and the demo staff member wherever their role is not listed: commands are sent,
buttons are pressed with payloads read from the handler's own filter and real demo ids, and
dialogue states are entered with the state the handler waits for before text and a captioned
document are sent. Every attempt must be answered, the errors handler must never run, and not
one row of the database may change.
"""

from __future__ import annotations

import itertools
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiogram import Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.fsm.state import State
from aiogram.methods import AnswerCallbackQuery
from sqlalchemy import select, update

from bot.demo.core import DEMO_ACCOUNTS
from bot.filters import SignedIn
from bot.handlers import build_root_router
from db.base import Base
from db.models import Role, User
from db.session import Database
from tests.conftest import App
from tests.test_fuzz_handlers import ErrorWatch

EVERYONE = frozenset(Role)
STUDENT = frozenset({Role.student})
TEACHER = frozenset({Role.teacher})
STAFF = frozenset({Role.staff, Role.admin})
TEACHING_STAFF = frozenset({Role.teacher, Role.staff, Role.admin})
ADMIN = frozenset({Role.admin})
ROLE_NAMES = {
    EVERYONE: "EVERYONE",
    STUDENT: "STUDENT",
    TEACHER: "TEACHER",
    STAFF: "STAFF",
    TEACHING_STAFF: "TEACHING_STAFF",
    ADMIN: "ADMIN",
}

# Who may use each handler, keyed "router.observer.handler" (observer: message or
# callback_query). A handler in a router with a SignedIn(...) filter may not claim more roles
# than the filter lets in; a handler of an open router that only some roles may use (a
# teacher's action in the classrooms router) is tried by the others like any staff handler.
MATRIX: dict[str, frozenset[Role]] = {
    "groups.message.get_group_router.<locals>.on_group_message": EVERYONE,
    "attendance_scan.message.on_scan": EVERYONE,
    "verification.message.on_verify_link": EVERYONE,
    "verification.callback_query.on_download": EVERYONE,
    "auth.message.cmd_start": EVERYONE,
    "auth.message.cmd_lang": EVERYONE,
    "auth.message.cmd_logout": EVERYONE,
    "auth.message.on_login": EVERYONE,
    "auth.message.on_password": EVERYONE,
    "auth.message.on_secret_not_text": EVERYONE,
    "auth.callback_query.on_language": EVERYONE,
    "auth.callback_query.on_forgot_password": EVERYONE,
    "auth.callback_query.on_back_to_login": EVERYONE,
    "auth.callback_query.on_change_language": EVERYONE,
    # Only for a person of any role who still has a one-time password (tests/test_password_gate).
    "password_gate.message.on_group_message": EVERYONE,
    "password_gate.message.on_confirmation": EVERYONE,
    "password_gate.message.on_new_password": EVERYONE,
    "password_gate.message.on_other_message": EVERYONE,
    "password_gate.callback_query.on_callback": EVERYONE,
    "home.message.cmd_menu": EVERYONE,
    "home.callback_query.on_home": EVERYONE,
    "settings.message.cmd_settings": EVERYONE,
    "settings.message.on_new_login": EVERYONE,
    "settings.message.on_new_password": EVERYONE,
    "settings.message.on_confirm_password": EVERYONE,
    "settings.message.on_old_password": EVERYONE,
    "settings.message.on_not_text": EVERYONE,
    "settings.callback_query.on_nav_settings": EVERYONE,
    "settings.callback_query.on_change_credentials": EVERYONE,
    "settings.callback_query.on_keep_login": EVERYONE,
    "settings.callback_query.on_keep_password": EVERYONE,
    "settings.callback_query.on_language": EVERYONE,
    "settings.callback_query.on_cancel": EVERYONE,
    "settings.callback_query.on_step_over": EVERYONE,
    "notifications.callback_query.on_open": EVERYONE,
    "notifications.callback_query.on_main": EVERYONE,
    "notifications.callback_query.on_class_lead_screen": EVERYONE,
    "notifications.callback_query.on_quiet_start_screen": EVERYONE,
    "notifications.callback_query.on_quiet_end_screen": EVERYONE,
    "notifications.callback_query.on_kind_switch": EVERYONE,
    "notifications.callback_query.on_class_lead": EVERYONE,
    "notifications.callback_query.on_digest": EVERYONE,
    "notifications.callback_query.on_quiet_switch": EVERYONE,
    "notifications.callback_query.on_quiet_hour": EVERYONE,
    "notifications.callback_query.on_stale_button": EVERYONE,
    "journal.callback_query.on_open": EVERYONE,
    "journal.callback_query.on_period": EVERYONE,
    "journal.callback_query.on_discipline": EVERYONE,
    "journal.callback_query.on_periods": EVERYONE,
    "journal.callback_query.on_stale_button": EVERYONE,
    "teacher_journal.message.on_value": TEACHING_STAFF,
    "teacher_journal.message.on_not_text": TEACHING_STAFF,
    "teacher_journal.callback_query.on_open": TEACHING_STAFF,
    "teacher_journal.callback_query.on_units": TEACHING_STAFF,
    "teacher_journal.callback_query.on_unit": TEACHING_STAFF,
    "teacher_journal.callback_query.on_student": TEACHING_STAFF,
    "teacher_journal.callback_query.on_kinds": TEACHING_STAFF,
    "teacher_journal.callback_query.on_enter_mark": TEACHING_STAFF,
    "teacher_journal.callback_query.on_classes": TEACHING_STAFF,
    "teacher_journal.callback_query.on_meeting": TEACHING_STAFF,
    "teacher_journal.callback_query.on_attendance_mark": TEACHING_STAFF,
    "teacher_journal.callback_query.on_stale_button": TEACHING_STAFF,
    "timetable.callback_query.on_open": EVERYONE,
    "timetable.callback_query.on_week": EVERYONE,
    "timetable.callback_query.on_day": EVERYONE,
    "timetable.callback_query.on_ics": EVERYONE,
    "timetable.callback_query.on_stale_button": EVERYONE,
    "academic_calendar.callback_query.on_open": EVERYONE,
    "academic_calendar.callback_query.on_mine": EVERYONE,
    "academic_calendar.callback_query.on_list": EVERYONE,
    "academic_calendar.callback_query.on_view": EVERYONE,
    "academic_calendar.callback_query.on_next": EVERYONE,
    "academic_calendar.callback_query.on_stale_button": EVERYONE,
    "transcript.callback_query.on_open": EVERYONE,
    "transcript.callback_query.on_transcript_page": EVERYONE,
    "transcript.callback_query.on_transcript_pdf": EVERYONE,
    "transcript.callback_query.on_stale_button": EVERYONE,
    "transcript.callback_query.on_profile": EVERYONE,
    "classrooms.message.on_compose_text": EVERYONE,
    "classrooms.message.on_topic_text": TEACHER,
    "classrooms.message.on_material": TEACHER,
    "classrooms.message.on_not_text": EVERYONE,
    "classrooms.callback_query.on_nav_classrooms": EVERYONE,
    "classrooms.callback_query.on_list": EVERYONE,
    "classrooms.callback_query.on_open_material": EVERYONE,
    "classrooms.callback_query.on_room": EVERYONE,
    "classrooms.callback_query.on_materials": EVERYONE,
    "classrooms.callback_query.on_conversation": EVERYONE,
    "classrooms.callback_query.on_members": TEACHER,
    "classrooms.callback_query.on_mute": TEACHER,
    "classrooms.callback_query.on_write": EVERYONE,
    "classrooms.callback_query.on_add_material": TEACHER,
    "classrooms.callback_query.on_remove_material": TEACHER,
    "classrooms.callback_query.on_remove_confirmed": TEACHER,
    "classrooms.callback_query.on_stale_button": EVERYONE,
    "library.message.on_item_link": EVERYONE,
    "library.message.on_quick_text": EVERYONE,
    "library.message.on_value_text": EVERYONE,
    "library.message.on_value_not_text": EVERYONE,
    "library.callback_query.on_nav_library": EVERYONE,
    "library.callback_query.on_get_copy": EVERYONE,
    "library.callback_query.on_item": EVERYONE,
    "library.callback_query.on_results": EVERYONE,
    "library.callback_query.on_edit_search": EVERYONE,
    "library.callback_query.on_form": EVERYONE,
    "library.callback_query.on_clear_form": EVERYONE,
    "library.callback_query.on_field": EVERYONE,
    "library.callback_query.on_language_choice": EVERYONE,
    "library.callback_query.on_kind_choice": EVERYONE,
    "library.callback_query.on_set_language": EVERYONE,
    "library.callback_query.on_set_kind": EVERYONE,
    "library.callback_query.on_run": EVERYONE,
    "library.callback_query.on_stale_button": EVERYONE,
    "library.callback_query.on_page": EVERYONE,
    "attendance_teachers.callback_query.on_nav_checkin": TEACHER,
    "attendance_teachers.callback_query.on_open_checkin": TEACHER,
    "attendance_teachers.callback_query.on_refresh": TEACHER,
    "attendance_teachers.callback_query.on_close": TEACHER,
    "attendance_teachers.callback_query.on_toggle": TEACHER,
    "attendance_teachers.callback_query.on_stale_button": TEACHER,
    "messages.message.cmd_messages": EVERYONE,
    "messages.message.on_task_reply": EVERYONE,
    "messages.message.on_task_reply_other": EVERYONE,
    "messages.callback_query.on_nav": EVERYONE,
    "messages.callback_query.on_mailbox": EVERYONE,
    "messages.callback_query.on_folder": EVERYONE,
    "messages.callback_query.on_open_message": EVERYONE,
    "messages.callback_query.on_attachments": EVERYONE,
    "messages.callback_query.on_task_state": EVERYONE,
    "messages.callback_query.on_task_reply_ask": EVERYONE,
    "messages.callback_query.on_task_status": EVERYONE,
    "messages.callback_query.on_receipts": EVERYONE,
    "messages.callback_query.on_task_board": EVERYONE,
    "messages.callback_query.on_progress": EVERYONE,
    "messages.callback_query.on_write": EVERYONE,
    "messages.callback_query.on_answer": EVERYONE,
    "messages.callback_query.on_stale_button": EVERYONE,
    "messages_compose.message.on_subject": EVERYONE,
    "messages_compose.message.on_body": EVERYONE,
    "messages_compose.message.on_attachment": EVERYONE,
    "messages_compose.message.on_attachment_text": EVERYONE,
    "messages_compose.message.on_expiry": EVERYONE,
    "messages_compose.message.on_search": EVERYONE,
    "messages_compose.message.on_preview_input": EVERYONE,
    "messages_compose.message.on_attachment_other": EVERYONE,
    "messages_compose.message.on_wrong_input": EVERYONE,
    "messages_compose.callback_query.on_cancel": EVERYONE,
    "messages_compose.callback_query.on_kind": EVERYONE,
    "messages_compose.callback_query.on_no_text": EVERYONE,
    "messages_compose.callback_query.on_attachments_done": EVERYONE,
    "messages_compose.callback_query.on_expiry_choice": EVERYONE,
    "messages_compose.callback_query.on_recipients_back": EVERYONE,
    "messages_compose.callback_query.on_recipients_clear": EVERYONE,
    "messages_compose.callback_query.on_preview": EVERYONE,
    "messages_compose.callback_query.on_target": EVERYONE,
    "messages_compose.callback_query.on_send": EVERYONE,
    "messages_compose.callback_query.on_other_step": EVERYONE,
    "testing.message.cmd_tests": STUDENT,
    "testing.callback_query.on_open": STUDENT,
    "testing.callback_query.on_view_test": STUDENT,
    "testing.callback_query.on_rules": STUDENT,
    "testing.callback_query.on_start_ask": STUDENT,
    "testing.callback_query.on_start": STUDENT,
    "testing.callback_query.on_question": STUDENT,
    "testing.callback_query.on_grid": STUDENT,
    "testing.callback_query.on_finish_ask": STUDENT,
    "testing.callback_query.on_finish": STUDENT,
    "testing.callback_query.on_result": STUDENT,
    "testing.callback_query.on_stale_button": STUDENT,
    "testing.callback_query.on_answer": STUDENT,
    "testing.callback_query.on_confirm": STUDENT,
    "testing_staff.message.cmd_tests": TEACHING_STAFF,
    "testing_staff.message.on_bank_file": TEACHING_STAFF,
    "testing_staff.message.on_name": TEACHING_STAFF,
    "testing_staff.message.on_minutes": TEACHING_STAFF,
    "testing_staff.message.on_counts": TEACHING_STAFF,
    "testing_staff.message.on_window": TEACHING_STAFF,
    "testing_staff.message.on_students": TEACHING_STAFF,
    "testing_staff.message.on_rules_text": TEACHING_STAFF,
    "testing_staff.callback_query.on_open": TEACHING_STAFF,
    "testing_staff.callback_query.on_home": TEACHING_STAFF,
    "testing_staff.callback_query.on_banks": TEACHING_STAFF,
    "testing_staff.callback_query.on_discs": TEACHING_STAFF,
    "testing_staff.callback_query.on_disc": TEACHING_STAFF,
    "testing_staff.callback_query.on_imp": TEACHING_STAFF,
    "testing_staff.callback_query.on_new": TEACHING_STAFF,
    "testing_staff.callback_query.on_nds": TEACHING_STAFF,
    "testing_staff.callback_query.on_nd": TEACHING_STAFF,
    "testing_staff.callback_query.on_nb": TEACHING_STAFF,
    "testing_staff.callback_query.on_nc": TEACHING_STAFF,
    "testing_staff.callback_query.on_na": TEACHING_STAFF,
    "testing_staff.callback_query.on_nq": TEACHING_STAFF,
    "testing_staff.callback_query.on_no": TEACHING_STAFF,
    "testing_staff.callback_query.on_nr": TEACHING_STAFF,
    "testing_staff.callback_query.on_nw": TEACHING_STAFF,
    "testing_staff.callback_query.on_ng": TEACHING_STAFF,
    "testing_staff.callback_query.on_nopt": TEACHING_STAFF,
    "testing_staff.callback_query.on_gt": TEACHING_STAFF,
    "testing_staff.callback_query.on_ns": TEACHING_STAFF,
    "testing_staff.callback_query.on_nx": TEACHING_STAFF,
    "testing_staff.callback_query.on_tests": TEACHING_STAFF,
    "testing_staff.callback_query.on_test": TEACHING_STAFF,
    "testing_staff.callback_query.on_tres": TEACHING_STAFF,
    "testing_staff.callback_query.on_rules": TEACHING_STAFF,
    "testing_staff.callback_query.on_re": TEACHING_STAFF,
    "testing_staff.callback_query.on_stale_button": TEACHING_STAFF,
    "appeals.message.cmd_appeals": STUDENT,
    "appeals.message.on_comment": STUDENT,
    "appeals.message.on_comment_not_text": STUDENT,
    "appeals.callback_query.on_open": STUDENT,
    "appeals.callback_query.on_page": STUDENT,
    "appeals.callback_query.on_list": STUDENT,
    "appeals.callback_query.on_periods": STUDENT,
    "appeals.callback_query.on_attempt": STUDENT,
    "appeals.callback_query.on_toggle": STUDENT,
    "appeals.callback_query.on_comment_ask": STUDENT,
    "appeals.callback_query.on_file": STUDENT,
    "appeals.callback_query.on_withdraw_ask": STUDENT,
    "appeals.callback_query.on_withdraw": STUDENT,
    "appeals.callback_query.on_stale_button": STUDENT,
    "appeals_staff.message.on_comment": TEACHING_STAFF,
    "appeals_staff.message.on_comment_not_text": TEACHING_STAFF,
    "appeals_staff.callback_query.on_open": TEACHING_STAFF,
    "appeals_staff.callback_query.on_queue": TEACHING_STAFF,
    "appeals_staff.callback_query.on_review": TEACHING_STAFF,
    "appeals_staff.callback_query.on_decision_ask": TEACHING_STAFF,
    "appeals_staff.callback_query.on_decide": TEACHING_STAFF,
    "appeals_staff.callback_query.on_stale_button": TEACHING_STAFF,
    "service_centre.message.on_field_text": EVERYONE,
    "service_centre.message.on_field_file": EVERYONE,
    "service_centre.message.on_other_content": EVERYONE,
    "service_centre.message.on_resubmit_text": EVERYONE,
    "service_centre.message.on_resubmit_other": EVERYONE,
    "service_centre.callback_query.on_nav": EVERYONE,
    "service_centre.callback_query.on_home": EVERYONE,
    "service_centre.callback_query.on_info": EVERYONE,
    "service_centre.callback_query.on_category": EVERYONE,
    "service_centre.callback_query.on_service": EVERYONE,
    "service_centre.callback_query.on_mine": EVERYONE,
    "service_centre.callback_query.on_request": EVERYONE,
    "service_centre.callback_query.on_apply": EVERYONE,
    "service_centre.callback_query.on_choice_or_skip": EVERYONE,
    "service_centre.callback_query.on_submit": EVERYONE,
    "service_centre.callback_query.on_cancel": EVERYONE,
    "service_centre.callback_query.on_download": EVERYONE,
    "service_centre.callback_query.on_attachment": EVERYONE,
    "service_centre.callback_query.on_answer": EVERYONE,
    "service_centre.callback_query.on_resubmit": EVERYONE,
    "service_centre.callback_query.on_stale_button": EVERYONE,
    "service_centre_staff_only.message.on_text_input": STAFF,
    "service_centre_staff_only.message.on_text_expected": STAFF,
    "service_centre_staff_only.message.on_file_input": STAFF,
    "service_centre_staff_only.callback_query.on_nav": STAFF,
    "service_centre_staff_only.callback_query.on_queue": STAFF,
    "service_centre_staff_only.callback_query.on_services_filter": STAFF,
    "service_centre_staff_only.callback_query.on_list": STAFF,
    "service_centre_staff_only.callback_query.on_open_request": STAFF,
    "service_centre_staff_only.callback_query.on_take": STAFF,
    "service_centre_staff_only.callback_query.on_prompt": STAFF,
    "service_centre_staff_only.callback_query.on_ready": STAFF,
    "service_centre_staff_only.callback_query.on_handed": STAFF,
    "service_centre_staff_only.callback_query.on_generate_ask": STAFF,
    "service_centre_staff_only.callback_query.on_generate": STAFF,
    "service_centre_staff_only.callback_query.on_attach": STAFF,
    "service_centre_staff_only.callback_query.on_download": STAFF,
    "service_centre_staff_only.callback_query.on_attachment": STAFF,
    "service_centre_staff_only.callback_query.on_stale_button": STAFF,
    "service_centre_staff_refusal.callback_query.refuse": EVERYONE,
    "admin_staff.message.cmd_audit": STAFF,
    "admin_staff.callback_query.on_audit_page": STAFF,
    "admin_staff.callback_query.on_nav_audit": STAFF,
    "admin_only.message.cmd_admin": ADMIN,
    "admin_only.message.start_import": ADMIN,
    "admin_only.message.start_accounts": ADMIN,
    "admin_only.message.on_file": ADMIN,
    "admin_only.message.on_not_a_file": ADMIN,
    "admin_only.message.on_login": ADMIN,
    "admin_only.callback_query.on_open": ADMIN,
    "admin_only.callback_query.start_import": ADMIN,
    "admin_only.callback_query.start_accounts": ADMIN,
    "admin_only.callback_query.on_kind": ADMIN,
    "admin_only.callback_query.on_skip": ADMIN,
    "admin_only.callback_query.on_apply": ADMIN,
    "admin_only.callback_query.on_cancel": ADMIN,
    "admin_only.callback_query.on_account_action": ADMIN,
    "admin_only.callback_query.on_reset_ask": ADMIN,
    "admin_only.callback_query.on_reset": ADMIN,
    "admin_only.callback_query.on_card": ADMIN,
    "admin_refused.message.not_admin": EVERYONE,
    "admin_refused.callback_query.not_admin": EVERYONE,
    "fallback.message.start_with_unknown_payload": EVERYONE,
    "fallback.message.not_signed_in_message": EVERYONE,
    "fallback.message.unknown_message": EVERYONE,
    "fallback.callback_query.not_signed_in_callback": EVERYONE,
    "fallback.callback_query.stale_callback": EVERYONE,
    "exports_announcements.callback_query.on_delivery_report": STAFF,
    "exports_classes.callback_query.on_attendance_preset": TEACHING_STAFF,
    "exports_classes.callback_query.on_attendance_ranges": TEACHING_STAFF,
    "exports_classes.callback_query.on_attendance_type": TEACHING_STAFF,
    "exports_classes.callback_query.on_averages_chart": TEACHING_STAFF,
    "exports_classes.callback_query.on_journal": TEACHING_STAFF,
    "exports_classes.message.on_attendance_not_text": TEACHING_STAFF,
    "exports_classes.message.on_attendance_text": TEACHING_STAFF,
    "exports_queue.callback_query.on_queue": STAFF,
    "exports_queue_refusal.callback_query.refuse_queue": EVERYONE,
    "exports_student_charts.callback_query.on_student_chart": STUDENT,
    "exports_tests.callback_query.on_test_results": TEACHING_STAFF,
    "grade_sheet.callback_query.on_grade_sheet": TEACHING_STAFF,
    "transcript.callback_query.on_revoke": STAFF,
    "transcript.message.on_revoke_not_text": STAFF,
    "transcript.message.on_revoke_reason": STAFF,
}
# Actions only some roles may use inside a handler that every role reaches, by the word in the
# payload's action field ("a"): each is tried by the other roles like a handler of their own.
# (Empty since the classroom actions got a handler each; kept for the next shared handler.)
ACTIONS_FOR: dict[str, dict[str, frozenset[Role]]] = {}
ACTORS = ("student", "teacher", "staff")


@dataclass(frozen=True)
class Handler:
    key: str
    router: str
    observer: str
    scope: frozenset[Role]
    callback_data: tuple[type[CallbackData], tuple[str, ...]] | None = None
    commands: tuple[str, ...] = ()
    states: tuple[str | None, ...] = ()


def _strings(node: Any, depth: int = 0) -> set[str]:
    """String constants inside a magic filter (the action names a handler accepts)."""
    if depth > 6:
        return set()
    if isinstance(node, str):
        return {node}
    if isinstance(node, set | frozenset | list | tuple):
        return {s for item in node for s in _strings(item, depth + 1)}
    found: set[str] = set()
    for name in ("_operations", "right", "args", "kwargs", "value", "magic"):
        if hasattr(node, name):
            value = getattr(node, name)
            if isinstance(value, dict):
                value = list(value.values())
            found |= _strings(value, depth + 1)
    return found


def _actions_in_source(module: str) -> tuple[str, ...]:
    """Action names a handler that dispatches on `a` itself compares against or builds."""
    source = Path(sys.modules[module].__file__ or "").read_text("utf-8")
    pattern = r"\b(?:a|action|to)\s*==?\s*\"([a-z0-9_]{1,12})\""
    return tuple(sorted(set(re.findall(pattern, source))))


def _router_scope(router: Router, observer: str, inherited: frozenset[Role]) -> frozenset[Role]:
    for flt in getattr(router, observer)._handler.filters or []:
        if isinstance(flt.callback, SignedIn) and flt.callback.roles:
            return inherited & frozenset(flt.callback.roles)
    return inherited


def _state_name(state: Any) -> str | None:
    if isinstance(state, State):
        return state.state
    if isinstance(state, str) or state is None:
        return state
    # A StatesGroup: every state in it.
    return None


def _states(flt: StateFilter) -> tuple[str | None, ...]:
    out: list[str | None] = []
    for state in flt.states:
        if isinstance(state, State | str) or state is None:
            out.append(_state_name(state))
        else:
            out.extend(s.state for s in state.__all_states__)
    return tuple(out)


def all_handlers() -> list[Handler]:
    """Every message and callback handler of the router tree, with the roles its routers let
    in and what a probe needs to reach it."""
    found: list[Handler] = []

    def walk(router: Router, inherited: frozenset[Role]) -> None:
        for observer in ("message", "callback_query"):
            scope = _router_scope(router, observer, inherited)
            for handler in getattr(router, observer).handlers:
                key = f"{router.name}.{observer}.{handler.callback.__qualname__}"
                callback_data = None
                commands: tuple[str, ...] = ()
                states: tuple[str | None, ...] = ()
                for flt in handler.filters or []:
                    cb = flt.callback
                    if isinstance(cb, CallbackQueryFilter):
                        values = tuple(sorted(_strings(cb.rule))) if cb.rule else ()
                        if not values:
                            values = _actions_in_source(handler.callback.__module__)
                        callback_data = (cb.callback_data, values)
                    elif isinstance(cb, Command):
                        commands = tuple(c for c in cb.commands if isinstance(c, str))
                    elif isinstance(cb, StateFilter):
                        states = _states(cb)
                found.append(
                    Handler(key, router.name, observer, scope, callback_data, commands, states)
                )
        for sub in router.sub_routers:
            walk(sub, _router_scope(sub, "callback_query", inherited))

    walk(build_root_router(), EVERYONE)
    return found


HANDLERS = all_handlers()


def _suggested_line(handler: Handler) -> str:
    roles = ROLE_NAMES.get(handler.scope, "frozenset({...})")
    where = (
        "its routers let in every role: write the roles it is really for"
        if handler.scope == EVERYONE
        else "its router filter lets in " + ", ".join(sorted(r.value for r in handler.scope))
    )
    return f'    "{handler.key}": {roles},  # {where}'


def test_every_handler_is_in_the_matrix() -> None:
    missing = sorted({h.key: h for h in HANDLERS if h.key not in MATRIX}.values(), key=str)
    assert not missing, (
        f"{len(missing)} handler(s) have no line in the role matrix. Add to MATRIX in "
        "tests/test_role_matrix.py one line per handler naming the roles that may use it "
        "(EVERYONE, STUDENT, TEACHER, STAFF, TEACHING_STAFF, ADMIN); the other roles will "
        "then try it and must be refused:\n" + "\n".join(_suggested_line(h) for h in missing)
    )
    stale = sorted(set(MATRIX) - {h.key for h in HANDLERS})
    assert not stale, f"MATRIX names handlers that no longer exist; remove: {stale}"


def test_the_matrix_claims_no_more_than_the_routers_allow() -> None:
    wider = [
        f"{h.key}: the matrix says {sorted(r.value for r in MATRIX[h.key])}, "
        f"the router lets in only {sorted(r.value for r in h.scope)}"
        for h in HANDLERS
        if h.key in MATRIX and not MATRIX[h.key] <= h.scope
    ]
    assert not wider, "\n".join(wider)


def test_the_matrix_covers_every_kind_of_handler() -> None:
    restricted = [h for h in HANDLERS if MATRIX.get(h.key, EVERYONE) != EVERYONE]
    assert any(h.callback_data for h in restricted)
    assert any(h.commands for h in restricted)
    # Typed text and uploads in a dialogue state: the bank file, the admin's import file.
    assert any(h.key == "testing_staff.message.on_bank_file" for h in restricted)
    assert any(h.key == "admin_only.message.on_file" and not h.states for h in restricted)
    # Teacher-only actions inside a router every role reaches.
    assert MATRIX["classrooms.message.on_material"] == TEACHER
    keys = {h.key for h in HANDLERS}
    assert set(ACTIONS_FOR) <= keys, f"unknown handlers in ACTIONS_FOR: {set(ACTIONS_FOR) - keys}"
    assert {
        "teacher_journal",
        "testing_staff",
        "service_centre_staff_only",
        "admin_only",
        "classrooms",
    } <= {h.router for h in restricted}


def payloads(cls: type[CallbackData], values: tuple[str, ...], ids: list[int]) -> list[str]:
    fields = list(cls.model_fields.items())
    words = list(values) or ["x"]
    out = []
    for word, number in itertools.product(words, ids):
        cells = []
        for name, model_field in fields:
            if model_field.annotation in (int, "int"):
                cells.append(str(number))
            elif name in ("a", "action", "to", "t", "scope"):
                cells.append(word)
            else:
                cells.append(word if len(words) == 1 else "")
        payload = cls.__separator__.join([cls.__prefix__, *cells])
        if len(payload.encode()) <= 64:
            out.append(payload)
    return out


async def whole_database(db: Database) -> dict[str, list[tuple]]:
    dump: dict[str, list[tuple]] = {}
    async with db.read() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            dump[table.name] = sorted(tuple(repr(v) for v in row) for row in rows)
    return dump


_telegram_ids = itertools.count(770_000)


async def bound_client(app: App, login: str) -> Any:
    telegram_id = next(_telegram_ids)
    async with app.db.write() as session:
        await session.execute(
            update(User).where(User.login == login).values(telegram_id=telegram_id)
        )
    return app.client(telegram_id)


def _answered(requests: list[Any]) -> bool:
    return any(type(r).__name__.startswith(("Send", "Edit")) for r in requests)


# Dialogue data a state's handler reads, pointing at real demo rows of other people.
STATE_DATA: dict[str, Any] = {
    "cls_room": 1,
    "cls_week": 1,
    "cls_topic": "x",
    "discipline_id": 1,
    "req": 1,
    "file_id": "x",
    "kind": "students",
    "file_name": "x.csv",
    "token": "x",
    "trv_id": 1,
}
# A document that some import would take if it got that far.
PROBE_FILE = ("students.csv", b"login,last_name,first_name,group\nx.probe,X,Y,G\n")


@pytest.mark.parametrize("actor", ACTORS)
async def test_staff_actions_are_refused(demo_app: App, actor: str) -> None:
    error_watch = ErrorWatch()
    logging.getLogger("bot.handlers.common").addHandler(error_watch)
    try:
        await _refused(demo_app, error_watch, actor)
    finally:
        logging.getLogger("bot.handlers.common").removeHandler(error_watch)


async def _refused(demo_app: App, error_watch: ErrorWatch, actor: str) -> None:
    role = Role(actor)
    client = await bound_client(demo_app, DEMO_ACCOUNTS[actor][0])
    context = demo_app.dp.fsm.get_context(
        demo_app.bot, chat_id=client.user_id, user_id=client.user_id
    )
    before = await whole_database(demo_app.db)
    # Real ids of other people's things: the low ids of every table exist in the demo.
    ids = [1, 2, 3]
    mine = [h for h in HANDLERS if role not in MATRIX.get(h.key, EVERYONE)]
    assert mine, actor
    tried = 0
    probed_states: set[str | None] = set()
    for handler in mine:
        await context.clear()
        await client.send("/menu")
        what = f"{actor} on {handler.key}"
        for command in handler.commands:
            assert _answered(await client.send(f"/{command}")), what
            tried += 1
        if handler.callback_data is not None:
            cls, values = handler.callback_data
            for payload in payloads(cls, values, ids):
                requests = await client.click_data(payload)
                query_id = client.callback_ids[-1]
                answers = [
                    r
                    for r in requests
                    if isinstance(r, AnswerCallbackQuery) and r.callback_query_id == query_id
                ]
                assert answers and answers[0].text, f"{what}: pressed {payload}"
                tried += 1
        if handler.observer == "message" and not handler.commands:
            # Typed text and a captioned upload, in each state the handler waits in (or in
            # none, for a handler that takes a captioned file at any time).
            for state in handler.states or (None,):
                if state in probed_states:
                    continue
                probed_states.add(state)
                for send in ("text", "document", "photo"):
                    await context.set_state(state)
                    await context.set_data(dict(STATE_DATA))
                    if send == "text":
                        requests = await client.send("1")
                    elif send == "document":
                        requests = await client.send_document(*PROBE_FILE, caption="students")
                    else:
                        requests = await client.send_photo(b"\xff\xd8photo", caption="1")
                    assert _answered(requests), f"{what}: sent {send} in state {state}"
                    tried += 1
        errors = error_watch.take()
        assert not errors, f"{what}: {errors}"
    for handler in HANDLERS:
        for action, roles in ACTIONS_FOR.get(handler.key, {}).items():
            if role in roles or handler.callback_data is None:
                continue
            await context.clear()
            for payload in payloads(handler.callback_data[0], (action,), ids):
                requests = await client.click_data(payload)
                query_id = client.callback_ids[-1]
                answers = [
                    r
                    for r in requests
                    if isinstance(r, AnswerCallbackQuery) and r.callback_query_id == query_id
                ]
                assert answers and answers[0].text, f"{actor} on {handler.key}: pressed {payload}"
                tried += 1
            errors = error_watch.take()
            assert not errors, f"{actor} on {handler.key} [{action}]: {errors}"
    await context.clear()
    after = await whole_database(demo_app.db)
    changed = [t for t in before if before[t] != after[t]]
    assert not changed, f"{actor} changed {changed}"
    assert tried > 20
