"""Request and response models of the subscription API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

from sanpi.events import EVENT_TYPES

EventTypePattern = Annotated[str, Field(min_length=1, max_length=128)]


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["webhook"]
    url: AnyHttpUrl = Field(description="receiver of Standard Webhooks POSTs")
    event_types: list[EventTypePattern] = Field(
        default_factory=list,
        max_length=100,
        description="event types, e.g. sanpi.project.stage_changed.v1, or a prefix like "
        "sanpi.project.*; empty means all",
    )

    @field_validator("event_types")
    @classmethod
    def _known_types(cls, values: list[str]) -> list[str]:
        for value in values:
            if value.endswith("*"):
                prefix = value[:-1]
                if not any(t.startswith(prefix) for t in EVENT_TYPES):
                    raise ValueError(f"{value!r} matches no event type")
            elif value not in EVENT_TYPES:
                raise ValueError(f"unknown event type {value!r}")
        return values


class SubscriptionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    owner: str
    channel: str
    url: str | None
    event_types: list[str]
    active: bool
    disabled_reason: str | None
    created_at: dt.datetime


class SubscriptionCreated(SubscriptionPublic):
    """Returned once, at creation: the only time the signing secret is shown."""

    secret: str | None = Field(description="Standard Webhooks signing secret (whsec_…)")
