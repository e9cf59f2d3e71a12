"""Pure matching of an event's routing attributes against a subscription's (or a stream's) filter."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

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


# Each condition of a filter: (its Filter field, the Routing attribute it reads, the test).
# The test answers None when the filter does not set the condition (everything passes), else
# whether the event passes. Dispatch (`matches`) and "why was I (not) notified" (`checks`) both
# walk this one table, so they cannot disagree.
Test = Callable[[Filter, Routing], bool | None]


def _event_types(wanted: Filter, event: Routing) -> bool | None:
    return type_matches(wanted.event_types, event.event_type) if wanted.event_types else None


def _min_severity(wanted: Filter, event: Routing) -> bool | None:
    if wanted.min_severity is None:
        return None
    return (
        event.severity is not None
        and SEVERITY_ORDER[event.severity] >= SEVERITY_ORDER[wanted.min_severity]
    )


def _parks(wanted: Filter, event: Routing) -> bool | None:
    return event.park in wanted.parks if wanted.parks else None


def _chain_tags(wanted: Filter, event: Routing) -> bool | None:
    return event.chain_tag in wanted.chain_tags if wanted.chain_tags else None


def _categories(wanted: Filter, event: Routing) -> bool | None:
    return event.category in wanted.categories if wanted.categories else None


def _periods(wanted: Filter, event: Routing) -> bool | None:
    return bool(wanted.periods & event.periods) if wanted.periods else None


def _project_ids(wanted: Filter, event: Routing) -> bool | None:
    return event.project_id in wanted.project_ids if wanted.project_ids else None


def _min_investment(wanted: Filter, event: Routing) -> bool | None:
    if wanted.min_investment is None:
        return None
    return event.total_investment is not None and event.total_investment >= wanted.min_investment


CONDITIONS: tuple[tuple[str, str, Test], ...] = (
    ("event_types", "event_type", _event_types),
    ("min_severity", "severity", _min_severity),
    ("parks", "park", _parks),
    ("chain_tags", "chain_tag", _chain_tags),
    ("categories", "category", _categories),
    ("periods", "periods", _periods),
    ("project_ids", "project_id", _project_ids),
    ("min_investment", "total_investment", _min_investment),
)


def matches(wanted: Filter, event: Routing) -> bool:
    """Whether `event` passes every condition of `wanted`."""
    return all(test(wanted, event) is not False for _f, _a, test in CONDITIONS)


@dataclass(frozen=True)
class Check:
    """One condition of a filter applied to one event: what was asked, what the event carried,
    and whether it passed (None: the filter does not set this condition)."""

    condition: str  # the subscription's field, e.g. "parks"
    attribute: str  # the event's routing attribute, e.g. "park"
    wanted: Any
    actual: Any
    passed: bool | None


def checks(wanted: Filter, event: Routing) -> list[Check]:
    """Every condition of `wanted` against `event`, passed or not (`matches` is all of them
    passing, or unset)."""
    return [
        Check(
            name, attribute, getattr(wanted, name), getattr(event, attribute), test(wanted, event)
        )
        for name, attribute, test in CONDITIONS
    ]
