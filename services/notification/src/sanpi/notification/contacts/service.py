"""Contact book rules: every contact has at least one address, each address valid for its channel
(robot URLs are the vendor's and pass the SSRF guard); which contact a unit's 督办 reaches, and
over which channel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit import Database, FieldProblem, InvalidInput, NotFound, Page
from sanpi.kit.messages import Bilingual
from sanpi.kit.pagination import created_key_after, page_by_created
from sanpi.kit.sealing import SecretBox
from sanpi.notification.channels import plugins
from sanpi.notification.channels.base import Target
from sanpi.notification.channels.egress import Egress
from sanpi.notification.contacts import messages as refusals
from sanpi.notification.contacts import repository
from sanpi.notification.contacts.models import Contact
from sanpi.notification.contacts.schemas import (
    ContactCreate,
    ContactFields,
    ContactPublic,
    ContactUpdate,
)
from sanpi.notification.escalation.ladder import is_address
from sanpi.notification.subscriptions.models import Channel
from sanpi.notification.subscriptions.service import Resealed, reseal_rows

# Each address a contact may have, with what a person calls it.
ADDRESS_FIELDS: dict[str, str] = {
    "wecom_mobile": "企业微信手机号",
    "wecom_robot_url": "企业微信机器人",
    "email": "电子邮箱",
    "dingtalk_mobile": "钉钉手机号",
    "dingtalk_robot_url": "钉钉机器人",
    "feishu_robot_url": "飞书机器人",
}
# (channel, url field, secret field, mobile field) of each robot a contact may name.
ROBOTS: tuple[tuple[Channel, str, str | None, str | None], ...] = (
    (Channel.WECOM, "wecom_robot_url", None, "wecom_mobile"),
    (Channel.DINGTALK, "dingtalk_robot_url", "dingtalk_secret", "dingtalk_mobile"),
    (Channel.FEISHU, "feishu_robot_url", "feishu_secret", None),
)


def check_addresses(contact: Contact, *, secrets: dict[str, str | None], egress: Egress) -> None:
    """422 naming the field: no address at all, or one its channel refuses. `secrets` holds the
    robot secrets in plaintext as given (the contact holds them sealed)."""
    if not any(getattr(contact, name) for name in ADDRESS_FIELDS):
        names = Bilingual(
            zh="、".join(f"{label}（{name}）" for name, label in ADDRESS_FIELDS.items()),
            en=", ".join(ADDRESS_FIELDS),
        )
        raise InvalidInput(
            refusals.NO_ADDRESS(names=names),
            errors=[
                FieldProblem(name, refusals.ONE_ADDRESS(label=Bilingual(zh=label, en=name)))
                for name, label in ADDRESS_FIELDS.items()
            ],
        )
    problems: list[FieldProblem] = []
    for channel, url_field, secret_field, _mobile in ROBOTS:
        url = getattr(contact, url_field)
        secret = secrets.get(secret_field) if secret_field else None
        has_secret = bool(secret_field and (secret or getattr(contact, secret_field)))
        if not url:
            if secret_field and secrets.get(secret_field):
                problems.append(
                    FieldProblem(secret_field, refusals.SECRET_WITHOUT_URL(url_field=url_field))
                )
            continue
        target = Target(url=url, secret="present" if has_secret else None)
        for problem in plugins.of(channel).validate(target, egress):
            field = {"url": url_field, "secret": secret_field or url_field}.get(
                problem.field, url_field
            )
            problems.append(FieldProblem(field, problem.reason))
    if contact.email and not is_address(contact.email):
        problems.append(FieldProblem("email", refusals.NOT_AN_EMAIL()))
    if problems:
        raise InvalidInput.naming(problems)


def _apply(contact: Contact, body: ContactFields, fields: set[str], box: SecretBox) -> None:
    for name in fields:
        value = getattr(body, name)
        if name in ("dingtalk_secret", "feishu_secret"):
            value = box.seal(value) if value else None
        setattr(contact, name, value)


async def create(
    session: AsyncSession, *, body: ContactCreate, egress: Egress, box: SecretBox
) -> Contact:
    contact = Contact(name=body.name, unit=body.unit)
    given = body.model_fields_set | {"name", "unit"}
    _apply(contact, body, given, box)
    check_addresses(
        contact,
        secrets={"dingtalk_secret": body.dingtalk_secret, "feishu_secret": body.feishu_secret},
        egress=egress,
    )
    repository.add(session, contact)
    return contact


async def get(session: AsyncSession, contact_id: str) -> Contact:
    contact = await repository.get(session, contact_id)
    if contact is None:
        raise NotFound(refusals.NO_CONTACT(contact_id=contact_id))
    return contact


async def update(
    session: AsyncSession,
    *,
    contact_id: str,
    body: ContactUpdate,
    egress: Egress,
    box: SecretBox,
    now: dt.datetime,
) -> Contact:
    contact = await get(session, contact_id)
    given = set(body.model_fields_set)
    for required in ("name", "unit", "active"):
        if required in given and getattr(body, required) is None:
            raise InvalidInput(
                refusals.FIELD_NOT_NULL(field=required),
                errors=[FieldProblem(required, refusals.NOT_NULL())],
            )
    _apply(contact, body, given, box)
    check_addresses(
        contact,
        secrets={
            "dingtalk_secret": body.dingtalk_secret if "dingtalk_secret" in given else None,
            "feishu_secret": body.feishu_secret if "feishu_secret" in given else None,
        },
        egress=egress,
    )
    contact.version += 1
    contact.updated_at = now
    repository.add(session, contact)
    return contact


async def remove(session: AsyncSession, contact_id: str) -> None:
    await repository.delete(session, await get(session, contact_id))


async def page(
    session: AsyncSession,
    *,
    unit: str | None,
    park: str | None,
    limit: int,
    cursor: str | None,
) -> Page[ContactPublic]:
    rows = await repository.page(
        session, unit=unit, park=park, after=created_key_after(cursor), limit=limit + 1
    )
    found, next_cursor = page_by_created(rows, limit, lambda c: (c.created_at, c.id))
    return Page[ContactPublic](items=[ContactPublic.of(c) for c in found], next_cursor=next_cursor)


def best_for(candidates: Sequence[Contact], park: str | None) -> Contact | None:
    """The contact a unit's item goes to: one of the alert's park first, then one with no park
    (the unit as a whole), then any; the oldest entry of each kind."""
    for wanted in (lambda c: park is not None and c.park == park, lambda c: c.park is None):
        for contact in candidates:
            if wanted(contact):
                return contact
    return candidates[0] if candidates else None


async def find(session: AsyncSession, who: str | None, park: str | None) -> Contact | None:
    """The active contact for a unit (or person) named `who`, preferring the alert's park."""
    if not who:
        return None
    return best_for(await repository.active_named(session, who), park)


