"""The stream channel: events are read live over GET /v1/stream?subscription=<id> (Server-Sent
Events); nothing is queued, so the worker never has one to send."""

from __future__ import annotations

from sanpi.notification.channels.inbox import InboxChannel
from sanpi.notification.channels.result import AttemptResult


class StreamChannel(InboxChannel):
    """Takes no target, as the inbox; unlike it, nothing is ever queued for it."""

    name = "stream"
    queued = False

    def classify(self, sent: None) -> AttemptResult:
        # Only a delivery queued by an older version could get here: nothing can send it.
        return AttemptResult(None, "the stream channel is read over the API", give_up=True)
