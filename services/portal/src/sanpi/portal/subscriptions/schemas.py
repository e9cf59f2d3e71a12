"""The subscription form, checked on the server before the notification service checks it again."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from sanpi.events import ChainTag, Severity
from sanpi.portal.i18n import _

# What a person subscribes to, in words; each is a set of event types.
TOPICS: dict[str, list[str]] = {
    "alerts": ["sanpi.alert.*"],
    "stages": ["sanpi.project.stage_changed.v1"],
    "milestones": ["sanpi.milestone.*"],
    "reports": ["sanpi.progress.reported.v1"],
    "projects": ["sanpi.project.registered.v1", "sanpi.project.listed.v1"],
}

EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class SubscriptionForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    channel: Literal["webhook", "email", "inbox"]
    url: str | None = Field(default=None, max_length=2000, validate_default=True)
    email: str | None = Field(default=None, max_length=320, validate_default=True)
    topics: list[Literal["alerts", "stages", "milestones", "reports", "projects"]] = Field(
        default_factory=list, max_length=10
    )
    min_severity: Severity | None = None
    parks: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=100
    )
    chain_tags: list[ChainTag] = Field(default_factory=list, max_length=50)
    language: Literal["zh", "en"] = "zh"

    @field_validator("url")
    @classmethod
    def _url_for_webhooks(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("channel") == "webhook":
            if not value:
                raise ValueError(_("A webhook needs the address that receives it."))
            if not re.match(r"^https?://[^\s/]+", value):
                raise ValueError(_("Enter an address beginning with http:// or https://."))
        return value if info.data.get("channel") == "webhook" else None

    @field_validator("email")
    @classmethod
    def _address_for_email(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("channel") == "email":
            if not value:
                raise ValueError(_("E-mail needs an address."))
            if not EMAIL.match(value):
                raise ValueError(_("Enter an e-mail address such as zhang@example.cn."))
        return value if info.data.get("channel") == "email" else None

    def body(self) -> dict[str, object]:
        """The notification service's SubscriptionCreate."""
        event_types = sorted({t for topic in self.topics for t in TOPICS[topic]})
        body: dict[str, object] = {
            "channel": self.channel,
            "event_types": event_types,
            "parks": self.parks,
            "chain_tags": [str(c) for c in self.chain_tags],
            "language": self.language,
        }
        if self.min_severity is not None:
            body["min_severity"] = str(self.min_severity)
        if self.url:
            body["url"] = self.url
        if self.email:
            body["email"] = self.email
        return body


def topics_of(event_types: list[str]) -> list[str]:
    """The topics a subscription's event types amount to (for showing it)."""
    chosen = set(event_types)
    return [name for name, types in TOPICS.items() if set(types) <= chosen]