@dataclass(frozen=True)
class Reach:
    """How a message reaches a contact: a channel, its target (None: the subscription's own
    robot), the mobiles to @-mention there, and the robot's sealed secret."""

    channel: Channel
    target: str | None
    mentions: tuple[str, ...] = ()
    sealed_secret: str | None = None


def reach(contact: Contact, subscription_channel: str) -> Reach | None:
    """The first address that can carry a message: the contact's own robots (with their mobile
    @-mentioned), a mobile @-mentioned in the subscription's robot of the same vendor, then
    e-mail. None: the contact cannot be messaged (only recorded on the item)."""
    for channel, url_field, secret_field, mobile_field in ROBOTS:
        mobile = getattr(contact, mobile_field) if mobile_field else None
        url = getattr(contact, url_field)
        if url:
            secret = getattr(contact, secret_field) if secret_field else None
            return Reach(channel, url, (mobile,) if mobile else (), secret)
        if mobile and subscription_channel == channel:
            return Reach(channel, None, (mobile,))
    if contact.email:
        return Reach(Channel.EMAIL, contact.email)
    return None


async def reseal_secrets(db: Database, box: SecretBox) -> Resealed:
    """The contacts' robot secrets sealed with the newest key (as subscriptions' are)."""
    async with db.read() as session:
        rows = await repository.stored_secrets(session)
    return await reseal_rows(
        db, box, rows, ("dingtalk_secret", "feishu_secret"), repository.replace_secret
    )
