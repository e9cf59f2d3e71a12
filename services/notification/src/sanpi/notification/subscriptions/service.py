"""Subscription rules: ownership, target checks, matching events to subscriptions."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.kit import FieldProblem, InvalidInput, NotFound, Page, Principal, Role
from sanpi.kit.pagination import created_key_after, page_by_created
from sanpi.notification.channels.targets import TargetRefused, check_target
from sanpi.notification.channels.webhook import new_secret
from sanpi.notification.subscriptions import repository
from sanpi.notification.subscriptions.models import Subscription
from sanpi.notification.subscriptions.schemas import SubscriptionCreate, SubscriptionPublic


def matches(subscription: Subscription, event_type: str) -> bool:
    """Whether an event of `event_type` is wanted by the subscription (pure)."""
    if not subscription.event_types:
        return True
    for pattern in subscription.event_types:
        if pattern.endswith("*"):
            if event_type.startswith(pattern[:-1]):
                return True
        elif pattern == event_type:
            return True
    return False


async def create(
    session: AsyncSession, *, body: SubscriptionCreate, principal: Principal, allow_private: bool
) -> Subscription:
    url = str(body.url)
    try:
        await check_target(url, allow_private=allow_private)
    except TargetRefused as exc:
        raise InvalidInput(f"url: {exc}", errors=[FieldProblem("url", str(exc))]) from exc
    subscription = Subscription(
        owner=principal.subject,
        channel=body.channel,
        url=url,
        secret=new_secret(),
        event_types=list(body.event_types),
    )
    repository.add(session, subscription)
    return subscription


async def get_owned(
    session: AsyncSession, *, subscription_id: str, principal: Principal
) -> Subscription:
    """The subscription if the caller owns it (admins see all); 404 otherwise, never 403, so that
    ids of other people's subscriptions are not confirmed."""
    subscription = await repository.get(session, subscription_id)
    if subscription is None or (
        principal.role is not Role.ADMIN and subscription.owner != principal.subject
    ):
        raise NotFound(f"subscription {subscription_id} not found")
    return subscription


async def delete(session: AsyncSession, *, subscription_id: str, principal: Principal) -> None:
    subscription = await get_owned(session, subscription_id=subscription_id, principal=principal)
    await repository.delete(session, subscription)


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
