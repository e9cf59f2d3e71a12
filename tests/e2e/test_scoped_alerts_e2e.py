"""R15 over the real broker: the registry sets a park's 签约额 target (target.set on
sanpi.projects), the park's signings are behind 序时进度, the milestone service's full pass raises
R15 for the park with the registry's own attainment figure, and a webhook subscriber of that park
receives it, signed; a target of 0 resolves it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from tests.conftest import Stack
from tests.support.sink import WebhookSink
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

# No other end-to-end test registers projects in 枫杨 (the demo may: the figures below are read
# from the registry, not assumed). 3 August 2023 is day 215: 序时进度 58.9 %.
PARK = "枫杨"
AS_OF = "2023-08-03"
KEY = f"R15:{PARK}:SIGN_AMOUNT"


@pytest.fixture
async def http(services: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(headers=services.headers(), timeout=10) as client:
        yield client


async def set_target(http: httpx.AsyncClient, services: Stack, value: int) -> None:
    response = await http.post(
        f"{services.urls['registry']}/v1/targets",
        json={"year": 2023, "scope": PARK, "kind": "SIGN_AMOUNT", "value": value},
    )
    assert response.status_code in (200, 201), response.text


async def sign_amount(http: httpx.AsyncClient, services: Stack) -> dict[str, Any]:
    """The registry's 签约额 attainment of the park as of the day (its /v1/indicators)."""
    response = await http.get(
        f"{services.urls['registry']}/v1/indicators",
        params={"park": PARK, "year": 2023, "as_of": AS_OF},
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = next(
        t for t in response.json()["targets"] if t["kind"] == "SIGN_AMOUNT"
    )
    return found


async def firing(http: httpx.AsyncClient, services: Stack) -> dict[str, Any] | None:
    """Evaluates as of the day (pinned, written, notified) and returns the park's R15 alert."""
    milestone = services.urls["milestone"]
    evaluated = await http.post(
        f"{milestone}/v1/admin/evaluate", params={"as_of": AS_OF, "pin": "true"}
    )
    assert evaluated.status_code == 200, evaluated.text
    listed = await http.get(
        f"{milestone}/v1/alerts", params={"rule": "R15", "park": PARK, "state": "FIRING"}
    )
    return next((a for a in listed.json()["items"] if a["alert_key"] == KEY), None)


async def test_a_park_behind_its_sign_amount_pace_raises_r15_for_its_subscriber(
    http: httpx.AsyncClient, services: Stack, webhook_sink: WebhookSink
) -> None:
    subscribed = await http.post(
        f"{services.urls['notification']}/v1/subscriptions",
        json={
            "channel": "webhook",
            "url": webhook_sink.url,
            "event_types": ["sanpi.alert.*"],
            "parks": [PARK],
        },
    )
    assert subscribed.status_code == 201, subscribed.text
    secret = subscribed.json()["secret"]

    mine = []
    for n, amount in enumerate((30_000, 50_000)):
        created = await http.post(
            f"{services.urls['registry']}/v1/projects",
            json={
                "name": f"枫杨签约项目{n}-{uuid.uuid4().hex[:4]}",
                "park": PARK,
                "total_investment": amount * 2,
                "contract_amount": amount,
                "signed_date": "2023-02-01",
                "is_manufacturing": True,
            },
        )
        assert created.status_code == 201, created.text
        mine.append(created.json()["id"])
    for project_id in mine:

        async def known(pid: str = project_id) -> bool:
            timeline = f"{services.urls['milestone']}/v1/projects/{pid}/timeline"
            return (await http.get(timeline)).status_code == 200

        await eventually(known, what=f"the milestone service tracks {project_id}")

    # Whatever else the park signed in 2023: a target 4 times it is 25 % attained, 33.9 points
    # behind 序时进度: red.
    await set_target(http, services, 1)
    actual = (await sign_amount(http, services))["actual"]
    assert actual >= 80_000
    await set_target(http, services, actual * 4)
    registry = await sign_amount(http, services)
    assert (registry["attainment_pct"], registry["time_progress_pct"]) == (25.0, 58.9)
    try:

        async def raised_red() -> dict[str, Any] | None:
            # Until the milestone service has consumed the last target.set.
            alert = await firing(http, services)
            return alert if alert is not None and alert["severity"] == "red" else None

        alert = await eventually(raised_red, what="R15 red for the park")
        # The alert quotes the registry's figure on the same ledger (one definition, in libs).
        assert (alert["metric_value"], alert["threshold"]) == (registry["attainment_pct"], 38.9)
        assert (alert["park"], alert["project_id"]) == (PARK, None)
        assert "落后 33.9 个百分点" in alert["message"]

        def delivered() -> list[dict[str, Any]]:
            hits = []
            for request in webhook_sink.accepted():
                event = Webhook(secret).verify(request.body, request.headers)
                if event["data"]["alert_key"] == KEY:
                    hits.append(event)
            return hits

        [event] = await eventually(delivered, what="the park's subscriber received R15")
        assert event["type"] == "sanpi.alert.raised.v1"
        data = event["data"]
        assert (data["scope"], data["park"], data["severity"], data["rule"]) == (
            "park",
            PARK,
            "red",
            "R15",
        )

        # Without a target (0) the park is not behind anything: the alert resolves.
        await set_target(http, services, 0)

        async def resolved() -> bool:
            return await firing(http, services) is None

        await eventually(resolved, what="R15 resolved once the target is gone")
        listed = await http.get(
            f"{services.urls['milestone']}/v1/alerts", params={"rule": "R15", "park": PARK}
        )
        episodes = [a for a in listed.json()["items"] if a["alert_key"] == KEY]
        assert [a["state"] for a in episodes][-1] == "RESOLVED"
    finally:
        await set_target(http, services, 0)
        await http.delete(f"{services.urls['milestone']}/v1/admin/evaluate/pin")
