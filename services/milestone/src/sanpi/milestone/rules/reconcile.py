"""The reconciler's decision, pure: desired alerts against firing ones → raise, update, resolve."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from sanpi.events import Severity
from sanpi.milestone.rules.evaluation import DesiredAlert


class Action(StrEnum):
    RAISE = "raise"  # not firing yet: alert.raised
    UPDATE = "update"  # firing with another severity: alert.updated
    REFRESH = "refresh"  # firing with the same severity: new figures, no event
    RESOLVE = "resolve"  # firing but no longer desired: alert.resolved


@dataclass(frozen=True)
class Change:
    action: Action
    key: str
    desired: DesiredAlert | None = None
    previous_severity: Severity | None = None


def reconcile(desired: Iterable[DesiredAlert], firing: Mapping[str, Severity]) -> list[Change]:
    """What to do so that the firing alerts (key → severity) become exactly `desired`.

    `firing` must hold only the alerts within the evaluated scope (the projects evaluated):
    an alert outside it is not resolved just because this pass did not look at it."""
    wanted = {d.key: d for d in desired if d.severity is not Severity.GREEN}
    changes: list[Change] = []
    for key, alert in sorted(wanted.items()):
        current = firing.get(key)
        if current is None:
            changes.append(Change(Action.RAISE, key, alert))
        elif current is not alert.severity:
            changes.append(Change(Action.UPDATE, key, alert, previous_severity=current))
        else:
            changes.append(Change(Action.REFRESH, key, alert))
    for key in sorted(set(firing) - set(wanted)):
        changes.append(Change(Action.RESOLVE, key, previous_severity=firing[key]))
    return changes
