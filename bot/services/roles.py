"""Roles and account administration: roles, staff sub-roles, blocking, password resets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiogram.utils.i18n import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audit, auth
from bot.services.errors import DomainError
from db.models import Role, Student, Teacher, User
from db.models.admin import StaffRole, SubRole

STAFF_ROLES = frozenset({Role.staff, Role.admin})


async def has_sub_role(session: AsyncSession, user_id: int, sub_role: SubRole | str) -> bool:
    """True when the person is staff (or an admin) holding this sub-role."""
    try:
        wanted = SubRole(sub_role)
    except ValueError:
        return False
    row = await session.execute(
        select(User.role)
        .join(StaffRole, StaffRole.user_id == User.id)
        .where(User.id == user_id, StaffRole.sub_role == wanted, User.is_blocked.is_(False))
    )
    role = row.scalar()
    return role in STAFF_ROLES


async def sub_roles(session: AsyncSession, user_id: int) -> set[SubRole]:
    return set(
        await session.scalars(select(StaffRole.sub_role).where(StaffRole.user_id == user_id))
    )


async def set_sub_roles(session: AsyncSession, user_id: int, wanted: set[SubRole]) -> bool:
    """Make the person's sub-roles exactly `wanted`; True when something changed."""
    current = await sub_roles(session, user_id)
    if current == wanted:
        return False
    removed = current - wanted
    if removed:
        await session.execute(
            delete(StaffRole).where(StaffRole.user_id == user_id, StaffRole.sub_role.in_(removed))
        )
    for sub_role in sorted(wanted - current):
        session.add(StaffRole(user_id=user_id, sub_role=sub_role))
    await session.flush()
    return True


def _not_found() -> DomainError:
    return DomainError("user_unknown", lambda: _("There is no such account."))


async def find_user(session: AsyncSession, login: str) -> User | None:
    return await session.scalar(select(User).where(User.login == auth.normalize_login(login)))


async def _target(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise _not_found()
    return user


@dataclass(frozen=True, slots=True)
class EndedSession:
    """A Telegram chat signed out by an administrator's change, to be told why."""

    chat_id: int
    locale: str | None
    reason: str  # "password_reset" | "blocked" | "role_changed"


async def _end_sessions(
    session: AsyncSession, user: User, reason: str, *, clear_ban: bool = False
) -> EndedSession | None:
    chat_id = await auth.end_sessions(session, user, clear_ban=clear_ban)
    return None if chat_id is None else EndedSession(chat_id, user.locale, reason)


@dataclass(frozen=True, slots=True)
class RoleChange:
    login: str
    old: Role
    new: Role
    # What a person may see and do changes with the role: they sign in again.
    ended: EndedSession | None


async def set_role(
    session: AsyncSession, *, actor_user_id: int | None, user_id: int, role: Role, now: datetime
) -> RoleChange | None:
    """Change an account's role; None when it already has it.

    A student account needs its student record (created by the students import); a teacher gets
    an empty teacher record; leaving staff drops the sub-roles.
    """
    user = await _target(session, user_id)
    if actor_user_id == user.id and role is not Role.admin and user.role is Role.admin:
        raise DomainError(
            "self_demote", lambda: _("You cannot take the admin role from yourself.")
        )
    if user.role is role:
        return None
    if (
        role is Role.student
        and await session.scalar(select(Student.id).where(Student.user_id == user.id)) is None
    ):
        raise DomainError(
            "no_student_record",
            lambda: _("A student account needs a student record: import the student first."),
        )
    if (
        role is Role.teacher
        and await session.scalar(select(Teacher.id).where(Teacher.user_id == user.id)) is None
    ):
        session.add(Teacher(user_id=user.id))
    old = user.role
    user.role = role
    if role not in STAFF_ROLES:
        await set_sub_roles(session, user.id, set())
    ended = await _end_sessions(session, user, "role_changed")
    await audit.record(
        session, actor_user_id, "user.role", user.login, {"old": old.value, "new": role.value}, now
    )
    return RoleChange(user.login, old, role, ended)


async def toggle_sub_role(
    session: AsyncSession,
    *,
    actor_user_id: int | None,
    user_id: int,
    sub_role: SubRole,
    now: datetime,
) -> bool:
    """Give or take one sub-role of a staff member; returns whether they hold it now."""
    user = await _target(session, user_id)
    if user.role not in STAFF_ROLES:
        raise DomainError(
            "not_staff", lambda: _("Sub-roles are for staff: make the account staff first.")
        )
    current = await sub_roles(session, user.id)
    holds = sub_role not in current
    await set_sub_roles(session, user.id, current | {sub_role} if holds else current - {sub_role})
    await audit.record(
        session,
        actor_user_id,
        "user.sub_role",
        user.login,
        {"sub_role": sub_role.value, "granted": holds},
        now,
    )
    return holds


@dataclass(frozen=True, slots=True)
class BlockChange:
    login: str
    blocked: bool
    # The Telegram chat that was signed out by the block, to be told and to reset its menu.
    ended: EndedSession | None

    @property
    def signed_out_telegram_id(self) -> int | None:
        return None if self.ended is None else self.ended.chat_id


async def set_blocked(
    session: AsyncSession, *, actor_user_id: int | None, user_id: int, blocked: bool, now: datetime
) -> BlockChange | None:
    """Block (signing the person out) or unblock an account; None when nothing changed."""
    user = await _target(session, user_id)
    if blocked and actor_user_id == user.id:
        raise DomainError("self_block", lambda: _("You cannot block your own account."))
    if user.is_blocked == blocked:
        return None
    user.is_blocked = blocked
    ended = await _end_sessions(session, user, "blocked") if blocked else None
    await session.flush()
    await audit.record(
        session, actor_user_id, "user.block" if blocked else "user.unblock", user.login, {}, now
    )
    return BlockChange(user.login, blocked, ended)


@dataclass(frozen=True, slots=True)
class OneTimePassword:
    password: str
    password_hash: str


async def new_one_time_password() -> OneTimePassword:
    """A one-time password and its hash: call before opening the write unit (argon2 is slow)."""
    password = auth.one_time_password()
    return OneTimePassword(password, await auth.hash_password(password))


@dataclass(frozen=True, slots=True)
class PasswordReset:
    login: str
    password: str
    ended: EndedSession | None


async def reset_password(
    session: AsyncSession,
    *,
    actor_user_id: int | None,
    user_id: int,
    now: datetime,
    one_time: OneTimePassword,
) -> PasswordReset:
    """Issue a one-time password (the person must change it at the next sign-in) and sign the
    account out of Telegram: a reset must be able to throw out whoever took the account over.

    The password is stored only as a hash and never logged.
    """
    user = await _target(session, user_id)
    await auth.set_password(
        session, user.id, one_time.password, temporary=True, password_hash=one_time.password_hash
    )
    ended = await _end_sessions(session, user, "password_reset", clear_ban=True)
    await audit.record(session, actor_user_id, "user.reset_password", user.login, {}, now)
    return PasswordReset(user.login, one_time.password, ended)
