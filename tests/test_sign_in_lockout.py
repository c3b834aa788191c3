"""The sign-in lockout: limits per login and per Telegram account that hold under parallel
attempts on every engine, and no kill switch for strangers against the owner's own chat."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from sqlalchemy import func, select

from bot.demo.core import DEMO_ACCOUNTS
from bot.services import auth
from bot.services.auth import Locked, LockPolicy, SignedIn, WrongCredentials
from db.models import Role, SignInAttempt, User
from db.session import Database
from tests.conftest import App

STUDENT_LOGIN, STUDENT_PASSWORD = DEMO_ACCOUNTS["student"]
POLICY = LockPolicy()


async def _account(db: Database, login: str, password: str) -> int:
    password_hash = await auth.hash_password(password)
    async with db.write() as session:
        user = User(login=login, password_hash=password_hash, role=Role.teacher, last_name="T")
        session.add(user)
        await session.flush()
        return user.id


def _verify_all_at_once(monkeypatch: pytest.MonkeyPatch, attempts: int) -> None:
    """Every verify finishes at the same moment, so the write units really run in parallel.

    One process admits only a few sign-ins at once; here every attempt is let in at once, as if
    each came through a replica of its own.
    """
    monkeypatch.setattr(auth, "_sign_in_slots", contextlib.nullcontext)
    barrier = asyncio.Barrier(attempts)
    real = auth.verify_password

    async def together(stored: str, password: str) -> bool:
        ok = await real(stored, password)
        await barrier.wait()
        return ok

    monkeypatch.setattr(auth, "verify_password", together)


async def test_parallel_guesses_at_one_login_never_pass_the_limit(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _account(db, "target.login", "Right-Pass-2026")
    _verify_all_at_once(monkeypatch, 20)
    results = await asyncio.gather(
        *(
            auth.sign_in(db, "target.login", f"guess-{n:04d}", 880_000 + n, POLICY)
            for n in range(20)
        )
    )
    wrong = sorted(r.attempts_left for r in results if isinstance(r, WrongCredentials))
    # Judged one after the other: 4 misses, the 5th locks, the rest find the lock.
    assert wrong == [1, 2, 3, 4]
    assert sum(isinstance(r, Locked) for r in results) == 16
    # Even the right password is refused now, from any Telegram account that never signed in.
    monkeypatch.undo()
    late = await auth.sign_in(db, "target.login", "Right-Pass-2026", 889_999, POLICY)
    assert isinstance(late, Locked)


async def test_parallel_guesses_from_one_telegram_account_never_pass_the_limit(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _verify_all_at_once(monkeypatch, 12)
    results = await asyncio.gather(
        *(auth.sign_in(db, f"login.{n:02d}", "some-guess-1", 881_000, POLICY) for n in range(12))
    )
    assert sorted(r.attempts_left for r in results if isinstance(r, WrongCredentials)) == [
        1,
        2,
        3,
        4,
    ]
    assert sum(isinstance(r, Locked) for r in results) == 8
    async with db.read() as session:
        # Every attempt that was judged is on record, the refused ones too.
        assert await session.scalar(select(func.count()).select_from(SignInAttempt)) >= 5


async def test_strangers_cannot_lock_out_the_account_that_signed_in_last(db: Database) -> None:
    await _account(db, "owner.login", "Owner-Pass-2026")
    owner_tg = 882_000
    assert isinstance(await auth.sign_in(db, "owner.login", "Owner-Pass-2026", owner_tg), SignedIn)
    async with db.write() as session:
        await auth.sign_out(session, owner_tg)
    for n in range(POLICY.max_failures):
        await auth.sign_in(db, "owner.login", "wrong-pass-x", 882_100 + n, POLICY)
    # Locked for strangers, including one who now has the right password...
    assert isinstance(await auth.sign_in(db, "owner.login", "Owner-Pass-2026", 882_200), Locked)
    # ...but not for the owner's own Telegram account.
    result = await auth.sign_in(db, "owner.login", "Owner-Pass-2026", owner_tg, POLICY)
    assert isinstance(result, SignedIn)


async def test_the_trusted_account_still_has_its_own_limit(db: Database) -> None:
    await _account(db, "owner2.login", "Owner-Pass-2026")
    owner_tg = 883_000
    await auth.sign_in(db, "owner2.login", "Owner-Pass-2026", owner_tg, POLICY)
    results = [
        await auth.sign_in(db, "owner2.login", "wrong-pass-x", owner_tg, POLICY)
        for _ in range(POLICY.max_failures)
    ]
    assert isinstance(results[-1], Locked)
    assert isinstance(
        await auth.sign_in(db, "owner2.login", "Owner-Pass-2026", owner_tg, POLICY), Locked
    )


async def test_a_password_reset_lifts_the_ban_and_the_trust(demo_app: App) -> None:
    from bot.services import roles
    from db.base import utcnow

    owner = await demo_app.signed_in(STUDENT_LOGIN, STUDENT_PASSWORD, user_id=7401)
    for n in range(POLICY.max_failures):
        await auth.sign_in(demo_app.db, STUDENT_LOGIN, "wrong-pass-x", 7500 + n, POLICY)
    assert isinstance(
        await auth.sign_in(demo_app.db, STUDENT_LOGIN, STUDENT_PASSWORD, 7600, POLICY), Locked
    )
    one_time = await roles.new_one_time_password()
    async with demo_app.db.write() as session:
        user = await session.scalar(select(User).where(User.login == STUDENT_LOGIN))
        reset = await roles.reset_password(
            session, actor_user_id=None, user_id=user.id, now=utcnow(), one_time=one_time
        )
    assert reset.ended is not None and reset.ended.chat_id == owner.chat_id
    # The owner (on a new phone, say) can use the one-time password at once.
    result = await auth.sign_in(demo_app.db, STUDENT_LOGIN, one_time.password, 7700, POLICY)
    assert isinstance(result, SignedIn) and result.must_change_password
    # The old chat is no longer trusted: a ban by strangers now applies to it.
    for n in range(POLICY.max_failures):
        await auth.sign_in(demo_app.db, STUDENT_LOGIN, "wrong-pass-x", 7800 + n, POLICY)
    assert isinstance(
        await auth.sign_in(demo_app.db, STUDENT_LOGIN, one_time.password, owner.chat_id), Locked
    )


async def test_unknown_login_is_verified_like_a_known_one(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Equal work for unknown logins: one argon2 verify, against a dummy hash."""
    verified: list[str] = []
    real = auth.verify_password

    async def spy(stored: str, password: str) -> bool:
        verified.append(stored)
        return await real(stored, password)

    monkeypatch.setattr(auth, "verify_password", spy)
    await _account(db, "known.login", "Known-Pass-2026")
    await auth.sign_in(db, "known.login", "wrong-pass-x", 884_000, POLICY)
    await auth.sign_in(db, "unknown.login", "wrong-pass-x", 884_001, POLICY)
    assert len(verified) == 2
    assert all(h.startswith("$argon2id$v=19$m=19456,t=2,p=1$") for h in verified)


