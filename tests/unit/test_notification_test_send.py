"""POST /v1/subscriptions/{id}/test: a subscriber checks that their channel reaches them; the test
goes out like any notification (signed, retried, logged) and is refused where nothing can go."""

from __future__ import annotations

import json
from pathlib import Path

from sanpi.kit import Role
from tests.support.apps import auth
from tests.support.notification import harness
from tests.support.sink import WebhookSink
from tests.support.waiting import eventually


async def test_a_test_notification_reaches_the_webhook_and_the_delivery_log(
    tmp_path: Path, webhook_sink: WebhookSink
) -> None:
    async with harness(tmp_path) as h:
        created = await h.client.post(
            "/v1/subscriptions", json={"channel": "webhook", "url": webhook_sink.url}
        )
        assert created.status_code == 201, created.text
        subscription = created.json()["id"]
        answer = await h.client.post(f"/v1/subscriptions/{subscription}/test")
        assert answer.status_code == 202, answer.text
        delivery = answer.json()["delivery_id"]

        received = await eventually(webhook_sink.accepted, what="the test at the receiver")
        body = json.loads(received[0].body)
        assert body["type"] == "sanpi.notification.test"
        assert body["subscription_id"] == subscription
        assert "测试消息" in body["subject"]
        assert received[0].headers["webhook-id"] == delivery
        assert "webhook-signature" in received[0].headers

        async def logged() -> bool:
            items = await h.deliveries(subscription=subscription)
            return any(d["id"] == delivery and d["status"] == "DELIVERED" for d in items)

        await eventually(logged, what="the test delivered in the log")


async def test_a_stranger_a_paused_or_a_stream_subscription_gets_no_test(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        stream = await h.client.post("/v1/subscriptions", json={"channel": "stream"})
        refused = await h.client.post(f"/v1/subscriptions/{stream.json()['id']}/test")
        assert refused.status_code == 409

        inbox = (await h.client.post("/v1/subscriptions", json={"channel": "inbox"})).json()
        stranger = await h.client.post(
            f"/v1/subscriptions/{inbox['id']}/test", headers=auth(Role.VIEWER, "someone-else")
        )
        assert stranger.status_code == 404

        paused = await h.client.patch(f"/v1/subscriptions/{inbox['id']}", json={"active": False})
        assert paused.status_code == 200, paused.text
        assert (await h.client.post(f"/v1/subscriptions/{inbox['id']}/test")).status_code == 409
