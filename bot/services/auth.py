"""Accounts: password hashing, sign-in with a brute-force lock, binding to Telegram, credentials.

No aiogram here: handlers translate the results into screens.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import Role, SignInAttempt, SignInLock, Student, Teacher, User
from db.models.delivery import NotificationSettings
from db.session import Database

# OWASP's argon2id recommendation: m=19 MiB, t=2, p=1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified when the login is unknown, so a wrong login costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))
# argon2 is CPU- and memory-bound (and releases the GIL): a pool of its own keeps hashes off the
# event loop, and keeping it a core smaller than the machine leaves a core to the event loop, so a
# burst of sign-ins queues here (holding no connection) instead of starving everyone else.
HASH_WORKERS = max(1, (os.cpu_count() or 2) - 1)
_HASH_POOL = ThreadPoolExecutor(max_workers=HASH_WORKERS, thread_name_prefix="argon2")
# Sign-ins admitted at once in one process (one verifying, one in its short units per worker):
# a burst waits here, holding no connection, instead of queueing in front of everyone else's
# updates at the connection pool and the event loop.
SIGN_IN_CONCURRENCY = HASH_WORKERS + 1
_sign_in_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _sign_in_slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _sign_in_queues.get(loop)
    if slots is None:
        slots = _sign_in_queues[loop] = asyncio.Semaphore(SIGN_IN_CONCURRENCY)
    return slots


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
    same_as_one_time = "same_as_one_time"


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
#
# Three steps, so no lock, transaction or pooled connection is held while argon2 works:
#   1. a short read unit: is this login or Telegram account banned, and the stored hash;
#   2. the verify, in the hashing pool, with no unit open;
#   3. a short write unit: the login's and the Telegram account's counter rows are locked
#      (`SELECT ... FOR UPDATE`; SQLite's BEGIN IMMEDIATE serialises every writer anyway), the
#      ban is checked again under that lock, and the attempt is counted or the binding made.
# Attempts that raced past step 1 while the limit was being reached find the ban in step 3 and
# are refused even with the right password, so no more than `max_failures` guesses per window
# are ever judged, however many arrive at once.


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

LOGIN_SCOPE = "login"
TG_SCOPE = "tg"


def _counter_keys(login: str, telegram_id: int) -> ColumnElement[bool]:
    return ((SignInLock.scope == LOGIN_SCOPE) & (SignInLock.key == login)) | (
        (SignInLock.scope == TG_SCOPE) & (SignInLock.key == str(telegram_id))
    )


def _ban(rows: list[SignInLock], telegram_id: int, now: datetime) -> datetime | None:
    """When the ban that applies to this Telegram account ends, if one applies now.

    A login's ban does not apply to the Telegram account that last signed in to it: strangers'
    failures cannot lock the owner out of their own chat.
    """
    until = None
    for row in rows:
        if row.locked_until is None or row.locked_until <= now:
            continue
        if row.scope == LOGIN_SCOPE and row.trusted_telegram_id == telegram_id:
            continue
        until = row.locked_until if until is None else max(until, row.locked_until)
    return until


@dataclass(frozen=True, slots=True)
class _Candidate:
    login: str
    user_id: int | None
    password_hash: str


async def _look_up(
    session: AsyncSession, login: str, telegram_id: int, now: datetime
) -> _Candidate | Locked:
    rows = list(await session.scalars(select(SignInLock).where(_counter_keys(login, telegram_id))))
    until = _ban(rows, telegram_id, now)
    if until is not None:
        return Locked(until=until)
    row = (
        await session.execute(select(User.id, User.password_hash).where(User.login == login))
    ).first()
    if row is None:
        return _Candidate(login, None, _DUMMY_HASH)
    return _Candidate(login, row[0], row[1])


async def lock_status(session: AsyncSession, login: str, telegram_id: int) -> datetime | None:
    """When sign-in for this login from this Telegram account unlocks, if it is locked now."""
    rows = list(
        await session.scalars(
            select(SignInLock).where(_counter_keys(normalize_login(login)[:64], telegram_id))
        )
    )
    return _ban(rows, telegram_id, utcnow())


def _insert_ignoring_duplicates(session: AsyncSession) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING in the dialect of the session (SQLite or PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(SignInLock)


async def _locked_counters(
    session: AsyncSession, login: str, telegram_id: int
) -> tuple[SignInLock, SignInLock]:
    """The login's and the Telegram account's counter rows, created if missing, row-locked."""
    insert = _insert_ignoring_duplicates(session)
    await session.execute(
        insert.values(
            [
                {"scope": LOGIN_SCOPE, "key": login, "failures": 0},
                {"scope": TG_SCOPE, "key": str(telegram_id), "failures": 0},
            ]
        ).on_conflict_do_nothing(index_elements=["scope", "key"])
    )
    rows = list(
        await session.scalars(
            select(SignInLock)
            .where(_counter_keys(login, telegram_id))
            # One order everywhere: a login row, then a Telegram row, so two units never wait
            # for each other's rows in a circle.
            .order_by(SignInLock.scope, SignInLock.key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    by_scope = {row.scope: row for row in rows}
    return by_scope[LOGIN_SCOPE], by_scope[TG_SCOPE]


def _count_failure(row: SignInLock, now: datetime, policy: LockPolicy) -> None:
    if row.window_started_at is None or row.window_started_at <= now - policy.window:
        row.failures = 0
        row.window_started_at = now
    row.failures += 1
    if row.failures >= policy.max_failures:
        row.locked_until = now + policy.lock
        row.failures = 0
        row.window_started_at = None


async def _record(
    session: AsyncSession,
    candidate: _Candidate,
    ok: bool,
    telegram_id: int,
    policy: LockPolicy,
    now: datetime,
) -> SignInResult:
    login = candidate.login
    login_row, tg_row = await _locked_counters(session, login, telegram_id)
    session.add(SignInAttempt(login=login, telegram_id=telegram_id, succeeded=ok, created_at=now))
    until = _ban([login_row, tg_row], telegram_id, now)
    if until is not None:
        # Another attempt reached the limit while this one was being verified.
        return Locked(until=until)
    user = await session.get(User, candidate.user_id) if ok else None
    # The hash verified may have been replaced in the meantime (a reset, a change).
    ok = user is not None and user.password_hash == candidate.password_hash
    if not ok:
        trusted = login_row.trusted_telegram_id == telegram_id
        _count_failure(tg_row, now, policy)
        _count_failure(login_row, now, policy)
        until = _ban([login_row, tg_row], telegram_id, now)
        if until is not None:
            return Locked(until=until)
        applying = [tg_row] if trusted else [tg_row, login_row]
        return WrongCredentials(
            attempts_left=min(policy.max_failures - row.failures for row in applying)
        )

    assert user is not None
    if user.is_blocked:
        return AccountBlocked()
    # A success wipes the login's count and trusts this Telegram account from now on. The
    # Telegram account's own count stays: signing in to one's own account must not buy more
    # guesses at other people's.
    login_row.failures = 0
    login_row.window_started_at = None
    login_row.locked_until = None
    login_row.trusted_telegram_id = telegram_id
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
    # Whoever signs in can be written to again, even if this account once blocked the bot.
    await mark_reachable(session, user.id)
    return SignedIn(
        user_id=user.id,
        previous_telegram_id=previous,
        must_change_password=user.must_change_password,
    )


async def sign_in(
    db: Database,
    login: str,
    password: str,
    telegram_id: int,
    policy: LockPolicy = LockPolicy(),
    locale: str | None = None,
) -> SignInResult:
    """Check credentials and bind the account to `telegram_id` (moving any older binding).

    Opens its own short units around the verify (see above); `locale`, when given, is stored on
    the account in the same write unit as the binding.
    """
    login = normalize_login(login)[:64]
    async with _sign_in_slots():
        async with db.read() as session:
            found = await _look_up(session, login, telegram_id, utcnow())
        if isinstance(found, Locked):
            return found
        # Unknown logins are verified against a dummy hash: a wrong login costs what a wrong
        # password costs, so timing does not tell which logins exist.
        ok = await verify_password(found.password_hash, password) and found.user_id is not None
        async with db.write() as session:
            result = await _record(session, found, ok, telegram_id, policy, utcnow())
            if isinstance(result, SignedIn) and locale is not None:
                await set_locale(session, result.user_id, locale)
        return result


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


async def _move_login_counter(session: AsyncSession, old: str, new: str) -> None:
    """The login's count, ban and trusted Telegram account follow it to its new name.

    A row already under the new name belongs to guesses at a login nobody had: it goes.
    """
    await session.execute(
        delete(SignInLock).where(SignInLock.scope == LOGIN_SCOPE, SignInLock.key == new)
    )
    await session.execute(
        update(SignInLock)
        .where(SignInLock.scope == LOGIN_SCOPE, SignInLock.key == old)
        .values(key=new)
    )


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
        if new_login != user.login:
            await _move_login_counter(session, user.login, new_login)
        user.login = new_login
    if new_password_hash is not None:
        user.password_hash = new_password_hash
        user.password_changed_at = utcnow()
        user.must_change_password = False
    await session.flush()


async def set_password(
    session: AsyncSession,
    user_id: int,
    password: str,
    *,
    temporary: bool,
    password_hash: str | None = None,
) -> None:
    """Set a password chosen by an administrator (a one-time one when `temporary`).

    Pass `password_hash` (from `hash_password`, computed before the write unit opened) so the
    unit does not wait for argon2; without it the password is hashed here.
    """
    user = await session.get(User, user_id)
    if user is None:
        raise CredentialsError("no_user")
    user.password_hash = password_hash or await hash_password(password)
    user.password_changed_at = utcnow()
    user.must_change_password = temporary
    await session.flush()


async def one_time_password_hash(session: AsyncSession, user_id: int) -> str | None:
    """The stored hash of an account that still has a one-time password, else None.

    Read in a short read unit so the forced change can refuse a "new" password that is the
    one-time password itself, verified afterwards with no unit open.
    """
    user = await session.get(User, user_id)
    if user is None or not user.must_change_password:
        return None
    return user.password_hash


async def set_own_password(session: AsyncSession, user_id: int, new_password_hash: str) -> bool:
    """The forced change after a one-time password: replace it with the person's own.

    Only while the account still has a one-time password (False otherwise): that password was
    proved by the sign-in of this very binding and is good for nothing else.
    """
    user = await session.get(User, user_id)
    if user is None or not user.must_change_password or user.is_blocked:
        return False
    user.password_hash = new_password_hash
    user.password_changed_at = utcnow()
    user.must_change_password = False
    await session.flush()
    return True


async def end_sessions(
    session: AsyncSession, user: User, *, clear_ban: bool = False
) -> int | None:
    """Sign the account out of Telegram; returns the chat that was bound, if any.

    The Telegram account it trusted (exempt from the login's ban) is forgotten too: after a
    takeover the trusted account may be the intruder's. `clear_ban` lifts the login's ban as
    well (a password reset: the owner must be able to use the new one-time password at once).
    """
    chat = user.telegram_id
    user.telegram_id = None
    user.bound_at = None
    values: dict[str, Any] = {"trusted_telegram_id": None}
    if clear_ban:
        values.update(failures=0, window_started_at=None, locked_until=None)
    await session.execute(
        update(SignInLock)
        .where(SignInLock.scope == LOGIN_SCOPE, SignInLock.key == user.login)
        .values(**values)
    )
    await session.flush()
    return chat
