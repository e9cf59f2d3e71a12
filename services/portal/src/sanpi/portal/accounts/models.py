"""The account and login-session tables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from sanpi.kit import UTCDateTime, utcnow


class Account(SQLModel, table=True):
    """A person who logs in: the role and parks go into the tokens the portal mints for them."""

    __tablename__ = "portal_account"

    username: str = Field(primary_key=True, max_length=64)
    display_name: str = Field(max_length=100)
    role: str = Field(max_length=16, description="admin | operator | viewer")
    parks: list[str] = Field(default_factory=list, sa_type=JSON)
    # argon2id, with its parameters in the string (argon2-cffi's PasswordHasher).
    password_hash: str = Field(max_length=256)
    disabled: bool = False
    # Lock-out: wrong passwords in a row, and until when the account refuses every login.
    failed_logins: int = 0
    locked_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    password_changed_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LoginSession(SQLModel, table=True):
    """A logged-in browser. The cookie holds a random token; only its SHA-256 is stored, so a
    copy of the database logs nobody in. A new one is made at every login (session fixation)."""

    __tablename__ = "portal_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    username: str = Field(max_length=64, index=True)
    # The synchronizer token of every form of this session (CSRF).
    csrf_token: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    client: str | None = Field(default=None, max_length=64)
