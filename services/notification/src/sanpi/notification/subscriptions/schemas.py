"""Request and response models of the subscription API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator, model_validator

from sanpi.events import EVENT_TYPES, Category, ChainTag, Severity
from sanpi.kit.messages import MessageError, quoted
from sanpi.notification.digests.schemas import DigestOptions
from sanpi.notification.subscriptions import messages as refusals
from sanpi.notification.subscriptions.models import Channel, Language

EventTypePattern = Annotated[str, Field(min_length=1, max_length=128)]
EmailAddress = Annotated[
    str,
    Field(
        max_length=320, pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$", examples=["zhang@example.cn"]
    ),
]
WallClock = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["22:00"])]
Contact = Annotated[str, Field(min_length=1, max_length=320)]
Mobile = Annotated[str, Field(max_length=20, examples=["13800000000"])]
RobotSecret = Annotated[
    str,
    Field(
        min_length=1,
        max_length=256,
        description="钉钉 / 飞书 robots: the signing secret of the robot's security settings "
        "(钉钉 加签 SEC…, 飞书 签名校验); stored sealed, never shown again",
    ),
]
# The registry's bounds (期 numbers up to 1000; 总投资 up to 1万亿元), so that a filter can match
# and a 20-digit number never reaches a database integer column (a 500 on PostgreSQL).
PeriodNumber = Annotated[int, Field(ge=1, le=1000)]
MinInvestment = Annotated[int, Field(ge=0, le=100_000_000, description="总投资 at least, 万元")]


def known_event_types(values: list[str]) -> list[str]:
    """Refuses patterns that name no declared event type (a typo would silently match nothing):
    a MessageError, read in the reader's language."""
    for value in values:
        if value.endswith("*"):
            prefix = value[:-1]
            if not any(t.startswith(prefix) for t in EVENT_TYPES):
                raise MessageError(refusals.NO_EVENT_TYPE_MATCHES(value=quoted(value)))
        elif value not in EVENT_TYPES:
            raise MessageError(refusals.UNKNOWN_EVENT_TYPE(value=quoted(value)))
    return values


class QuietHours(BaseModel):
    """Asia/Shanghai wall-clock window (may cross midnight) in which only red alerts are sent."""

    model_config = ConfigDict(extra="forbid")

    start: WallClock
    end: WallClock

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise MessageError(refusals.QUIET_HOURS_EMPTY())
        return self


class EscalationContacts(BaseModel):
    """Who an unacknowledged red alert climbs to. An e-mail address gets an e-mail; a name is only
    recorded in the escalation event. Missing levels fall back to the alert's responsible unit and
    sponsor leader, and to the configured district contact."""

    model_config = ConfigDict(extra="forbid")

    unit_head: Contact | None = None
    sponsor_leader: Contact | None = None
    district: Contact | None = None


class Filters(BaseModel):
    """Every condition must hold; an empty one lets everything through."""

    event_types: list[EventTypePattern] = Field(
        default_factory=list,
        max_length=100,
        description="event types, e.g. sanpi.alert.raised.v1, or a prefix like sanpi.alert.*; "
        "empty means all",
    )
    min_severity: Severity | None = Field(
        default=None, description="only alerts at least this severe (blue<green<yellow<orange<red)"
    )
    parks: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=100
    )
    chain_tags: list[ChainTag] = Field(default_factory=list, max_length=50)
    categories: list[Category] = Field(default_factory=list, max_length=50)
    periods: list[PeriodNumber] = Field(
        default_factory=list, max_length=100, description="期 numbers the project was listed in"
    )
    project_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=1000
    )
    min_investment: MinInvestment | None = None

    @field_validator("event_types")
    @classmethod
    def _known_types(cls, values: list[str]) -> list[str]:
        return known_event_types(values)


