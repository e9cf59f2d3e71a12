"""Response model of an inbox item."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class InboxItem(BaseModel):
    id: str
    subscription_id: str
    kind: str = Field(
        description="EVENT, DIGEST (grouped alerts), REPEAT, DAILY_DIGEST or XUN_DIGEST"
    )
    alert_key: str | None
    severity: str | None
    subject: str = Field(description="in the subscription's language")
    text: str
    event_ids: list[str]
    delivered_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
