"""Base classes of events about one project."""

from __future__ import annotations

from sanpi.events.catalog import EventData


class ProjectEvent(EventData):
    """An event about one project: keyed and subjected by the project id (per-project order)."""

    project_id: str

    def partition_key(self) -> str:
        return self.project_id
