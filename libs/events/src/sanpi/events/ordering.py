"""How a reader orders the events of one aggregate: by the version its producer writes in them."""

from __future__ import annotations


def is_newer(incoming: int | None, held: int) -> bool:
    """Whether an event carrying version `incoming` moves a projection that holds version `held`
    (0: none applied yet). A version equal to the one held is the same change again (a relay's
    duplicate, a redrive): not newer.

    An event without a version was published before its type carried one. It counts as older
    than any versioned event, and applies only where no versioned event was applied yet (held
    0), in the order it arrives, exactly as every event did before versions existed: a replay
    of an old topic rebuilds what it always built, and a late or redriven old record never
    overwrites a newer change."""
    if incoming is None:
        return held == 0
    return incoming > held
