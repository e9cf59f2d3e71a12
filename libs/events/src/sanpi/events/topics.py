"""Kafka topic names, one per owning aggregate, and the name of each topic's dead-letter topic."""

from __future__ import annotations

from enum import StrEnum


class Topic(StrEnum):
    """The sanpi topics. Each is written by exactly one service."""

    PROJECTS = "sanpi.projects"  # registry: projects, listings, periods, targets
    MILESTONES = "sanpi.milestones"  # milestone: stage changes, milestones, progress
    ALERTS = "sanpi.alerts"  # milestone (rules): alert.raised / updated / resolved
    NOTIFICATIONS = "sanpi.notifications"  # notification: delivery outcomes, escalations


DLQ_SUFFIX = ".dlq"


def dead_letter_topic(topic: str) -> str:
    """Returns the dead-letter topic that receives the poison records of `topic`."""
    return f"{topic}{DLQ_SUFFIX}"


ALL_TOPICS: tuple[str, ...] = tuple(t.value for t in Topic)
