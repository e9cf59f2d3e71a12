"""The guard every projection applies an event through: only a newer version moves it."""

from __future__ import annotations

import logging

from sanpi.events import is_newer
from sanpi.kit.metrics import EVENTS_STALE

log = logging.getLogger("sanpi.projection")


def applies(event_type: str, key: str, *, incoming: int | None, held: int) -> bool:
    """Whether an event of version `incoming` about aggregate `key` moves a projection that holds
    version `held` (sanpi.events.is_newer). One that does not is counted in
    sanpi_events_stale_total and said at debug level: a late or redriven record is normal."""
    if is_newer(incoming, held):
        return True
    EVENTS_STALE.labels(event_type).inc()
    log.debug(
        "%s about %s ignored: version %s, the projection holds %d", event_type, key, incoming, held
    )
    return False
