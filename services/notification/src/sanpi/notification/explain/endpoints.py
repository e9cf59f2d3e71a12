"""HTTP route of GET /v1/explain: why a subscription was (not) notified of an event."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sanpi.kit import Authenticated, ReadSessionDep, RuntimeDep
from sanpi.kit.messages import AcceptLanguage, language
from sanpi.notification.explain import service
from sanpi.notification.explain.schemas import Explanation
from sanpi.notification.settings import NotificationSettings

router = APIRouter(tags=["explain"])


@router.get("/explain", response_model=Explanation)
async def explain(
    principal: Authenticated,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    subscription: Annotated[str, Query(min_length=1, description="a subscription of yours")],
    event: Annotated[str, Query(min_length=1, description="a CloudEvent id")],
    accept_language: AcceptLanguage = None,
) -> Explanation:
    """Why the subscription was (not) notified of the event: every step of the decision, judged
    by the same rules as dispatch (the subscription's filter conditions one by one, its age,
    quiet hours, red alerts sent at once, grouping of an evaluation pass), then the
    notifications that carried it with their attempts and the receiver's answers. Chinese
    unless Accept-Language asks for English; 404 naming the subscription or the event the
    service does not hold."""
    settings = runtime.settings
    assert isinstance(settings, NotificationSettings)
    return await service.explain(
        session,
        subscription_id=subscription,
        event_id=event,
        principal=principal,
        settings=settings,
        now=runtime.clock.now(),
        lang=language(accept_language),
    )
