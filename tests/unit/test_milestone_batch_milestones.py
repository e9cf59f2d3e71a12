"""Milestones in POST /v1/progress/batch in-process (no broker): each milestone row checked as
POST /v1/projects/{id}/milestones checks one, against the stage the batch's earlier rows moved
the project to; refused rows named in Chinese; all_or_nothing across reports and milestones."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.milestone import Milestones, milestone_service, operator

PROJECTS = [f"p{i:02d}" for i in range(6)]
EVIDENCE = ["https://files.example/site-2023-06-01.jpg"]


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Milestones]:
    async with milestone_service(tmp_path) as service:
        for pid in PROJECTS:
            await service.register(pid)
        await service.register("fy1", park="枫杨", name="枫杨新材料")
        yield service


def started(project_id: str, date: str = "2023-06-01", **extra: Any) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "kind": "STARTED",
        "date": date,
        "evidence": EVIDENCE,
        **extra,
    }


def report(project_id: str, cum: int = 20_000) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "period_key": "2023-06-X1",
        "completed_investment_cum": cum,
        "completed_investment_ytd": 5_000,
    }


async def post(svc: Milestones, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    response = await svc.client.post("/v1/progress/batch", json=body, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def stage(svc: Milestones, project_id: str) -> str:
    response = await svc.client.get("/v1/project-summaries", params={"ids": project_id})
    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    value: str = item["stage"]
    return value


async def test_each_milestone_row_is_checked_alone_and_named_in_chinese(svc: Milestones) -> None:
    rows = [
        started("p00"),
        # 入库纳统 needs a started project: p00 started in the row before it.
        {"project_id": "p00", "kind": "IN_STATISTICS", "date": "2023-06-10"},
        {"project_id": "p01", "kind": "IN_STATISTICS", "date": "2023-06-10"},
        {"project_id": "p02", "kind": "STARTED", "date": "2023-06-01", "evidence": ["a.jpg"]},
        {"project_id": "p03", "kind": "TOPPED_OUT", "date": "2023-07-01"},
        {"project_id": "nobody", "kind": "TOPPED_OUT", "date": "2023-06-01"},
        {"project_id": "p04", "kind": "LAUNCHED", "date": "2023-06-01"},
        "不是对象",
    ]
    body = await post(svc, {"milestones": rows})
    assert body["results"] == []
    outcomes = body["milestones"]
    assert [m["status"] for m in outcomes] == ["accepted"] * 2 + ["refused"] * 6
    assert (body["accepted"], body["refused"], body["duplicate"]) == (2, 6, 0)
    assert outcomes[0]["milestone"]["stage"] == "UNDER_CONSTRUCTION"
    assert outcomes[1]["milestone"]["kind"] == "IN_STATISTICS"
    assert [(m["index"], m["project_id"]) for m in outcomes[:7]] == [
        (i, pid) for i, pid in enumerate(["p00", "p00", "p01", "p02", "p03", "nobody", "p04"])
    ]
    errors = [m["errors"] for m in outcomes[2:]]
    assert [[(e["field"], e["code"]) for e in found] for found in errors] == [
        [("kind", "milestone.statistics_before_start")],
        [("kind", "milestone.needs_evidence")],
        [("date", "date.after_today")],
        [("project_id", "project.unknown")],
        [("kind", "input.one_of")],
        [("", "batch.not_an_object")],
    ]
    assert errors[0][0]["message"] == "「里程碑」：入库纳统只能在开工后登记，项目尚未开工（SIGNED）"
    assert errors[1][0]["message"].startswith("「里程碑」：STARTED 需要至少一份注明日期的佐证材料")
    assert errors[2][0]["message"] == "「日期」：晚于今天（2023-06-15）"
    assert all(m["milestone"] is None for m in outcomes[2:])
    assert await stage(svc, "p00") == "UNDER_CONSTRUCTION"
    assert await stage(svc, "p01") == "SIGNED"
    achieved = await svc.events("sanpi.milestone.achieved")
    assert [(e["data"]["project_id"], e["data"]["kind"]) for e in achieved] == [
        ("p00", "STARTED"),
        ("p00", "IN_STATISTICS"),
    ]


async def test_messages_in_english_when_asked(svc: Milestones) -> None:
    rows = [{"project_id": "p01", "kind": "IN_STATISTICS", "date": "2023-06-10"}]
    body = await post(svc, {"milestones": rows}, **{"Accept-Language": "en"})
    [error] = body["milestones"][0]["errors"]
    assert error["message"] == (
        "milestone kind: entering the investment statistics (IN_STATISTICS) can be recorded "
        "only once the project has started; it has not (SIGNED)"
    )


async def test_a_batch_records_what_single_milestones_record(svc: Milestones) -> None:
    """The same milestones batched for p00 and posted one by one for p01: the same answers
    (but for ids and instants) and the same events."""
    bodies: list[dict[str, Any]] = [
        {"kind": "STARTED", "date": "2023-06-01", "evidence": EVIDENCE},
        {"kind": "TOPPED_OUT", "date": "2023-06-12"},
        {"kind": "CUSTOM", "label": "主体封顶", "date": "2023-06-13"},
    ]
    batched = await post(svc, {"milestones": [{"project_id": "p00", **b} for b in bodies]})
    single = []
    for b in bodies:
        response = await svc.post("p01/milestones", b)
        assert response.status_code == 201, response.text
        single.append(response.json())
    varying = ("id", "milestone_id", "recorded_at", "event_id", "project_id")

    def same(item: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if k not in varying}

    assert [same(m["milestone"]) for m in batched["milestones"]] == [same(s) for s in single]

    def events_of(project_id: str) -> list[str]:
        return sorted(
            e["type"] + json.dumps(same(e["data"]), sort_keys=True, ensure_ascii=False)
            for e in events
            if e["data"].get("project_id") == project_id
            and e["type"].startswith(("sanpi.milestone.", "sanpi.project.stage_changed"))
        )

    events = await svc.events()
    assert events_of("p00") == events_of("p01")
    kinds = sorted(e.split("{")[0] for e in events_of("p00"))
    assert kinds.count("sanpi.milestone.achieved.v1") == 3
    assert kinds.count("sanpi.project.stage_changed.v1") == 1


async def test_a_resent_row_is_duplicate_another_date_or_a_twin_row_is_refused(
    svc: Milestones,
) -> None:
    first = await post(svc, {"milestones": [started("p00")]})
    assert first["milestones"][0]["status"] == "accepted"
    again = await post(
        svc,
        {
            "milestones": [
                started("p00"),  # resent as it was
                {"project_id": "p01", "kind": "TOPPED_OUT", "date": "2023-06-02"},
                {"project_id": "p01", "kind": "TOPPED_OUT", "date": "2023-06-02"},
            ]
        },
    )
    assert [m["status"] for m in again["milestones"]] == ["duplicate", "accepted", "refused"]
    assert again["milestones"][0]["milestone"]["id"] == first["milestones"][0]["milestone"]["id"]
    twin = again["milestones"][2]["errors"]
    assert [(e["code"], e["message"]) for e in twin] == [
        ("batch.same_milestone", "「里程碑」：本批第 2 条已经登记了这个项目的 TOPPED_OUT")
    ]
    moved = await post(
        svc, {"milestones": [{"project_id": "p01", "kind": "TOPPED_OUT", "date": "2023-06-03"}]}
    )
    [error] = moved["milestones"][0]["errors"]
    assert (error["field"], error["code"]) == ("date", "milestone.already_achieved")
    assert error["message"] == "「日期」：TOPPED_OUT 已于 2023-06-02 达成"
    achieved = await svc.events("sanpi.milestone.achieved")
    assert len(achieved) == 2


async def test_another_parks_milestone_is_refused_alone(svc: Milestones) -> None:
    rows = [started("p00"), started("fy1")]
    body = await post(svc, {"milestones": rows}, **operator("梧桐"))
    assert [m["status"] for m in body["milestones"]] == ["accepted", "refused"]
    [error] = body["milestones"][1]["errors"]
    assert (error["field"], error["code"]) == ("project_id", "project.not_your_park")
    assert await stage(svc, "fy1") == "SIGNED"


async def test_reports_and_milestones_in_one_batch_all_or_nothing(svc: Milestones) -> None:
    rows = {
        "reports": [report("p00"), report("p01")],
        "milestones": [
            started("p00"),
            {"project_id": "p01", "kind": "STARTED", "date": "2023-06-01"},
        ],
        "all_or_nothing": True,
    }
    body = await post(svc, rows)
    assert [r["status"] for r in body["results"]] == ["refused", "refused"]
    assert [m["status"] for m in body["milestones"]] == ["refused", "refused"]
    nothing = body["results"][0]["errors"][0]
    assert nothing["code"] == "batch.nothing_written_of"
    assert nothing["message"] == "整批未写入（all_or_nothing）：里程碑第 2 条被拒绝"
    assert body["milestones"][0]["errors"] == [nothing]
    assert await svc.events("sanpi.progress.reported") == []
    assert await svc.events("sanpi.milestone.achieved") == []
    assert await stage(svc, "p00") == "SIGNED"
    rows["milestones"] = [started("p00"), started("p01")]
    body = await post(svc, rows)
    assert (body["accepted"], body["refused"]) == (4, 0)
    assert len(await svc.events("sanpi.progress.reported")) == 2
    assert [await stage(svc, p) for p in ("p00", "p01")] == ["UNDER_CONSTRUCTION"] * 2


async def test_at_most_500_rows_in_all_and_at_least_one(svc: Milestones) -> None:
    many = {
        "reports": [report("p00")] * 300,
        "milestones": [started("p00")] * 201,
    }
    response = await svc.client.post("/v1/progress/batch", json=many)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "reports"
    empty = await svc.client.post("/v1/progress/batch", json={"milestones": []})
    assert empty.status_code == 422, empty.text
    assert [e["field"] for e in empty.json()["errors"]] == ["reports"]
    assert await svc.events("sanpi.milestone.achieved") == []
