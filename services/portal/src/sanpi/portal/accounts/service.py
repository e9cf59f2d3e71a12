"""Account rules: argon2 passwords, lock-out after wrong passwords, login sessions that are new
at every login and die with log-out, disabling or a password reset."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit import Conflict, NotFound, Role, UnitOfWork
from sanpi.kit.messages import template
from sanpi.portal.accounts import repository
from sanpi.portal.accounts.models import Account, LoginSession
from sanpi.portal.security import new_token

# argon2id with argon2-cffi's defaults (RFC 9106's second recommendation: t=3, 64 MiB, p=4):
# ~50 ms of one core per login, run in a worker thread so the event loop keeps serving.
_hasher = PasswordHasher()
# Verified against when the user name is unknown, so that a login for a name that does not exist
# costs the same time as a wrong password (no user-name probing by timing).
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

USER_EXISTS = template("account.exists", zh="用户 {username} 已存在", en="user {username} exists")
NO_USER = template("account.missing", zh="没有用户 {username}", en="no user {username}")


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def _verify(hashed: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(check)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Refusal(StrEnum):
    BAD_CREDENTIALS = "BAD_CREDENTIALS"
    LOCKED = "LOCKED"
    DISABLED = "DISABLED"


@dataclass(frozen=True)
class LoginResult:
    account: Account | None
    refusal: Refusal | None = None
    locked_until: dt.datetime | None = None


async def authenticate(
    uow: UnitOfWork,
    *,
    username: str,
    password: str,
    now: dt.datetime,
    lockout_failures: int,
    lockout_s: int,
) -> LoginResult:
    """Checks a user name and password. Wrong passwords count up; at `lockout_failures` in a
    row the account refuses every login (the right password included) for `lockout_s`."""
    session = uow.session
    account = await repository.get(session, username)
    if account is None:
        await _verify(_DUMMY_HASH, password)
        return LoginResult(None, Refusal.BAD_CREDENTIALS)
    if account.locked_until is not None and account.locked_until > now:
        return LoginResult(None, Refusal.LOCKED, account.locked_until)
    if not await _verify(account.password_hash, password):
        account.failed_logins += 1
        if account.failed_logins >= lockout_failures:
            account.locked_until = now + dt.timedelta(seconds=lockout_s)
            account.failed_logins = 0
            repository.save(session, account)
            return LoginResult(None, Refusal.LOCKED, account.locked_until)
        repository.save(session, account)
        return LoginResult(None, Refusal.BAD_CREDENTIALS)
    if account.disabled:
        return LoginResult(None, Refusal.DISABLED)
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = await hash_password(password)
    repository.save(session, account)
    return LoginResult(account)


async def open_session(
    uow: UnitOfWork,
    account: Account,
    *,
    now: dt.datetime,
    client: str | None,
    replaces: str | None = None,
) -> tuple[str, LoginSession]:
    """A new session for `account` (its cookie token and row); `replaces` (the token the browser
    came with, if any) is forgotten: whatever id a page was given before login stops counting."""
    session = uow.session
    if replaces:
        await repository.delete_session(session, token_hash(replaces))
    token = secrets.token_urlsafe(32)
    row = LoginSession(
        token_hash=token_hash(token),
        username=account.username,
        csrf_token=new_token(),
        created_at=now,
        last_seen_at=now,
        client=client[:64] if client else None,
    )
    repository.save(session, row)
    return token, row


# Touching last_seen on every page would make every read a write; once a minute is enough for an
# idle limit counted in hours.
TOUCH_EVERY = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class Visitor:
    """The logged-in account behind a request and its session."""

    account: Account
    login: LoginSession

    @property
    def role(self) -> Role:
        return Role(self.account.role)

    @property
    def parks(self) -> list[str]:
        return list(self.account.parks)

    def may_write_park(self, park: str | None) -> bool:
        if self.role is Role.ADMIN:
            return True
        return self.role is Role.OPERATOR and park is not None and park in self.account.parks

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_writer(self) -> bool:
        return self.role in (Role.ADMIN, Role.OPERATOR)


class SessionState(StrEnum):
    VALID = "VALID"
    STALE = "STALE"  # valid, and its last_seen is worth updating
    GONE = "GONE"  # unknown, expired, or its account disabled: forget it


def session_state(
    row: LoginSession | None,
    account: Account | None,
    *,
    now: dt.datetime,
    idle_s: int,
    max_s: int,
) -> SessionState:
    """Whether a session cookie still logs its account in (pure: rows in, verdict out)."""
    if row is None or account is None or account.disabled:
        return SessionState.GONE
    if now - row.last_seen_at > dt.timedelta(seconds=idle_s):
        return SessionState.GONE
    if now - row.created_at > dt.timedelta(seconds=max_s):
        return SessionState.GONE
    if now - row.last_seen_at > TOUCH_EVERY:
        return SessionState.STALE
    return SessionState.VALID


async def find_session(
    session: AsyncSession, token: str
) -> tuple[LoginSession | None, Account | None]:
    row = await repository.login_session(session, token_hash(token))
    if row is None:
        return None, None
    return row, await repository.get(session, row.username)


async def touch_session(uow: UnitOfWork, token: str, now: dt.datetime) -> None:
    session = uow.session
    row = await repository.login_session(session, token_hash(token))
    if row is not None:
        row.last_seen_at = now
        repository.save(session, row)


async def close_session(uow: UnitOfWork, token: str) -> None:
    session = uow.session
    await repository.delete_session(session, token_hash(token))


# --- administration ---------------------------------------------------------------------------


async def create(
    uow: UnitOfWork,
    *,
    username: str,
    display_name: str,
    role: Role,
    parks: list[str],
    password: str,
    by: str,
    now: dt.datetime,
) -> Account:
    session = uow.session
    if await repository.get(session, username) is not None:
        raise Conflict(USER_EXISTS(username=username))
    account = Account(
        username=username,
        display_name=display_name,
        role=str(role),
        parks=sorted(set(parks)) if role is Role.OPERATOR else [],
        password_hash=await hash_password(password),
        password_changed_at=now,
        created_by=by,
        created_at=now,
        updated_at=now,
    )
    repository.save(session, account)
    return account


async def get(session: AsyncSession, username: str) -> Account:
    account = await repository.get(session, username)
    if account is None:
        raise NotFound(NO_USER(username=username))
    return account


async def update(
    uow: UnitOfWork,
    *,
    username: str,
    display_name: str,
    role: Role,
    parks: list[str],
    disabled: bool,
    now: dt.datetime,
) -> Account:
    """Changes a user's name, role, parks or disabled flag; a disabled user's sessions end."""
    session = uow.session
    account = await get(session, username)
    account.display_name = display_name
    account.role = str(role)
    account.parks = sorted(set(parks)) if role is Role.OPERATOR else []
    account.disabled = disabled
    account.version += 1
    account.updated_at = now
    repository.save(session, account)
    if disabled:
        await repository.delete_sessions_of(session, username)
    return account


async def reset_password(
    uow: UnitOfWork, *, username: str, password: str, now: dt.datetime
) -> Account:
    """A new password; every session of the user ends and a lock-out is lifted."""
    session = uow.session
    account = await get(session, username)
    account.password_hash = await hash_password(password)
    account.password_changed_at = now
    account.failed_logins = 0
    account.locked_until = None
    account.version += 1
    account.updated_at = now
    repository.save(session, account)
    await repository.delete_sessions_of(session, username)
    return account


async def ensure_admin(uow: UnitOfWork, *, password: str, now: dt.datetime) -> bool:
    """Creates the `admin` account with `password` unless it exists; True if it was created."""
    session = uow.session
    if await repository.get(session, "admin") is not None:
        return False
    await create(
        uow,
        username="admin",
        display_name="管理员",
        role=Role.ADMIN,
        parks=[],
        password=password,
        by="setup",
        now=now,
    )
    return True
