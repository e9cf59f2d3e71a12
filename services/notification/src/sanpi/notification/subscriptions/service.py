"""Subscription rules: ownership, channel targets, secret rotation, the filter a subscription means."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import Severity
from sanpi.kit import (
    Database,
    FieldProblem,
    InvalidInput,
    NotFound,
    Page,
    Principal,
    Role,
    UnitOfWork,
    check_version,
    utcnow,
)
from sanpi.kit.pagination import created_key_after, page_by_created
from sanpi.kit.sealing import SecretBox, SecretUnavailable
from sanpi.notification.channels import plugins
from sanpi.notification.channels.base import Target
from sanpi.notification.channels.egress import Egress, TargetRefused, check_url
from sanpi.notification.channels.webhook import new_secret
from sanpi.notification.digests import messages as digests
from sanpi.notification.digests.schemas import DigestOptions
from sanpi.notification.routing.filters import Filter
from sanpi.notification.subscriptions import messages as refusals
from sanpi.notification.subscriptions import repository
from sanpi.notification.subscriptions.models import Channel, Subscription
from sanpi.notification.subscriptions.repository import SubscriptionRow
from sanpi.notification.subscriptions.schemas import (
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPublic,
    SubscriptionUpdate,
)

log = logging.getLogger("sanpi.notification.subscriptions")

FILTER_FIELDS = (
    "event_types",
    "min_severity",
    "parks",
    "chain_tags",
    "categories",
    "periods",
    "project_ids",
    "min_investment",
)


def filter_of(subscription: Subscription | SubscriptionRow) -> Filter:
    """The routing filter a subscription's columns describe (pure)."""
    return Filter(
        event_types=tuple(subscription.event_types),
        min_severity=Severity(subscription.min_severity) if subscription.min_severity else None,
        parks=frozenset(subscription.parks),
        chain_tags=frozenset(subscription.chain_tags),
        categories=frozenset(subscription.categories),
        periods=frozenset(subscription.periods),
        project_ids=frozenset(subscription.project_ids),
        min_investment=subscription.min_investment,
    )


async def _check_url(url: str, *, egress: Egress) -> None:
    try:
        await check_url(url, egress)
    except TargetRefused as exc:
        raise InvalidInput.naming([FieldProblem("url", exc.message)]) from exc


def _check_channel_target(channel: Channel, target: Target, egress: Egress) -> None:
    """Each channel's plugin says what its target needs and refuses, naming the field."""
    problems = plugins.of(channel).validate(target, egress)
    if problems:
        raise InvalidInput.naming(problems)


def created(subscription: Subscription, secret: str | None) -> SubscriptionCreated:
    """The answer to a create or a rotation: the subscription with its secret in plaintext (the
    only time it is shown; the table holds it sealed)."""
    return SubscriptionCreated.model_validate(subscription).model_copy(update={"secret": secret})


async def create(
    uow: UnitOfWork,
    *,
    body: SubscriptionCreate,
    principal: Principal,
    egress: Egress,
    box: SecretBox,
    now: dt.datetime | None = None,
) -> tuple[Subscription, str | None]:
    """The new subscription and, for a webhook, its signing secret in plaintext (a robot's
    secret, given by the caller, is stored sealed and never shown back). `now`: the service's
    clock, which a digest's slots are counted from."""
    url = str(body.url) if body.url else None
    target = Target(url, body.email, body.secret, tuple(body.mention_mobiles))
    _check_channel_target(body.channel, target, egress)
    _check_digest(body.channel, body.digest)
    if url:
        await _check_url(url, egress=egress)
    secret = new_secret() if body.channel is Channel.WEBHOOK else None
    stored = secret or body.secret
    subscription = Subscription(
        owner=principal.subject,
        channel=body.channel,
        url=url,
        email=body.email,
        secret=box.seal(stored) if stored else None,
        mention_mobiles=list(body.mention_mobiles),
        quiet_start=body.quiet_hours.start if body.quiet_hours else None,
        quiet_end=body.quiet_hours.end if body.quiet_hours else None,
        language=body.language,
        escalation_contacts=body.escalation_contacts.model_dump(exclude_none=True),
        **_digest_columns(body.digest, now or utcnow()),
        **_filter_columns(body.model_dump(include=set(FILTER_FIELDS))),
    )
    repository.add(uow.session, subscription)
    return subscription, secret