async def test_a_burst_of_sign_ins_is_admitted_a_few_at_a_time(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rest wait holding no connection, so they do not queue in front of other updates."""
    in_flight, most = 0, 0
    look_up, record = auth._look_up, auth._record

    async def counting_look_up(*args: object) -> object:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        return await look_up(*args)  # type: ignore[arg-type]

    async def counting_record(*args: object) -> object:
        nonlocal in_flight
        try:
            return await record(*args)  # type: ignore[arg-type]
        finally:
            in_flight -= 1

    monkeypatch.setattr(auth, "_look_up", counting_look_up)
    monkeypatch.setattr(auth, "_record", counting_record)
    await asyncio.gather(
        *(auth.sign_in(db, f"burst.{n:02d}", "some-guess-1", 885_000 + n) for n in range(12))
    )
    assert 1 <= most <= auth.SIGN_IN_CONCURRENCY


async def test_the_trust_follows_a_new_login(db: Database) -> None:
    user_id = await _account(db, "old.name", "Owner-Pass-2026")
    owner_tg = 886_000
    await auth.sign_in(db, "old.name", "Owner-Pass-2026", owner_tg, POLICY)
    # A stranger had guessed at the new name while nobody had it.
    await auth.sign_in(db, "new.name", "wrong-pass-x", 886_100, POLICY)
    async with db.write() as session:
        await auth.change_credentials(session, user_id, "Owner-Pass-2026", "new.name", None)
    for n in range(POLICY.max_failures):
        await auth.sign_in(db, "new.name", "wrong-pass-x", 886_200 + n, POLICY)
    assert isinstance(await auth.sign_in(db, "new.name", "Owner-Pass-2026", 886_300), Locked)
    result = await auth.sign_in(db, "new.name", "Owner-Pass-2026", owner_tg, POLICY)
    assert isinstance(result, SignedIn)
