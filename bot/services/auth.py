"""Accounts: password hashing, sign-in with a brute-force lock, binding to Telegram, credentials.

No aiogram here: handlers translate the results into screens.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import Role, SignInAttempt, SignInLock, Student, Teacher, User
from db.models.delivery import NotificationSettings

# OWASP's argon2id recommendation: m=19 MiB, t=2, p=1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified when the login is unknown, so a wrong login costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))
# argon2 is CPU- and memory-bound: a small pool of its own keeps hashes off the event loop and
# makes a burst of sign-ins queue instead of exhausting memory or starving other thread work.
_HASH_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="argon2")

LOGIN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128


@dataclass(frozen=True, slots=True)
class LockPolicy:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=15)


def hash_password_sync(password: str) -> str:
    return _hasher.hash(password)


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_HASH_POOL, _hasher.hash, password)


def _verify_sync(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str, password: str) -> bool:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_HASH_POOL, _verify_sync, stored, password)


def normalize_login(login: str) -> str:
    return login.strip().lower()


def one_time_password() -> str:
    """A password to hand out on paper: unambiguous letters and digits, 12 characters."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(12))
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate


class PasswordProblem:
    too_short = "too_short"
    too_long = "too_long"
    same_as_login = "same_as_login"
    too_simple = "too_simple"


def password_problem(password: str, login: str | None = None) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return PasswordProblem.too_short
    if len(password) > MAX_PASSWORD_LENGTH:
        return PasswordProblem.too_long
    if login is not None and password.strip().lower() == login.strip().lower():
        return PasswordProblem.same_as_login
    if len(set(password)) < 4 or password.isdigit():
        return PasswordProblem.too_simple
    return None


def login_is_valid(login: str) -> bool:
    return bool(LOGIN_RE.match(login.strip()))


# ---- sign-in ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedIn:
    user_id: int
    previous_telegram_id: int | None
    must_change_password: bool


@dataclass(frozen=True, slots=True)
class WrongCredentials:
    attempts_left: int


@dataclass(frozen=True, slots=True)
class Locked:
    until: datetime


@dataclass(frozen=True, slots=True)
class AccountBlocked:
    pass


SignInResult = SignedIn | WrongCredentials | Locked | AccountBlocked


async def _active_lock(session: AsyncSession, login: str, telegram_id: int) -> datetime | None:
    now = utcnow()
    rows = await session.scalars(
        select(SignInLock.locked_until).where(
            ((SignInLock.scope == "login") & (SignInLock.key == login))
            | ((SignInLock.scope == "tg") & (SignInLock.key == str(telegram_id))),
            SignInLock.locked_until > now,
        )
    )
    return max(rows, default=None)


async def _recent_failures(
    session: AsyncSession, column: object, value: object, since: datetime
) -> int:
    return await session.scalar(
        select(func.count()).where(
            column == value,
            SignInAttempt.succeeded.is_(False),
            SignInAttempt.created_at > since,
        )
    )


async def _set_lock(session: AsyncSession, scope: str, key: str, until: datetime) -> None:
    existing = await session.scalar(
        select(SignInLock).where(SignInLock.scope == scope, SignInLock.key == key)
    )
    if existing is None:
        session.add(SignInLock(scope=scope, key=key, locked_until=until))
    else:
        existing.locked_until = until


async def lock_status(session: AsyncSession, login: str, telegram_id: int) -> datetime | None:
    """When sign-in for this login or Telegram account unlocks, if it is locked now."""
    return await _active_lock(session, normalize_login(login), telegram_id)


async def sign_in(
    session: AsyncSession,
    login: str,
    password: str,
    telegram_id: int,
    policy: LockPolicy = LockPolicy(),
) -> SignInResult:
    """Check credentials and bind the account to `telegram_id` (moving any older binding).

    Must run in a write unit: the attempt is recorded whatever the outcome.
    """
    login = normalize_login(login)[:64]
    lock = await _active_lock(session, login, telegram_id)
    if lock is not None:
        return Locked(until=lock)

    user = await session.scalar(select(User).where(User.login == login))
    ok = await verify_password(user.password_hash if user else _DUMMY_HASH, password)
    ok = ok and user is not None
    now = utcnow()
    session.add(SignInAttempt(login=login, telegram_id=telegram_id, succeeded=ok, created_at=now))
    await session.flush()

    if not ok:
        since = now - policy.window
        by_login = await _recent_failures(session, SignInAttempt.login, login, since)
        by_tg = await _recent_failures(session, SignInAttempt.telegram_id, telegram_id, since)
        until = now + policy.lock
        if by_login >= policy.max_failures:
            await _set_lock(session, "login", login, until)
        if by_tg >= policy.max_failures:
            await _set_lock(session, "tg", str(telegram_id), until)
        if max(by_login, by_tg) >= policy.max_failures:
            return Locked(until=until)
        return WrongCredentials(attempts_left=policy.max_failures - max(by_login, by_tg))

    assert user is not None
    if user.is_blocked:
        return AccountBlocked()
    previous = user.telegram_id if user.telegram_id != telegram_id else None
    # The Telegram account may have been bound to another AIS account: that binding ends too.
    await session.execute(
        update(User)
        .where(User.telegram_id == telegram_id, User.id != user.id)
        .values(telegram_id=None, bound_at=None)
    )
    await session.flush()
    user.telegram_id = telegram_id
    user.bound_at = now
    # A successful sign-in clears the failures that counted against this login.
    await session.execute(
        delete(SignInLock).where(
            ((SignInLock.scope == "login") & (SignInLock.key == login))
            | ((SignInLock.scope == "tg") & (SignInLock.key == str(telegram_id)))
        )
    )
    await session.execute(
        delete(SignInAttempt).where(
            SignInAttempt.login == login, SignInAttempt.succeeded.is_(False)
        )
    )
    # Whoever signs in can be written to again, even if this account once blocked the bot.
    await mark_reachable(session, user.id)
    return SignedIn(
        user_id=user.id,
        previous_telegram_id=previous,
        must_change_password=user.must_change_password,
    )


