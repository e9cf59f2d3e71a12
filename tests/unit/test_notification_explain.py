"""GET /v1/explain in-process: why a subscription was (not) notified of an event, judged by the
dispatcher's own rules, in Chinese (English on request), with the deliveries and attempts."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import delete

from sanpi.events import Severity
from sanpi.kit import Role
from sanpi.notification.routing.filters import Filter, Routing, checks, matches
from sanpi.notification.stream.models import StreamEvent
from sanpi.notification.subscriptions.service import FILTER_FIELDS
from tests.support.apps import auth
from tests.support.notification import Harness, alert, harness
from tests.support.sink import WebhookSink
from tests.support.waiting import eventually


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(tmp_path) as running:  # 2023-09-01 10:00 in Shanghai
        yield running


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    receiver = WebhookSink().start()
    yield receiver
    receiver.stop()


async def subscribe(h: Harness, **body: Any) -> str:
    response = await h.client.post("/v1/subscriptions", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def explain(
    h: Harness, subscription: str, event: str, lang: str | None = None
) -> httpx.Response:
    headers = {"Accept-Language": lang} if lang else {}
    return await h.client.get(
        "/v1/explain", params={"subscription": subscription, "event": event}, headers=headers
    )


def steps(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["step"]: s for s in answer["steps"]}


async def test_a_filtered_out_event_names_each_failing_condition(h: Harness) -> None:
    sub = await subscribe(h, channel="inbox", parks=["石佛"], min_severity="orange")
    # Made before the event too: a subscription made later hears it only within the clock skew
    # allowed (5 s), which a loaded machine's steps below can outlast (before_subscription).
    other = await subscribe(h, channel="inbox", parks=["梧桐"], min_severity="orange")
    event = await h.feed(alert(Severity.YELLOW, park="梧桐"))
    assert await h.deliveries(subscription=sub) == []  # the dispatcher queued nothing
    assert await h.deliveries(subscription=other) == []

    response = await explain(h, sub, event.id)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["verdict"] == "filtered_out"
    assert answer["deliveries"] == []
    assert answer["event"]["stored"] is True
    assert answer["event"]["routing"]["park"] == "梧桐"
    by_step = steps(answer)
    assert by_step["filter.parks"]["outcome"] == "failed"
    assert by_step["filter.parks"]["reason"] == "园区：要求 石佛，事件为 梧桐 → 不符"
    assert by_step["filter.parks"]["wanted"] == ["石佛"]
    assert by_step["filter.parks"]["actual"] == "梧桐"
    assert by_step["filter.min_severity"]["reason"] == "颜色：要求 橙色及以上，事件为 黄色 → 不符"
    assert by_step["filter.chain_tags"]["outcome"] == "not_set"
    assert by_step["after_subscription"]["outcome"] == "passed"
    # The decision stopped at the filters: nothing about sending.
    assert "quiet_hours" not in by_step
    assert "delivery" not in by_step
    assert answer["summary"] == (
        "没有通知：颜色：要求 橙色及以上，事件为 黄色 → 不符；园区：要求 石佛，事件为 梧桐 → 不符"
    )

    english = (await explain(h, sub, event.id, "en")).json()
    assert steps(english)["filter.parks"]["reason"] == (
        "park: wanted 石佛, the event has 梧桐 → does not match"
    )
    assert english["summary"].startswith("not notified: colour: wanted ORANGE or above")

    # One condition that passes, one that fails: only the failing one is the reason.
    answer = (await explain(h, other, event.id)).json()
    assert answer["verdict"] == "filtered_out"
    assert steps(answer)["filter.parks"]["outcome"] == "passed"
    assert answer["summary"] == "没有通知：颜色：要求 橙色及以上，事件为 黄色 → 不符"


async def test_an_event_held_by_quiet_hours_says_until_when(h: Harness) -> None:
    # 10:00 in Shanghai is inside 09:00-11:00: an orange alert waits; a red one does not.
    sub = await subscribe(h, channel="inbox", quiet_hours={"start": "09:00", "end": "11:00"})
    orange = await h.feed(alert(Severity.ORANGE))
    red = await h.feed(alert(Severity.RED))

    answer = (await explain(h, sub, orange.id)).json()
    assert answer["verdict"] == "held"
    quiet = steps(answer)["quiet_hours"]
    assert quiet["outcome"] == "held"
    assert quiet["wanted"] == "09:00-11:00"
    assert quiet["actual"] == "2023-09-01T03:00:00Z"  # 11:00 in Shanghai
    assert "消息压到 2023-09-01 11:00（北京时间）才发" in quiet["reason"]
    assert steps(answer)["grouping"]["outcome"] == "info"
    [delivery] = answer["deliveries"]
    assert delivery["held_until"] == "2023-09-01T03:00:00Z"
    assert delivery["attempt_log"] == []
    assert answer["summary"] == ("已排队，在免打扰时段中：2023-09-01 11:00（北京时间）发出")
    english = (await explain(h, sub, orange.id, "en-US,en;q=0.9")).json()
    assert "held until 2023-09-01 11:00 Asia/Shanghai" in steps(english)["quiet_hours"]["reason"]

    urgent = (await explain(h, sub, red.id)).json()
    assert steps(urgent)["urgent"]["outcome"] == "info"
    assert steps(urgent)["quiet_hours"]["outcome"] == "passed"
    assert urgent["verdict"] in {"notified", "pending"}  # the inbox takes it at once

    # At 11:00 the held one leaves: the same question now answers "notified".
    h.clock.advance(dt.timedelta(hours=1))

    async def notified() -> bool:
        return bool((await explain(h, sub, orange.id)).json()["verdict"] == "notified")

    await eventually(notified, what="the held notification delivered after quiet hours")


async def test_a_delivered_event_lists_its_attempts_and_answers(
    h: Harness, sink: WebhookSink
) -> None:
    sink.script.extend([503])  # the first attempt fails, the retry succeeds
    sub = await subscribe(h, channel="webhook", url=sink.url)
    event = await h.feed(alert(Severity.RED))

    async def answer() -> dict[str, Any] | None:
        h.clock.advance(dt.timedelta(seconds=1))  # the retry is due on the service's clock
        found: dict[str, Any] = (await explain(h, sub, event.id)).json()
        return found if found["verdict"] == "notified" else None

    found = await eventually(answer, what="delivered on the second attempt")
    [delivery] = found["deliveries"]
    assert [a["status_code"] for a in delivery["attempt_log"]] == [503, 204]
    assert delivery["attempt_log"][0]["error"]
    assert delivery["status"] == "DELIVERED"
    assert delivery["event_ids"] == [event.id]
    assert "第 2 次尝试成功" in delivery["reason"]
    assert steps(found)["delivery"]["outcome"] == "passed"
    assert found["summary"].startswith("已送达：")
    assert all(s["outcome"] in {"passed", "not_set", "info"} for s in found["steps"]), found[
        "steps"
    ]


async def test_a_subscription_changed_since_says_it_was_queued_under_the_old_conditions(
    h: Harness,
) -> None:
    sub = await subscribe(h, channel="inbox", parks=["梧桐"])
    event = await h.feed(alert(Severity.RED, park="梧桐"))
    changed = await h.client.patch(f"/v1/subscriptions/{sub}", json={"parks": ["石佛"]})
    assert changed.status_code == 200, changed.text

    answer = (await explain(h, sub, event.id)).json()
    assert answer["verdict"] in {"notified", "pending"}  # what happened stays what happened
    assert steps(answer)["filter.parks"]["outcome"] == "failed"
    note = steps(answer)["conditions_changed"]
    assert note["wanted"] == 2
    assert "订阅此后改过（现为第 2 版" in note["reason"]


async def test_an_event_the_log_no_longer_holds_is_explained_from_its_delivery(
    h: Harness,
) -> None:
    sub = await subscribe(h, channel="inbox")
    event = await h.feed(alert(Severity.ORANGE))
    async with h.runtime.db.transaction() as uow:
        await uow.session.exec(delete(StreamEvent))  # the stream log's retention pruned it

    answer = (await explain(h, sub, event.id)).json()
    assert answer["event"]["stored"] is False
    assert answer["event"]["routing"] is None
    first = answer["steps"][0]
    assert first["step"] == "event"
    assert "已不在事件日志中" in first["reason"]
    assert not any(s["step"].startswith("filter.") for s in answer["steps"])
    assert [d["event_ids"] for d in answer["deliveries"]] == [[event.id]]


async def test_unknown_subscription_or_event_is_a_404_naming_it(h: Harness) -> None:
    sub = await subscribe(h, channel="inbox")
    missing = await explain(h, "no-such-sub", "e1")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["detail"] == "订阅 no-such-sub 不存在（或不是你的订阅）"
    unknown = await explain(h, sub, "no-such-event")
    assert unknown.status_code == 404
    assert unknown.json()["detail"].startswith("事件 no-such-event 不在通知服务中")
    english = await explain(h, sub, "no-such-event", "en")
    assert english.json()["detail"].startswith("event no-such-event is not held")
    # Another person's subscription is not confirmed to exist.
    stranger = await h.client.get(
        "/v1/explain",
        params={"subscription": sub, "event": "x"},
        headers=auth(Role.VIEWER, subject="someone-else"),
    )
    assert stranger.status_code == 404
    assert (await h.client.get("/v1/explain", params={"event": "x"})).status_code == 422


FILTERS = [
    Filter(),
    Filter(event_types=("sanpi.alert.*",)),
    Filter(min_severity=Severity.ORANGE),
    Filter(parks=frozenset({"梧桐"}), periods=frozenset({7})),
    Filter(min_investment=100_000, chain_tags=frozenset({"IOT"})),
    Filter(project_ids=frozenset({"p1"}), categories=frozenset({"ADVANCED_MANUFACTURING"})),
]
EVENTS = [
    Routing(event_type="sanpi.project.registered.v1"),
    Routing(
        event_type="sanpi.alert.raised.v1",
        severity=Severity.RED,
        park="梧桐",
        periods=frozenset({7}),
        total_investment=150_000,
        chain_tag="IOT",
        project_id="p1",
        category="ADVANCED_MANUFACTURING",
    ),
    Routing(event_type="sanpi.alert.raised.v1", severity=Severity.YELLOW, park="双桥"),
]


def test_the_reasons_are_the_dispatchers_own_decision() -> None:
    for wanted, event in itertools.product(FILTERS, EVENTS):
        found = checks(wanted, event)
        # Every filter field of a subscription is a condition of the one table.
        assert [c.condition for c in found] == list(FILTER_FIELDS)
        assert matches(wanted, event) == all(c.passed is not False for c in found)