def _check_digest(channel: Channel, digest: DigestOptions | None) -> None:
    if digest is None:
        return
    digest.check()
    if channel is Channel.STREAM:
        raise InvalidInput.naming([FieldProblem("digest", digests.STREAM_HAS_NO_DIGEST())])


def _digest_columns(digest: DigestOptions | None, now: dt.datetime) -> dict[str, Any]:
    return {
        "digest_daily_at": digest.daily_at if digest else None,
        "digest_xun_at": digest.xun_at if digest else None,
        "digest_working_days_only": digest.working_days_only if digest else False,
        "digest_instead_of_immediate": digest.instead_of_immediate if digest else False,
        "digest_since": now if digest else None,
    }


def _filter_columns(values: dict[str, Any]) -> dict[str, Any]:
    columns = dict(values)
    if "min_severity" in columns and columns["min_severity"] is not None:
        columns["min_severity"] = str(columns["min_severity"])
    for name in ("chain_tags", "categories"):
        if name in columns and columns[name] is not None:
            columns[name] = [str(v) for v in columns[name]]
    return columns


async def get_owned(
    session: AsyncSession, *, subscription_id: str, principal: Principal
) -> Subscription:
    """The subscription if the caller owns it (admins see all); 404 otherwise, never 403, so that
    ids of other people's subscriptions are not confirmed."""
    subscription = await repository.get(session, subscription_id)
    if subscription is None or (
        principal.role is not Role.ADMIN and subscription.owner != principal.subject
    ):
        raise NotFound(refusals.NO_SUBSCRIPTION(subscription_id=subscription_id))
    return subscription


async def update(
    uow: UnitOfWork,
    *,
    subscription_id: str,
    body: SubscriptionUpdate,
    principal: Principal,
    if_match: str | None,
    egress: Egress,
    now: dt.datetime,
    box: SecretBox | None = None,
) -> Subscription:
    subscription = await get_owned(
        uow.session, subscription_id=subscription_id, principal=principal
    )
    check_version(if_match=if_match, current=subscription.version, what=refusals.SUBSCRIPTION)
    changes = body.model_dump(exclude_unset=True)
    url = str(body.url) if body.url else subscription.url
    email = changes.get("email", subscription.email)
    mobiles = changes.get("mention_mobiles")
    if mobiles is None:
        mobiles = subscription.mention_mobiles
    robot = subscription.channel in plugins.ROBOTS
    # A robot's stored secret stands for the one given at creation (it cannot be read back);
    # a webhook's own secret is sanpi's, not the caller's.
    kept = "sealed" if robot and subscription.secret else None
    given = changes.get("secret")
    target = Target(url, email, given or kept, tuple(mobiles))
    _check_channel_target(subscription.channel, target, egress)
    if "url" in changes and url:
        await _check_url(url, egress=egress)
        subscription.url = url
    if "email" in changes:
        subscription.email = email
    if given:
        if box is None:
            raise ValueError("a secret box is needed to store a robot's secret")
        subscription.secret = box.seal(given)
    if "mention_mobiles" in changes:
        subscription.mention_mobiles = list(mobiles)
    for name, value in _filter_columns(
        {k: v for k, v in changes.items() if k in FILTER_FIELDS}
    ).items():
        setattr(subscription, name, value if value is not None or name in _NULLABLE else [])
    if "quiet_hours" in changes:
        quiet = body.quiet_hours
        subscription.quiet_start = quiet.start if quiet else None
        subscription.quiet_end = quiet.end if quiet else None
    if body.language is not None:
        subscription.language = body.language
    if body.escalation_contacts is not None:
        subscription.escalation_contacts = body.escalation_contacts.model_dump(exclude_none=True)
    if "digest" in changes:
        _check_digest(subscription.channel, body.digest)
        for name, value in _digest_columns(body.digest, now).items():
            setattr(subscription, name, value)
    if body.active is not None:
        subscription.active = body.active
        if body.active:
            # A fresh start: the failure history that disabled it is over.
            subscription.disabled_reason = None
            subscription.consecutive_failures = 0
            subscription.failing_since = None
        else:
            subscription.disabled_reason = f"paused by {principal.subject}"
    subscription.version += 1
    subscription.updated_at = now
    repository.add(uow.session, subscription)
    return subscription


