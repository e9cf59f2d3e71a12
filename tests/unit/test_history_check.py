"""The whole-history checker of the fault runs finds what it is meant to find: copies, reordering,
losses, two notifications of one event, a projection that went back in time; and a seeded fault
schedule is the same schedule every time."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.history import History, Seen
from tests.support.schedule import BROKER, POSTGRES, draw
from tests.support.sink import Received
from tests.support.stream import STAGES_OF_LIFECYCLE, lifecycle_writes_for

pytestmark = pytest.mark.db_independent

P = "project-1"


def events_of(project: str) -> list[dict[str, Any]]:
    """The CloudEvents the lifecycle writes of `project` make, in commit order."""
    out: list[dict[str, Any]] = []
    for i, write in enumerate(lifecycle_writes_for(project)):
        for kind in write.events:
            data: dict[str, Any] = {"project_id": project}
            if kind == "sanpi.milestone.achieved.v1":
                data["kind"] = write.body["kind"]
            elif kind == "sanpi.project.stage_changed.v1":
                reason = {"milestones": "MILESTONE", "suspend": "SUSPENDED", "resume": "RESUMED"}
                data |= {"reason": reason[write.path], "to_stage": write.stage_after}
            else:
                data["period_key"] = write.body["period_key"]
            out.append({"id": f"{project}-e{len(out)}-w{i}", "type": kind, "data": data})
    return out


def history() -> History:
    return History({P: lifecycle_writes_for(P)})


def hook(event: dict[str, Any], webhook_id: str, status: int = 204) -> Received:
    return Received("/hook", {"webhook-id": webhook_id}, json.dumps(event).encode(), status, 0.0)


def test_a_clean_run_has_no_problem() -> None:
    events = events_of(P)
    check = history()
    check.topic(Seen.of(e) for e in events)
    check.sink(hook(e, f"msg_{e['id']}") for e in events)
    check.stream_log(events)
    check.stages({P: ["SIGNED", "SIGNED", *STAGES_OF_LIFECYCLE[1:]]}, STAGES_OF_LIFECYCLE)
    assert check.report.problems == []
    counts = check.report.counts
    assert check.expected_events == len(events) == 52
    assert counts["published"] == counts["delivered"] == 52
    assert counts["lost"] == counts["out_of_order"] == counts["duplicated"] == 0


def test_copies_on_the_topic_and_resends_with_the_same_webhook_id_are_counted_not_failed() -> None:
    events = events_of(P)
    check = history()
    check.topic(Seen.of(e) for e in [*events[:10], events[3], *events[10:]])
    check.sink(
        [*(hook(e, f"msg_{e['id']}") for e in events), hook(events[5], f"msg_{events[5]['id']}")]
    )
    assert check.report.problems == []
    assert check.report.counts["topic_copies"] == 1
    assert check.report.counts["resent"] == 1


def test_the_topic_out_of_commit_order_is_found() -> None:
    events = events_of(P)
    swapped = [*events[:4], events[5], events[4], *events[6:]]  # two reports of two writes
    check = history()
    check.topic(Seen.of(e) for e in swapped)
    assert check.report.counts["topic_out_of_order"] == 1
    assert any("out of commit order" in p for p in check.report.problems)


def test_the_webhook_receiver_out_of_order_lost_and_twice_are_found() -> None:
    events = events_of(P)
    check = history()
    check.topic(Seen.of(e) for e in events)
    arrivals = [
        *(hook(e, f"msg_{e['id']}") for e in events[:10]),
        hook(events[11], "msg_b"),
        hook(events[10], "msg_a"),
        hook(events[10], "msg_c"),  # the same event in a second notification
        *(hook(e, f"msg_{e['id']}") for e in events[12:-1]),  # the last one never came
    ]
    check.sink(arrivals)
    counts = check.report.counts
    assert (counts["out_of_order"], counts["duplicated"], counts["lost"]) == (1, 1, 1)
    problems = "\n".join(check.report.problems)
    assert "reported/2024-03-X1 after reported/2024-03-X2" in problems
    assert "webhook: one event in two notifications" in problems
    assert "webhook: events lost: project-1: 1 of 52" in problems


def test_a_failed_request_is_not_a_delivery() -> None:
    events = events_of(P)
    check = history()
    check.topic(Seen.of(e) for e in events)
    check.sink([hook(events[0], "msg_0", status=500), *(hook(e, e["id"]) for e in events[1:])])
    assert check.report.counts["lost"] == 1
    assert check.report.counts["sink_refused"] == 1


@pytest.mark.parametrize(
    ("observed", "regressions"),
    [
        (["SIGNED", "UNDER_CONSTRUCTION", "IN_PRODUCTION"], 0),  # samples may miss stages
        (["UNDER_CONSTRUCTION", "SUSPENDED", "UNDER_CONSTRUCTION"], 0),
        (["UNDER_CONSTRUCTION", "SUSPENDED", "UNDER_CONSTRUCTION", "SUSPENDED"], 1),
        (["SUSPENDED", "SIGNED"], 1),
        (["IN_PRODUCTION", "UNDER_CONSTRUCTION", "IN_PRODUCTION"], 1),
    ],
)
def test_a_stage_projection_that_went_back_in_time_is_found(
    observed: list[str], regressions: int
) -> None:
    check = history()
    check.stages({P: observed}, STAGES_OF_LIFECYCLE)
    assert check.report.counts["stage_regressions"] == regressions


def test_a_seed_gives_the_same_schedule_with_every_kind_of_fault() -> None:
    replicas = [f"{s}-{n}" for s in ("registry", "milestone", "notification") for n in (1, 2)]
    first = draw(7, writes=2000, replicas=replicas, faults=6)
    assert first == draw(7, writes=2000, replicas=replicas, faults=6)
    assert first != draw(8, writes=2000, replicas=replicas, faults=6)
    targets = [f.target for f in first]
    assert BROKER in targets
    assert POSTGRES in targets
    for service in ("registry", "milestone", "notification"):
        assert any(t.startswith(f"{service}-") for t in targets), targets
    starts = [f.at for f in first]
    assert starts == sorted(starts)
    assert starts[0] >= 100
    assert starts[-1] <= 1600
