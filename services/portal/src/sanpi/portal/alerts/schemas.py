"""The filters of the alert list and the acknowledgement form."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sanpi.events import AlertRule, Severity


class AlertFilters(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    tab: Literal["open", "acknowledged"] = "open"
    park: str | None = Field(default=None, max_length=64)
    rule: AlertRule | None = None
    severity: Severity | None = None
    cursor: str | None = Field(default=None, max_length=400)


class AcknowledgeForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    alert_key: str = Field(min_length=3, max_length=200)
    note: str | None = Field(default=None, max_length=500)
    # The page element that holds the alert (htmx replaces it with the answer).
    item: str | None = Field(default=None, pattern=r"^alert-[0-9]{1,4}$")
