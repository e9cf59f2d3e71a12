"""Pure matching of an event's routing attributes against a subscription's (or a stream's) filter."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sanpi.events import SEVERITY_ORDER, Severity


@dataclass(frozen=True)
class Routing:
    """What an event is routed by. Attributes an event does not carry stay None or empty."""

    event_type: str
    severity: Severity | None = None
    park: str | None = None
    chain_tag: str | None = None
    category: str | None = None
    periods: frozenset[int] = frozenset()
    project_id: str | None = None
    project_name: str | None = None
    total_investment: int | None = None
    alert_key: str | None = None
    evaluation_id: str | None = None

    @property
    def is_red(self) -> bool:
        return self.severity is Severity.RED


@dataclass(frozen=True)
class Filter:
    """A conjunction of conditions; an empty condition lets everything through. A condition on an
    attribute the event does not carry fails: a subscriber who asks for 梧桐 gets only events known
    to be about 梧桐, and one who asks for yellow and above gets only alerts."""

    event_types: tuple[str, ...] = ()
    min_severity: Severity | None = None
    parks: frozenset[str] = field(default_factory=frozenset)
    chain_tags: frozenset[str] = field(default_factory=frozenset)
    categories: frozenset[str] = field(default_factory=frozenset)
    periods: frozenset[int] = field(default_factory=frozenset)
    project_ids: frozenset[str] = field(default_factory=frozenset)
    min_investment: int | None = None


def type_matches(patterns: Iterable[str], event_type: str) -> bool:
    """Exact types, or prefixes ending in `*`; no pattern means every type."""
    patterns = tuple(patterns)
    if not patterns:
        return True
    return any(
        event_type.startswith(p[:-1]) if p.endswith("*") else p == event_type for p in patterns
    )


def matches(wanted: Filter, event: Routing) -> bool:
    """Whether `event` passes every condition of `wanted`."""
    if not type_matches(wanted.event_types, event.event_type):
        return False
    if wanted.min_severity is not None and (
        event.severity is None
        or SEVERITY_ORDER[event.severity] < SEVERITY_ORDER[wanted.min_severity]
    ):
        return False
    if wanted.parks and event.park not in wanted.parks:
        return False
    if wanted.chain_tags and event.chain_tag not in wanted.chain_tags:
        return False
    if wanted.categories and event.category not in wanted.categories:
        return False
    if wanted.periods and not (wanted.periods & event.periods):
        return False
    if wanted.project_ids and event.project_id not in wanted.project_ids:
        return False
    return wanted.min_investment is None or (
        event.total_investment is not None and event.total_investment >= wanted.min_investment
    )
