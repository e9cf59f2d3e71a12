"""Every SQL statement about the contact book."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit.pagination import CreatedKey, after_created
from sanpi.notification.contacts.models import Contact


def add(session: AsyncSession, contact: Contact) -> None:
    session.add(contact)


async def get(session: AsyncSession, contact_id: str) -> Contact | None:
    return await session.get(Contact, contact_id)


async def many(session: AsyncSession, ids: Iterable[str]) -> dict[str, Contact]:
    wanted = set(ids)
    if not wanted:
        return {}
    stmt = select(Contact).where(col(Contact.id).in_(wanted))
    return {c.id: c for c in (await session.exec(stmt)).all()}


async def delete(session: AsyncSession, contact: Contact) -> None:
    await session.delete(contact)


async def page(
    session: AsyncSession,
    *,
    unit: str | None,
    park: str | None,
    after: CreatedKey | None,
    limit: int,
) -> list[Contact]:
    stmt = select(Contact).where(after_created(col(Contact.created_at), col(Contact.id), after))
    if unit is not None:
        stmt = stmt.where(Contact.unit == unit)
    if park is not None:
        stmt = stmt.where(Contact.park == park)
    stmt = stmt.order_by(col(Contact.created_at), col(Contact.id)).limit(limit)
    return list((await session.exec(stmt)).all())


async def active_named(session: AsyncSession, who: str) -> list[Contact]:
    """Active contacts whose unit or name is `who` (a ladder names a unit or a person)."""
    stmt = (
        select(Contact)
        .where(col(Contact.active).is_(True))
        .where((Contact.unit == who) | (Contact.name == who))
        .order_by(col(Contact.created_at), col(Contact.id))
    )
    return list((await session.exec(stmt)).all())


CONTACT: Table = Contact.__table__  # type: ignore[attr-defined]


async def stored_secrets(session: AsyncSession) -> list[tuple[str, str | None, str | None]]:
    """(id, dingtalk_secret, feishu_secret) of every contact that holds a robot secret."""
    stmt = select(CONTACT.c.id, CONTACT.c.dingtalk_secret, CONTACT.c.feishu_secret).where(
        or_(CONTACT.c.dingtalk_secret.is_not(None), CONTACT.c.feishu_secret.is_not(None))
    )
    return [(row[0], row[1], row[2]) for row in await session.exec(stmt)]


async def replace_secret(
    session: AsyncSession, contact_id: str, column: str, old: str, new: str
) -> bool:
    """Sets `column` to `new` if it still holds `old` (an edit meanwhile wins)."""
    stmt = (
        update(CONTACT)
        .where(CONTACT.c.id == contact_id, CONTACT.c[column] == old)
        .values({column: new})
    )
    result = await session.exec(stmt)
    return bool(result.rowcount)
