"""The escalation ladder (督办), pure: when each level is due and whom it reaches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sanpi.notification.escalation.working_time import Delay, WorkingTime

# Level 0 is the subscription's owner (the first notification); the ladder climbs above it.
LEVEL_CONTACT_KEYS: dict[int, str] = {1: "unit_head", 2: "sponsor_leader", 3: "district"}
TOP_LEVEL = 3


def next_escalation_at(
    red_since: dt.datetime, reached: int, delays: Sequence[Delay], working: WorkingTime
) -> dt.datetime | None:
    """When level `reached + 1` is due: `delays[reached]` of working time after the first red
    notification; None once the top of the ladder is reached."""
    if reached >= TOP_LEVEL:
        return None
    return working.add(red_since, delays[reached])


def contact_for(
    level: int,
    contacts: Mapping[str, str],
    *,
    responsible_unit: str | None,
    sponsor_leader: str | None,
    district: str,
) -> str:
    """The subscription's contact for `level`, else who the alert names for it (its responsible
    unit, its sponsor leader), else — for the district — the configured district contact."""
    configured = contacts.get(LEVEL_CONTACT_KEYS[level])
    if configured:
        return configured
    fallback = {1: responsible_unit, 2: sponsor_leader, 3: district}[level]
    return fallback or "unassigned"


def is_address(contact: str) -> bool:
    """A contact that can receive an e-mail (names are only recorded in the event)."""
    local, _, domain = contact.partition("@")
    return bool(local) and "." in domain
