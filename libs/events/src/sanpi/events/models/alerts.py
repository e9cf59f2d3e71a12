"""Alert events of the milestone service's rules, on sanpi.alerts (the notification service routes them)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from sanpi.events.catalog import EventData, event_type
from sanpi.events.topics import Topic
from sanpi.events.vocabulary import AlertRule, Category, ChainTag, Severity


class AlertEvent(EventData):
    """An alert's state. `alert_key` is stable (rule + project or scope): raised once, then
    updated on a severity change, then resolved. Routing attributes (park, chain tag, category,
    investment, people) travel with the alert so that subscribers can be matched without lookups.
    `evaluation_id` names the evaluation pass, so that the alerts of one pass can be grouped."""

    alert_key: str = Field(description="e.g. R02:<project id> or R15:梧桐:SIGN_AMOUNT")
    rule: AlertRule
    severity: Severity
    scope: Literal["project", "park", "district"]
    project_id: str | None = None
    project_name: str | None = None
    park: str | None = None
    chain_tag: ChainTag | None = None
    category: Category | None = None
    total_investment: int | None = Field(default=None, description="万元")
    periods: list[int] = Field(default_factory=list, description="期 the project was listed in")
    responsible_person: str | None = None
    responsible_unit: str | None = None
    sponsor_leader: str | None = None
    title: str = Field(description="one line for people, Chinese")
    message: str = Field(default="", description="what is late and by how much, Chinese")
    # Added within v1 with defaults (an event raised before them still validates): a reader
    # in English shows `title` and `message` when these are empty.
    title_en: str = Field(
        default="",
        description="the title in English; empty on events from before it was added (read title)",
    )
    message_en: str = Field(
        default="",
        description="the message in English; empty on events from before it was added "
        "(read message)",
    )
    metric_value: float | None = None
    threshold: float | None = None
    as_of: dt.date = Field(description="the (possibly simulated) date the rule was evaluated for")
    evaluation_id: str
    first_raised_at: dt.datetime

    def partition_key(self) -> str:
        # Per-project alerts share the project's key (ordered with its other events); scope
        # alerts use the scope.
        return self.project_id or f"{self.scope}:{self.park or 'all'}"

    def subject(self) -> str | None:
        return self.project_id or self.alert_key


@event_type("sanpi.alert.raised.v1", topic=Topic.ALERTS)
class AlertRaised(AlertEvent):
    """The condition started: the first event of this alert key (or the first after a resolve)."""


@event_type("sanpi.alert.updated.v1", topic=Topic.ALERTS)
class AlertUpdated(AlertEvent):
    """The severity of a firing alert changed."""

    previous_severity: Severity


@event_type("sanpi.alert.resolved.v1", topic=Topic.ALERTS)
class AlertResolved(AlertEvent):
    """The condition cleared (or the project left the rule's reach, e.g. cancelled)."""

    resolved_at: dt.datetime
