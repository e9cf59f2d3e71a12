"""HTTP routes of alerts as this service keeps them: the list (open, acknowledged) and the
acknowledgement, POST /v1/alerts/{alert_key}/ack."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sanpi.events import AlertRule, Severity
from sanpi.kit import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Authenticated,
    ReadSessionDep,
    RuntimeDep,
    UnitOfWorkDep,
    Writer,
)
from sanpi.notification.escalation import repository, service
from sanpi.notification.escalation.schemas import (
    AcknowledgeRequest,
    AlertAcknowledgement,
    AlertStatePublic,
    AlertStatesPage,
)

router = APIRouter(prefix="/alerts", tags=["alerts"])
states_router = APIRouter(tags=["alerts"])


@router.post("/{alert_key}/ack", response_model=AlertAcknowledgement)
async def acknowledge_alert(
    alert_key: str,
    principal: Writer,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
    body: AcknowledgeRequest | None = None,
) -> AlertAcknowledgement:
    """Acknowledges an alert, with an optional note: its reminders stop and it does not escalate
    (again). Needs write rights on the alert's park; a second acknowledgement changes nothing."""
    state = await service.acknowledge(
        uow,
        alert_key=alert_key,
        principal=principal,
        now=runtime.clock.now(),
        note=body.note if body is not None and body.note else None,
    )
    return AlertAcknowledgement.model_validate(state)


@states_router.get("/alert-states", response_model=AlertStatesPage)
async def alert_states(
    _principal: Authenticated,
    session: ReadSessionDep,
    firing: Annotated[bool | None, Query(description="default: firing ones only")] = True,
    acknowledged: Annotated[
        bool | None, Query(description="false: the open list; true: those acknowledged")
    ] = None,
    park: Annotated[
        list[Annotated[str, Query(min_length=1, max_length=64)]] | None,
        Query(description="any of these parks (repeat the parameter)", max_length=100),
    ] = None,
    severity: Severity | None = None,
    rule: AlertRule | None = None,
    project_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> AlertStatesPage:
    """Alerts as this service last heard of them, red first then newest first, with who
    acknowledged them and their note; `counts` gives the matching states by severity (the
    severity filter aside). `acknowledged=false` is the open list officials work through."""
    filters = repository.StateFilter(
        firing=firing,
        acknowledged=acknowledged,
        parks=tuple(park or ()),
        severity=str(severity) if severity else None,
        rule=str(rule) if rule else None,
        project_id=project_id,
    )
    rows, next_cursor, counts = await service.state_page(
        session, filters=filters, limit=limit, cursor=cursor
    )
    return AlertStatesPage(
        items=[AlertStatePublic.of(r) for r in rows], next_cursor=next_cursor, counts=counts
    )
