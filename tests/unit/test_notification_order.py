"""A webhook subscriber gets each project's events in the order they happened: a notification of a
project waits while an earlier one of the same project is still pending (a retry after a failure,
or in flight in another replica), other projects go on meanwhile, and a dead letter lets the
next one go."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sanpi.events import CloudEvent, ProjectStageChanged, Stage
from tests.support.notification import Harness, harness
from tests.support.sink import WebhookSink
from tests.support.waiting import eventually

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(tmp_path) as running:
        yield running


STAGES = [
    (Stage.SIGNED, Stage.UNDER_CONSTRUCTION, "MILESTONE"),
    (Stage.UNDER_CONSTRUCTION, Stage.SUSPENDED, "SUSPENDED"),
    (Stage.SUSPENDED, Stage.UNDER_CONSTRUCTION, "RESUMED"),
    (Stage.UNDER_CONSTRUCTION, Stage.IN_PRODUCTION, "MILESTONE"),
]


def changes(project_id: str) -> list[ProjectStageChanged]:
    return [
        ProjectStageChanged(
            project_id=project_id,
            from_stage=before,
            to_stage=after,
            effective_date=dt.date(2024, 1, 1 + i),
            reason=reason,
            changed_by="operator",
        )
        for i, (before, after, reason) in enumerate(STAGES)
    ]


def delivered(sink: WebhookSink, project_id: str) -> list[str]:
    """The event ids the receiver accepted about a project, in arrival order."""
    return [
        event["id"]
        for event in (json.loads(r.body) for r in sink.accepted())
        if event["subject"] == project_id
    ]


async def subscribe(h: Harness, sink: WebhookSink) -> None:
    made = await h.client.post("/v1/subscriptions", json={"channel": "webhook", "url": sink.url})
    assert made.status_code == 201, made.text


async def first_attempt_failed(h: Harness, sink: WebhookSink, event: CloudEvent) -> None:
    await eventually(lambda: len(sink.snapshot()) == 1, what=f"{event.id} tried once")
    assert sink.snapshot()[0].status == 500


async def test_a_projects_later_events_wait_for_the_retry_of_an_earlier_one(
    h: Harness, webhook_sink: WebhookSink
) -> None:
    sink = webhook_sink
    await subscribe(h, sink)
    sink.script.append(500)  # the first request fails; its retry is due on the service's clock
    first, *later = changes("p-1")
    sent = [await h.feed(first)]
    await first_attempt_failed(h, sink, sent[0])
    sent += [await h.feed(change) for change in later]
    # Another project is not held back by p-1's failing notification.
    other = await h.feed(changes("p-2")[0])
    await eventually(lambda: delivered(sink, "p-2") == [other.id], what="p-2 delivered")
    assert delivered(sink, "p-1") == [], "p-1's later events overtook its first"

    def all_of_p1() -> bool:
        h.clock.advance(dt.timedelta(seconds=1))  # the retry comes due
        return len(delivered(sink, "p-1")) == len(sent)

    await eventually(all_of_p1, what="p-1 delivered")
    assert delivered(sink, "p-1") == [e.id for e in sent]


async def test_a_dead_letter_lets_the_next_of_its_project_go(
    h: Harness, webhook_sink: WebhookSink
) -> None:
    sink = webhook_sink
    await subscribe(h, sink)
    sink.script.extend([500] * 4)  # every attempt the harness allows (delivery_max_attempts)
    first, second = changes("p-1")[:2]
    dead = await h.feed(first)
    await first_attempt_failed(h, sink, dead)
    after = await h.feed(second)

    def second_delivered() -> bool:
        h.clock.advance(dt.timedelta(seconds=1))
        return delivered(sink, "p-1") == [after.id]

    await eventually(second_delivered, what="the next one delivered")
    [letter] = await h.deliveries(status="DEAD")
    assert letter["event_ids"] == [dead.id]
    assert [r.status for r in sink.snapshot()] == [500, 500, 500, 500, 204]
