"""A graceful stop lets the background workers finish their round: a message already on its way
to a receiver is recorded as delivered, not left claimed to be sent again after its lease."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanpi.events import Severity
from tests.support.notification import alert, harness
from tests.support.sink import WebhookSink
from tests.support.waiting import eventually

pytestmark = pytest.mark.asyncio


async def test_a_send_in_flight_at_a_graceful_stop_is_recorded(
    tmp_path: Path, webhook_sink: WebhookSink
) -> None:
    # The receiver holds its answer; the stop comes while the worker waits for it. Cancelled
    # there, the worker left the delivery claimed (attempts 1, no outcome), and the next start
    # sent it again once the lease ran out: a duplicate on every restart or rolling update.
    webhook_sink.delay_s = 1.0
    async with harness(tmp_path) as h:
        response = await h.client.post(
            "/v1/subscriptions",
            json={"channel": "webhook", "url": webhook_sink.url, "event_types": ["sanpi.alert.*"]},
        )
        assert response.status_code == 201, response.text
        await h.feed(alert(Severity.RED))
        await eventually(webhook_sink.snapshot, what="the POST at the receiver, its answer held")
    # The harness's exit is the app's graceful stop.

    async with harness(tmp_path) as again:
        response = await again.client.get("/v1/deliveries")
        assert response.status_code == 200, response.text
        found = [(d["status"], d["attempts"]) for d in response.json()["items"]]
        assert found == [("DELIVERED", 1)]
