"""HTTP route of alert acknowledgement: POST /v1/alerts/{alert_key}/ack."""

from __future__ import annotations

from fastapi import APIRouter

from sanpi.kit import RuntimeDep, UnitOfWorkDep, Writer
from sanpi.notification.escalation import service
from sanpi.notification.escalation.schemas import AlertAcknowledgement

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.post("/{alert_key}/ack", response_model=AlertAcknowledgement)
async def acknowledge_alert(
    alert_key: str, principal: Writer, uow: UnitOfWorkDep, runtime: RuntimeDep
) -> AlertAcknowledgement:
    """Acknowledges an alert: its reminders stop and it does not escalate (again). Needs write
    rights on the alert's park; a second acknowledgement changes nothing."""
    state = await service.acknowledge(
        uow, alert_key=alert_key, principal=principal, now=runtime.clock.now()
    )
    return AlertAcknowledgement.model_validate(state)
