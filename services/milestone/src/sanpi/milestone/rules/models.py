"""Stored alerts (one row per firing episode of a key), the pinned evaluation date, the targets."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from sanpi.events import AlertRule, Severity, TargetKind
from sanpi.kit import UTCDateTime, utcnow


class AlertState(StrEnum):
    FIRING = "FIRING"
    RESOLVED = "RESOLVED"


class Alert(SQLModel, table=True):
    """An episode of an alert key: raised, maybe updated, then resolved. A key fires again as a
    new row, so the history of every episode stays."""

    __tablename__ = "alert"
    # One firing episode per key, whatever runs the rules: two replicas evaluating the same
    # project at once cannot both raise it (the loser's transaction fails and is retried).
    __table_args__ = (
        Index(
            "uq_alert_firing_key",
            "alert_key",
            unique=True,
            sqlite_where=text("state = 'FIRING'"),
            postgresql_where=text("state = 'FIRING'"),
        ),
        # The firing alerts of a few projects, after every report. With only the single-column
        # indexes SQLite chose ix_alert_state and read every firing alert each time (0.83 ms a
        # report with 1,500 alerts, growing with the province).
        Index("ix_alert_project_state", "project_id", "state"),
    )

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    alert_key: str = Field(max_length=128, index=True)
    rule: AlertRule = Field(max_length=8, index=True)
    severity: Severity = Field(max_length=8, index=True)
    state: AlertState = Field(default=AlertState.FIRING, max_length=16, index=True)
    project_id: str | None = Field(default=None, max_length=36, index=True)
    park: str | None = Field(default=None, max_length=64, index=True)
    project_name: str | None = Field(default=None, max_length=200)
    title: str = Field(max_length=300)
    message: str = Field(default="", max_length=4000)
    # The same in English (empty on alerts raised before they were written): the alert events
    # carry them for English subscribers.
    title_en: str = Field(default="", max_length=300)
    message_en: str = Field(default="", max_length=4000)
    metric_value: float | None = None
    threshold: float | None = None
    as_of: dt.date
    evaluation_id: str = Field(max_length=36)
    first_raised_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PinnedDate(SQLModel, table=True):
    """When set, scheduled and event-driven evaluations run as of this day instead of today
    (demos and tests that travel in time). One row at most."""

    __tablename__ = "evaluation_pin"

    id: int = Field(default=1, primary_key=True)
    as_of: dt.date
    pinned_by: str = Field(max_length=128)
    pinned_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EvaluationDue(SQLModel, table=True):
    """A project whose rules are due for evaluation after a change: written (or its token
    replaced) in the change's transaction, deleted by the evaluation that handled that token.
    Evaluation runs after the commit, for many requests together; a mark outlives a crash or a
    failed evaluation, and a sweep evaluates what is left."""

    __tablename__ = "evaluation_due"

    project_id: str = Field(primary_key=True, max_length=36)
    token: str = Field(max_length=36)
    marked_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class PortfolioTarget(SQLModel, table=True):
    """The registry's annual targets (target.set), as R15 judges them: the registry owns them,
    this is its projection. The latest event of a (year, scope, kind) wins."""

    __tablename__ = "portfolio_target"

    year: int = Field(primary_key=True)
    scope: str = Field(primary_key=True, max_length=64, description="the district, or a park")
    kind: TargetKind = Field(primary_key=True, max_length=32)
    value: int
    set_by: str | None = Field(default=None, max_length=128)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
