"""Every SQL statement about accounts and login sessions."""

from __future__ import annotations

import datetime as dt

from sqlmodel import col, delete, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.portal.accounts.models import Account, LoginSession


async def get(session: AsyncSession, username: str) -> Account | None:
    return await session.get(Account, username)


def save(session: AsyncSession, row: Account | LoginSession) -> None:
    session.add(row)


async def page(
    session: AsyncSession, *, after: str | None, limit: int, q: str | None = None
) -> list[Account]:
    """Accounts in user-name order, strictly after `after`."""
    stmt = select(Account).order_by(col(Account.username)).limit(limit)
    if after is not None:
        stmt = stmt.where(col(Account.username) > after)
    if q:
        needle = q.lower()
        stmt = stmt.where(
            col(Account.username).contains(needle, autoescape=True)
            | func.lower(col(Account.display_name)).contains(needle, autoescape=True)
        )
    return list((await session.exec(stmt)).all())


async def count(session: AsyncSession) -> int:
    return int((await session.exec(select(func.count()).select_from(Account))).one())


async def login_session(session: AsyncSession, token_hash: str) -> LoginSession | None:
    return await session.get(LoginSession, token_hash)


async def delete_session(session: AsyncSession, token_hash: str) -> None:
    await session.exec(delete(LoginSession).where(col(LoginSession.token_hash) == token_hash))


async def delete_sessions_of(session: AsyncSession, username: str) -> None:
    await session.exec(delete(LoginSession).where(col(LoginSession.username) == username))


async def delete_sessions_idle_since(session: AsyncSession, before: dt.datetime) -> None:
    await session.exec(delete(LoginSession).where(col(LoginSession.last_seen_at) < before))
