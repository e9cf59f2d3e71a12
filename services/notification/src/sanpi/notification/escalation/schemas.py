"""Response model of an acknowledgement."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict


class AlertAcknowledgement(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    alert_key: str
    severity: str
    firing: bool
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
