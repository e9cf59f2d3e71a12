"""HTTP routes of /v1/subscriptions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from sanpi.kit import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Authenticated,
    IdempotencyKey,
    Page,
    ReadSessionDep,
    RuntimeDep,
    SessionDep,
    run_idempotent,
)
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.subscriptions import service
from sanpi.notification.subscriptions.schemas import (
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPublic,
)

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SubscriptionCreated)
async def create_subscription(
    body: SubscriptionCreate,
    principal: Authenticated,
    session: SessionDep,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Subscribes the caller; the answer carries the webhook signing secret, shown only here."""
    settings = runtime.settings
    assert isinstance(settings, NotificationSettings)

    async def subscribe() -> tuple[SubscriptionCreated, dict[str, str]]:
        subscription = await service.create(
            session, body=body, principal=principal, allow_private=settings.allow_private_targets
        )
        headers = {"Location": f"/v1/subscriptions/{subscription.id}"}
        return SubscriptionCreated.model_validate(subscription), headers

    return await run_idempotent(
        session,
        key=idempotency_key,
        principal=principal,
        scope="POST /v1/subscriptions",
        payload=body,
        action=subscribe,
    )


@router.get("", response_model=Page[SubscriptionPublic])
async def list_subscriptions(
    principal: Authenticated,
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[SubscriptionPublic]:
    """The caller's subscriptions (an admin sees everyone's)."""
    return await service.list_owned(session, principal=principal, limit=limit, cursor=cursor)


@router.get("/{subscription_id}", response_model=SubscriptionPublic)
async def get_subscription(
    subscription_id: str, principal: Authenticated, session: ReadSessionDep
) -> SubscriptionPublic:
    subscription = await service.get_owned(
        session, subscription_id=subscription_id, principal=principal
    )
    return SubscriptionPublic.model_validate(subscription)


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_subscription(
    subscription_id: str, principal: Authenticated, session: SessionDep
) -> None:
    await service.delete(session, subscription_id=subscription_id, principal=principal)
