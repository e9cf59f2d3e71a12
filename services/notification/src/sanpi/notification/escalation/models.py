"""The alerts this service has seen and, per subscription, the timers of a red alert."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sanpi.kit import UTCDateTime, utcnow


class AlertState(SQLModel, table=True):
    """The latest state of one alert key, from alert.raised / updated / resolved."""

    __tablename__ = "notification_alert"
    # The open list (firing, not acknowledged), newest first, a page at a time: one index range.
    __table_args__ = (
        Index("ix_notification_alert_open", "firing", "acknowledged_at", "last_event_time"),
    )

    alert_key: str = Field(primary_key=True, max_length=200)
    severity: str = Field(max_length=8)
    firing: bool = True
    park: str | None = Field(default=None, max_length=64)
    project_id: str | None = Field(default=None, max_length=64)
    responsible_unit: str | None = Field(default=None, max_length=200)
    sponsor_leader: str | None = Field(default=None, max_length=200)
    last_event_id: str = Field(max_length=64)
    last_event_time: dt.datetime = Field(sa_type=UTCDateTime)
    last_payload: str = Field(sa_type=Text)  # the latest CloudEvent, JSON
    acknowledged_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=128)
    # What the person who acknowledged wrote (e.g. 已电话督办, 企业承诺6月底前开工).
    acknowledgement_note: str | None = Field(default=None, max_length=500)
    # Its last spell of red, as this service learnt of it (its own clock, so that each spell
    # is "turned red" in exactly one digest however late the events arrive): since when, and
    # when it ended (resolved, or fallen below red); null while still red.
    red_since: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    red_ended_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AlertFollow(SQLModel, table=True):
    """A red alert a subscription was told about: when to repeat it and when to climb the ladder.
    Deleted when the alert is acknowledged, resolved, no longer red, or the subscription goes."""

    __tablename__ = "notification_alert_follow"
    __table_args__ = (UniqueConstraint("subscription_id", "alert_key", name="uq_follow_sub_alert"),)

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: str = Field(max_length=36, index=True)
    alert_key: str = Field(max_length=200, index=True)
    red_since: dt.datetime = Field(sa_type=UTCDateTime)
    repeats: int = 0
    next_repeat_at: dt.datetime = Field(sa_type=UTCDateTime, index=True)
    level: int = 0
    next_escalation_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
