"""HTTP routes of /v1/subscriptions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import JSONResponse

from sanpi.kit import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Authenticated,
    Conflict,
    IdempotencyKey,
    Page,
    ReadSessionDep,
    RuntimeDep,
    UnitOfWorkDep,
    etag,
    run_idempotent,
)
from sanpi.notification.delivery import service as delivery_service
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.subscriptions import messages as refusals
from sanpi.notification.subscriptions import service
from sanpi.notification.subscriptions.models import Channel
from sanpi.notification.subscriptions.schemas import (
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPublic,
    SubscriptionUpdate,
    TestQueued,
)

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"])


def _settings(runtime: RuntimeDep) -> NotificationSettings:
    settings = runtime.settings
    assert isinstance(settings, NotificationSettings)
    return settings


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SubscriptionCreated)
async def create_subscription(
    body: SubscriptionCreate,
    principal: Authenticated,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Subscribes the caller; the answer carries the webhook signing secret, shown only here: a
    replay of the same Idempotency-Key answers `secret: null` with `secret_redacted: true` (the
    secret is never stored where a replay could return it; rotate it if it was lost)."""
    settings = _settings(runtime)

    async def subscribe() -> tuple[SubscriptionCreated, dict[str, str]]:
        subscription, secret = await service.create(
            uow,
            body=body,
            principal=principal,
            egress=settings.egress,
            box=settings.secret_box,
            now=runtime.clock.now(),
        )
        headers = {
            "Location": f"/v1/subscriptions/{subscription.id}",
            "ETag": etag(subscription.version),
        }
        return service.created(subscription, secret), headers

    return await run_idempotent(
        uow,
        key=idempotency_key,
        principal=principal,
        scope="POST /v1/subscriptions",
        payload=body,
        action=subscribe,
        replay_body=redact_secret,
    )


def redact_secret(body: dict[str, Any]) -> dict[str, Any]:
    """What a replay of a create answers: everything but the secret."""
    return {**body, "secret": None, "secret_redacted": True}


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
    subscription_id: str, principal: Authenticated, session: ReadSessionDep, response: Response
) -> SubscriptionPublic:
    subscription = await service.get_owned(
        session, subscription_id=subscription_id, principal=principal
    )
    response.headers["ETag"] = etag(subscription.version)
    return SubscriptionPublic.model_validate(subscription)


@router.patch("/{subscription_id}", response_model=SubscriptionPublic)
async def update_subscription(
    subscription_id: str,
    body: SubscriptionUpdate,
    principal: Authenticated,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    response: Response,
    if_match: Annotated[
        str | None, Header(description='ETag of the version you read, e.g. "3"')
    ] = None,
) -> SubscriptionPublic:
    """Changes filters, target, quiet hours, language or contacts; `active: true` re-enables."""
    subscription = await service.update(
        uow,
        subscription_id=subscription_id,
        body=body,
        principal=principal,
        if_match=if_match,
        egress=_settings(runtime).egress,
        now=runtime.clock.now(),
        box=_settings(runtime).secret_box,
    )
    response.headers["ETag"] = etag(subscription.version)
    return SubscriptionPublic.model_validate(subscription)


@router.post("/{subscription_id}/rotate-secret", response_model=SubscriptionCreated)
async def rotate_secret(
    subscription_id: str, principal: Authenticated, uow: UnitOfWorkDep, runtime: RuntimeDep
) -> SubscriptionCreated:
    """A new whsec_ secret. Until `previous_secret_expires_at` every webhook carries signatures
    with both secrets (space-separated in webhook-signature), so receivers can switch calmly."""
    settings = _settings(runtime)
    subscription, secret = await service.rotate_secret(
        uow,
        subscription_id=subscription_id,
        principal=principal,
        now=runtime.clock.now(),
        grace_s=settings.secret_rotation_grace_s,
        box=settings.secret_box,
    )
    return service.created(subscription, secret)


@router.post(
    "/{subscription_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TestQueued,
)
async def send_test(
    subscription_id: str, principal: Authenticated, uow: UnitOfWorkDep, runtime: RuntimeDep
) -> TestQueued:
    """Sends a test notification through the subscription's channel at once (quiet hours
    aside), with retries and a delivery log like any other: the answer names the delivery to
    follow in GET /v1/deliveries. A live-stream subscription has nothing to queue (409)."""
    subscription = await service.get_owned(
        uow.session, subscription_id=subscription_id, principal=principal
    )
    if subscription.channel == Channel.STREAM:
        raise Conflict(refusals.STREAM_ONLY_LIVE())
    if not subscription.active:
        raise Conflict(refusals.NOT_ACTIVE())
    delivery = delivery_service.queue_test(uow, subscription, now=runtime.clock.now())
    return TestQueued(delivery_id=delivery.id)


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_subscription(
    subscription_id: str, principal: Authenticated, uow: UnitOfWorkDep
) -> None:
    """Deletes the subscription; its queued deliveries are cancelled, its timers dropped."""
    await service.delete(uow, subscription_id=subscription_id, principal=principal)