_NULLABLE = frozenset({"min_severity", "min_investment"})


async def rotate_secret(
    uow: UnitOfWork,
    *,
    subscription_id: str,
    principal: Principal,
    now: dt.datetime,
    grace_s: float,
    box: SecretBox,
) -> tuple[Subscription, str]:
    """A new signing secret (returned in plaintext); the current one keeps signing alongside it
    for `grace_s` seconds."""
    subscription = await get_owned(
        uow.session, subscription_id=subscription_id, principal=principal
    )
    if subscription.channel is not Channel.WEBHOOK:
        raise InvalidInput(
            refusals.NO_SECRET(),
            errors=[
                FieldProblem(
                    "channel", refusals.CHANNEL_HAS_NO_SECRET(channel=subscription.channel)
                )
            ],
        )
    secret = new_secret()
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = now + dt.timedelta(seconds=grace_s)
    subscription.secret = box.seal(secret)
    subscription.version += 1
    subscription.updated_at = now
    repository.add(uow.session, subscription)
    return subscription, secret


def signing_secrets(
    subscription: Subscription | SubscriptionRow, now: dt.datetime, box: SecretBox
) -> list[str]:
    """The secrets a webhook is signed with now, opened: the current one, plus the previous one
    while its rotation grace lasts. None (and an error in the log) when the current one cannot be
    opened with the configured keys: the attempt fails rather than go out unsigned."""
    sealed = [subscription.secret] if subscription.secret else []
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires is not None and now < expires:
        sealed.append(subscription.previous_secret)
    opened = []
    for value in sealed:
        try:
            opened.append(box.open(value))
        except SecretUnavailable as exc:
            log.error(
                "subscription %s: a signing secret cannot be opened: %s", subscription.id, exc
            )
            if value is subscription.secret:
                return []
    return opened


@dataclass
class Resealed:
    """What a reseal pass did: values sealed anew, and values no configured key opens."""

    resealed: int = 0
    unavailable: list[str] = field(default_factory=list)  # "subscription id: reason"


async def reseal_secrets(db: Database, box: SecretBox) -> Resealed:
    """Seals every stored secret that is plaintext (stored before sealing) or sealed with an
    older key, with the newest key. Safe to run on several replicas at once, and while the API
    serves: each value is replaced only if it is still the one read."""
    async with db.read() as session:
        rows = await repository.stored_secrets(session)
    return await reseal_rows(
        db, box, rows, ("secret", "previous_secret"), repository.replace_secret
    )


# (session, row id, column, old value, new value) → replaced?
ReplaceSecret = Callable[[AsyncSession, str, str, str, str], Awaitable[bool]]


async def reseal_rows(
    db: Database,
    box: SecretBox,
    rows: Sequence[tuple[str | None, ...]],
    columns: tuple[str, ...],
    replace: ReplaceSecret,
) -> Resealed:
    """Reseals the sealed `columns` of `rows` (id first, then one value per column) that need
    it, one compare-and-set each (`replace`)."""
    report = Resealed()
    for row in rows:
        row_id, values = str(row[0]), row[1:]
        for column, value in zip(columns, values, strict=True):
            if value is None or not box.needs_resealing(value):
                continue
            try:
                sealed = box.reseal(value)
            except SecretUnavailable as exc:
                report.unavailable.append(f"{row_id}: {exc}")
                continue
            async with db.transaction() as uow:
                if await replace(uow.session, row_id, column, value, sealed):
                    report.resealed += 1
    return report


async def delete(uow: UnitOfWork, *, subscription_id: str, principal: Principal) -> Subscription:
    subscription = await get_owned(
        uow.session, subscription_id=subscription_id, principal=principal
    )
    await repository.delete(uow.session, subscription)
    return subscription


async def list_owned(
    session: AsyncSession, *, principal: Principal, limit: int, cursor: str | None
) -> Page[SubscriptionPublic]:
    owner = None if principal.role is Role.ADMIN else principal.subject
    rows = await repository.list_page(
        session, owner=owner, limit=limit + 1, after=created_key_after(cursor)
    )
    page, next_cursor = page_by_created(rows, limit, lambda s: (s.created_at, s.id))
    return Page[SubscriptionPublic](
        items=[SubscriptionPublic.model_validate(r) for r in page], next_cursor=next_cursor
    )