async def mark_reachable(session: AsyncSession, user_id: int) -> None:
    """The person wrote to the bot, so they have not blocked it (any more)."""
    await session.execute(
        update(NotificationSettings)
        .where(
            NotificationSettings.user_id == user_id,
            NotificationSettings.bot_blocked_at.is_not(None),
        )
        .values(bot_blocked_at=None)
    )


async def sign_out(session: AsyncSession, telegram_id: int) -> bool:
    result = await session.execute(
        update(User).where(User.telegram_id == telegram_id).values(telegram_id=None, bound_at=None)
    )
    return bool(result.rowcount)


# ---- who is talking --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Viewer:
    """A signed-in person as handlers see them: ids and display data, no ORM state."""

    user_id: int
    login: str
    role: Role
    locale: str | None
    telegram_id: int
    last_name: str
    first_name: str
    middle_name: str | None
    student_id: int | None
    teacher_id: int | None
    must_change_password: bool

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.staff, Role.admin)


async def load_viewer(session: AsyncSession, telegram_id: int) -> Viewer | None:
    row = (
        await session.execute(
            select(User, Student.id, Teacher.id)
            .outerjoin(Student, Student.user_id == User.id)
            .outerjoin(Teacher, Teacher.user_id == User.id)
            .where(User.telegram_id == telegram_id, User.is_blocked.is_(False))
        )
    ).first()
    if row is None:
        return None
    user, student_id, teacher_id = row
    return Viewer(
        user_id=user.id,
        login=user.login,
        role=user.role,
        locale=user.locale,
        telegram_id=telegram_id,
        last_name=user.last_name,
        first_name=user.first_name,
        middle_name=user.middle_name,
        student_id=student_id,
        teacher_id=teacher_id,
        must_change_password=user.must_change_password,
    )


async def set_locale(session: AsyncSession, user_id: int, locale: str) -> None:
    await session.execute(update(User).where(User.id == user_id).values(locale=locale))


# ---- credentials -----------------------------------------------------------------------------


class CredentialsError(Exception):
    """Why a change of login or password was refused; `code` is stable for translation."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


async def login_taken(session: AsyncSession, login: str, except_user_id: int | None) -> bool:
    query = select(User.id).where(User.login == normalize_login(login))
    if except_user_id is not None:
        query = query.where(User.id != except_user_id)
    return await session.scalar(query) is not None


async def change_credentials(
    session: AsyncSession,
    user_id: int,
    old_password: str,
    new_login: str | None,
    new_password_hash: str | None,
) -> None:
    """Apply a new login and/or password hash after checking the current password.

    The new password arrives already hashed (and checked with `password_problem`), so it never
    waits anywhere in clear between the steps of the dialogue. Raises CredentialsError
    ("wrong_password" | "login_invalid" | "login_taken" | "no_user"). Must run in a write unit.
    """
    user = await session.get(User, user_id)
    if user is None:
        raise CredentialsError("no_user")
    if not await verify_password(user.password_hash, old_password[: MAX_PASSWORD_LENGTH * 2]):
        raise CredentialsError("wrong_password")
    if new_login is not None:
        new_login = normalize_login(new_login)
        if not login_is_valid(new_login):
            raise CredentialsError("login_invalid")
        if await login_taken(session, new_login, user_id):
            raise CredentialsError("login_taken")
        user.login = new_login
    if new_password_hash is not None:
        user.password_hash = new_password_hash
        user.password_changed_at = utcnow()
        user.must_change_password = False
    await session.flush()


async def set_password(
    session: AsyncSession, user_id: int, password: str, *, temporary: bool
) -> None:
    """Set a password chosen by an administrator (a one-time one when `temporary`)."""
    user = await session.get(User, user_id)
    if user is None:
        raise CredentialsError("no_user")
    user.password_hash = await hash_password(password)
    user.password_changed_at = utcnow()
    user.must_change_password = temporary
    await session.flush()
