"""The projection of project master data this service routes by, built from registry events."""

from __future__ import annotations

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel


class ProjectView(SQLModel, table=True):
    """What the notification service knows of a project: enough to route and to name it."""

    __tablename__ = "notification_project_view"

    project_id: str = Field(primary_key=True, max_length=64)
    # The registry's master-data version: an older snapshot arriving late never overwrites.
    version: int = 0
    name: str | None = Field(default=None, max_length=300)
    park: str | None = Field(default=None, max_length=64)
    chain_tag: str | None = Field(default=None, max_length=32)
    category: str | None = Field(default=None, max_length=32)
    total_investment: int | None = None
    periods: list[int] = Field(default_factory=list, sa_type=JSON)
    responsible_unit: str | None = Field(default=None, max_length=200)
    sponsor_leader: str | None = Field(default=None, max_length=200)
