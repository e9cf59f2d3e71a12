"""Request and response models of acknowledgements and of the alert states this service keeps."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sanpi.kit import Page


class AcknowledgeRequest(BaseModel):
    """The optional body of an acknowledgement."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str | None = Field(
        default=None, max_length=500, description="what was done, e.g. 已电话督办，企业承诺月底开工"
    )


class AlertAcknowledgement(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    alert_key: str
    severity: str
    firing: bool
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    acknowledgement_note: str | None = None


class AlertStatePublic(BaseModel):
    """An alert as this service last heard of it, with its acknowledgement."""

    alert_key: str
    rule: str = Field(description="R01…R18, the first part of the key")
    severity: str
    firing: bool
    park: str | None
    project_id: str | None
    project_name: str | None
    title: str | None
    message: str | None
    title_en: str | None = Field(
        default=None, description="the title in English; none from an event before it had one"
    )
    message_en: str | None = Field(default=None, description="the message in English")
    as_of: dt.date | None = Field(description="the day the rule was evaluated for")
    first_raised_at: dt.datetime | None
    last_event_time: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    acknowledgement_note: str | None

    @classmethod
    def of(cls, state: Any) -> AlertStatePublic:
        try:
            data: dict[str, Any] = json.loads(state.last_payload).get("data") or {}
        except ValueError:
            data = {}
        return cls(
            alert_key=state.alert_key,
            rule=state.alert_key.split(":", 1)[0],
            severity=state.severity,
            firing=state.firing,
            park=state.park,
            project_id=state.project_id,
            project_name=data.get("project_name"),
            title=data.get("title"),
            message=data.get("message"),
            title_en=data.get("title_en") or None,
            message_en=data.get("message_en") or None,
            as_of=data.get("as_of"),
            first_raised_at=data.get("first_raised_at"),
            last_event_time=state.last_event_time,
            acknowledged_at=state.acknowledged_at,
            acknowledged_by=state.acknowledged_by,
            acknowledgement_note=state.acknowledgement_note,
        )


class AlertStatesPage(Page[AlertStatePublic]):
    counts: dict[str, int] = Field(
        default_factory=dict, description="states matching the other filters, by severity"
    )