class SubscriptionCreate(Filters):
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    url: AnyHttpUrl | None = Field(
        default=None,
        description="webhook channel: receiver of Standard Webhooks POSTs; wecom, dingtalk, "
        "feishu: the robot's webhook URL",
    )
    email: EmailAddress | None = Field(default=None, description="email channel: the recipient")
    secret: RobotSecret | None = None
    mention_mobiles: list[Mobile] = Field(
        default_factory=list,
        description="wecom / dingtalk robots: mobile numbers a red alert @-mentions",
    )
    quiet_hours: QuietHours | None = None
    language: Language = Language.ZH
    escalation_contacts: EscalationContacts = Field(default_factory=EscalationContacts)
    digest: DigestOptions | None = Field(
        default=None, description="a digest of red alerts per park, daily and/or per 旬"
    )


class SubscriptionUpdate(BaseModel):
    """PATCH: only the fields present change. `active: true` re-enables a disabled subscription."""

    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl | None = None
    email: EmailAddress | None = None
    secret: RobotSecret | None = None
    mention_mobiles: list[Mobile] | None = None
    event_types: list[EventTypePattern] | None = Field(default=None, max_length=100)
    min_severity: Severity | None = None
    parks: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=100
    )
    chain_tags: list[ChainTag] | None = Field(default=None, max_length=50)
    categories: list[Category] | None = Field(default=None, max_length=50)
    periods: list[PeriodNumber] | None = Field(default=None, max_length=100)
    project_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=1000
    )
    min_investment: MinInvestment | None = None
    quiet_hours: QuietHours | None = None
    language: Language | None = None
    escalation_contacts: EscalationContacts | None = None
    digest: DigestOptions | None = Field(default=None, description="null: no digest")
    active: bool | None = None

    @field_validator("event_types")
    @classmethod
    def _known_types(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else known_event_types(values)


class SubscriptionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    owner: str
    channel: Channel
    url: str | None
    email: str | None
    event_types: list[str]
    min_severity: Severity | None
    parks: list[str]
    chain_tags: list[str]
    categories: list[str]
    periods: list[int]
    project_ids: list[str]
    min_investment: int | None
    quiet_hours: QuietHours | None = None
    language: Language
    escalation_contacts: EscalationContacts
    mention_mobiles: list[str] = Field(default_factory=list)
    digest: DigestOptions | None = None
    active: bool
    disabled_reason: str | None
    consecutive_failures: int = Field(
        default=0, description="health: failed attempts in a row (0 once one succeeds)"
    )
    failing_since: dt.datetime | None = Field(default=None, description="health")
    last_error: str | None = Field(
        default=None,
        description="health: the last failed attempt's error while failing, e.g. a robot "
        "refusing the signature (钉钉 errcode 310000)",
    )
    previous_secret_expires_at: dt.datetime | None = Field(
        description="until then, webhooks carry signatures with the previous secret too"
    )
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @model_validator(mode="before")
    @classmethod
    def _objects_from_columns(cls, value: object) -> object:
        """Quiet hours and the digest are objects made of several columns."""
        if isinstance(value, dict):
            return value
        start = getattr(value, "quiet_start", None)
        end = getattr(value, "quiet_end", None)
        daily = getattr(value, "digest_daily_at", None)
        xun = getattr(value, "digest_xun_at", None)
        if not (start and end) and not (daily or xun):
            return value
        fields = {name: getattr(value, name) for name in cls.model_fields if hasattr(value, name)}
        if start and end:
            fields["quiet_hours"] = {"start": start, "end": end}
        if daily or xun:
            fields["digest"] = {
                "daily_at": daily,
                "xun_at": xun,
                "working_days_only": bool(getattr(value, "digest_working_days_only", False)),
                "instead_of_immediate": bool(getattr(value, "digest_instead_of_immediate", False)),
            }
        return fields


class SubscriptionCreated(SubscriptionPublic):
    """Returned at creation and rotation only: the one time the signing secret is shown."""

    secret: str | None = Field(
        description="Standard Webhooks signing secret (whsec_…); null for other channels (a "
        "robot's secret is never shown back)"
    )
    secret_redacted: bool = Field(
        default=False,
        description="true in a replay of a create (same Idempotency-Key): the secret is shown "
        "only in the first answer and is null here; rotate it if it was lost",
    )


class TestQueued(BaseModel):
    delivery_id: str = Field(description="follow it in GET /v1/deliveries")
