"""POST /v1/progress/batch in-process (no broker): each row checked as a single report is, the good
rows written together with their events, per-row errors in Chinese (English on request)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sanpi.kit import Role
from tests.support.apps import auth
from tests.support.milestone import Milestones, milestone_service, operator

PROJECTS = [f"p{i:02d}" for i in range(10)]


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Milestones]:
    async with milestone_service(tmp_path) as service:
        for pid in PROJECTS:
            await service.register(pid)
        await service.register("fy1", park="枫杨", name="枫杨新材料")
        yield service


def row(
    project_id: str, key: str = "2023-06-X2", cum: Any = 20_000, **extra: Any
) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "period_key": key,
        "completed_investment_cum": cum,
        "completed_investment_ytd": extra.pop("ytd", 5_000),
        **extra,
    }


async def batch(
    svc: Milestones, rows: list[Any], *, headers: dict[str, str] | None = None, **options: Any
) -> httpx.Response:
    return await svc.client.post(
        "/v1/progress/batch", json={"reports": rows, **options}, headers=headers or {}
    )


async def answer(svc: Milestones, rows: list[Any], **kwargs: Any) -> dict[str, Any]:
    response = await batch(svc, rows, **kwargs)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def stored(svc: Milestones, project_id: str) -> list[dict[str, Any]]:
    response = await svc.client.get(f"/v1/projects/{project_id}/progress")
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_ten_rows_one_bad_nine_accepted_the_bad_one_named_in_chinese(
    svc: Milestones,
) -> None:
    rows = [row(pid, cum=10_000 + i) for i, pid in enumerate(PROJECTS)]
    rows[6]["completed_investment_cum"] = "约3亿"
    body = await answer(svc, rows)
    assert (body["accepted"], body["refused"], body["duplicate"]) == (9, 1, 0)
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["accepted"] * 6 + ["refused"] + ["accepted"] * 3
    bad = body["results"][6]
    assert (bad["index"], bad["project_id"], bad["report"]) == (6, "p06", None)
    assert bad["errors"] == [
        {
            "field": "completed_investment_cum",
            "code": "input.integer",
            "message": '「累计完成投资」：应为整数万元，收到 "约3亿"',
        }
    ]
    good = body["results"][0]
    assert good["report"]["completed_investment_cum"] == 10_000
    assert good["report"]["period_key"] == "2023-06-X2"
    assert good["errors"] == []
    events = await svc.events("sanpi.progress.reported")
    assert sorted(e["data"]["project_id"] for e in events) == sorted(
        p for p in PROJECTS if p != "p06"
    )
    assert await stored(svc, "p06") == []
    assert [r["id"] for r in await stored(svc, "p00")] == [good["report"]["id"]]


async def test_messages_in_english_when_asked(svc: Milestones) -> None:
    rows = [row("p00", cum="约3亿"), row("p01", cum=200_000)]
    body = await answer(svc, rows, headers={"Accept-Language": "en-US,en;q=0.9,zh;q=0.5"})
    assert body["results"][0]["errors"][0]["message"].startswith("cumulative investment: ")
    assert "valid integer" in body["results"][0]["errors"][0]["message"]
    assert body["results"][1]["errors"] == [
        {
            "field": "completed_investment_cum",
            "code": "progress.above_total",
            "message": "cumulative investment: 200000 exceeds the total investment of 150000 (10k yuan)",
        }
    ]
    chinese = await answer(svc, [row("p01", cum=200_000)], headers={"Accept-Language": "zh-CN"})
    assert chinese["results"][0]["errors"][0]["message"] == (
        "「累计完成投资」：累计完成投资 200000 万元超过项目总投资 150000 万元"
    )


async def test_all_or_nothing_refuses_every_row_for_one_bad_row(svc: Milestones) -> None:
    rows = [row(pid) for pid in PROJECTS[:4]]
    rows[2]["completed_investment_ytd"] = 30_000  # above the cumulative
    body = await answer(svc, rows, all_or_nothing=True)
    assert (body["accepted"], body["refused"]) == (0, 4)
    assert body["results"][2]["errors"][0]["field"] == "completed_investment_ytd"
    assert body["results"][2]["errors"][0]["code"] == "progress.ytd_above_cum"
    for i in (0, 1, 3):
        assert body["results"][i]["status"] == "refused"
        assert body["results"][i]["errors"] == [
            {
                "field": "",
                "code": "batch.nothing_written",
                "message": "整批未写入（all_or_nothing）：第 3 条被拒绝",
            }
        ]
    assert await svc.events("sanpi.progress.reported") == []
    assert await stored(svc, "p00") == []
    rows[2]["completed_investment_ytd"] = 5_000
    fixed = await answer(svc, rows, all_or_nothing=True)
    assert (fixed["accepted"], fixed["refused"]) == (4, 0)


async def test_more_than_500_rows_is_a_422_naming_reports(svc: Milestones) -> None:
    rows = [row("p00", key=f"20{y:02d}-{m:02d}") for y in range(10, 60) for m in range(1, 13)]
    assert len(rows) == 600
    response = await batch(svc, rows[:501])
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["reports"]
    empty = await batch(svc, [])
    assert [e["field"] for e in empty.json()["errors"]] == ["reports"]
    assert await svc.events("sanpi.progress.reported") == []


async def test_another_parks_row_is_refused_alone(svc: Milestones) -> None:
    rows = [row("p00"), row("fy1"), row("p01"), row("nope")]
    body = await answer(svc, rows, headers=operator("梧桐"))
    assert [r["status"] for r in body["results"]] == ["accepted", "refused", "accepted", "refused"]
    assert body["results"][1]["errors"] == [
        {
            "field": "project_id",
            "code": "project.not_your_park",
            "message": "「项目」：无权修改园区「枫杨」的数据（可修改的园区：梧桐）",
        }
    ]
    assert body["results"][3]["errors"][0]["code"] == "project.unknown"
    assert [r["reported_by"] for r in await stored(svc, "p00")] == ["op-1"]
    assert await stored(svc, "fy1") == []
    viewer = await batch(svc, rows, headers=auth(Role.VIEWER))
    assert viewer.status_code == 403


async def test_a_resent_batch_is_duplicate_and_a_changed_figure_needs_correction(
    svc: Milestones,
) -> None:
    rows = [row("p00"), row("p01", key="2023-05-X3")]
    first = await answer(svc, rows)
    assert [r["status"] for r in first["results"]] == ["accepted", "late"]
    assert first["accepted"] == 2
    again = await answer(svc, rows)
    assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate"]
    assert (again["accepted"], again["refused"], again["duplicate"]) == (0, 0, 2)
    assert again["results"][0]["report"]["id"] == first["results"][0]["report"]["id"]
    assert len(await svc.events("sanpi.progress.reported")) == 2
    changed = [row("p00", cum=21_000), row("p01", key="2023-05-X3", cum=21_000, correction=True)]
    third = await answer(svc, changed)
    assert [r["status"] for r in third["results"]] == ["refused", "late"]
    assert third["results"][0]["errors"][0]["field"] == "period_key"
    assert third["results"][0]["errors"][0]["code"] == "progress.already_reported"
    assert third["results"][1]["report"]["id"] == first["results"][1]["report"]["id"]
    assert [r["completed_investment_cum"] for r in await stored(svc, "p01")] == [21_000]


async def test_rows_of_one_project_are_checked_against_the_rows_before_them(
    svc: Milestones,
) -> None:
    earlier = row("p00", key="2023-05-X1", cum=10_000)
    del earlier["project_id"]
    assert (await svc.post("p00/progress", earlier)).status_code == 201
    rows = [
        row("p00", key="2023-06-X2", cum=30_000),
        row("p00", key="2023-05-X3", cum=20_000),
        row("p00", key="2023-05-X2", cum=25_000),  # above the later 20000 of this batch
        row("p00", key="2023-06-X2", cum=31_000, correction=True),  # the same period again
        row("p00", key="2023-04-X1", cum=9_000),
    ]
    body = await answer(svc, rows)
    assert [r["status"] for r in body["results"]] == [
        "accepted",
        "late",
        "refused",
        "refused",
        "late",
    ]
    assert body["results"][2]["errors"][0]["code"] == "progress.cum_falls"
    assert body["results"][3]["errors"][0] == {
        "field": "period_key",
        "code": "batch.same_period",
        "message": "「填报期」：本批第 1 条已经填报了这个项目的 2023-06-X2",
    }
    keys = sorted(r["period_key"] for r in await stored(svc, "p00"))
    assert keys == ["2023-04-X1", "2023-05-X1", "2023-05-X3", "2023-06-X2"]


async def test_a_row_that_is_not_an_object_or_lacks_fields_is_refused_alone(
    svc: Milestones,
) -> None:
    rows: list[Any] = [
        "p00",
        {"period_key": "2023-06-X1"},
        row("p01", key="2023-13-X1"),
        row("p02", physical_progress_pct=120, surprise=1),
        row("p03"),
    ]
    body = await answer(svc, rows)
    assert [r["status"] for r in body["results"]] == ["refused"] * 4 + ["accepted"]
    assert body["results"][0]["errors"][0]["code"] == "batch.not_an_object"
    missing = {e["field"]: e["message"] for e in body["results"][1]["errors"]}
    assert missing == {
        "project_id": "「项目」：必须填写",
        "completed_investment_cum": "「累计完成投资」：必须填写",
        "completed_investment_ytd": "「本年完成投资」：必须填写",
    }
    assert body["results"][2]["errors"][0]["code"] == "progress.period_invalid"
    assert '收到 "2023-13-X1"' in body["results"][2]["errors"][0]["message"]
    by_field = {e["field"]: e["message"] for e in body["results"][3]["errors"]}
    assert by_field == {
        "physical_progress_pct": "「形象进度」：不能大于 100%",
        "surprise": "「surprise」：不认识的字段",
    }


async def test_a_batch_publishes_what_single_reports_publish(svc: Milestones) -> None:
    """The same three reports, batched for p00–p02 and posted one by one for p03–p05 (registered
    alike): the same events, alerts included, but for the project ids."""
    bodies = [
        {"period_key": "2023-06-X2", "completed_investment_cum": 20_000,
         "completed_investment_ytd": 5_000, "physical_progress_pct": 20.5},
        {"period_key": "2023-05-X3", "completed_investment_cum": 15_000,
         "completed_investment_ytd": 5_000, "funds_arrived_cum": 9_000},
        {"period_key": "2023-05", "completed_investment_cum": 15_000,
         "completed_investment_ytd": 5_000, "narrative": "主体封顶"},
    ]  # fmt: skip
    batched, single = ["p00", "p01", "p02"], ["p03", "p04", "p05"]
    await answer(svc, [{"project_id": pid, **b} for pid, b in zip(batched, bodies, strict=True)])
    for pid, body in zip(single, bodies, strict=True):
        response = await svc.post(f"{pid}/progress", body)
        assert response.status_code == 201, response.text
    # Ids and instants differ; the rest must be the same.
    varying = ("report_id", "evaluation_id", "first_raised_at", "resolved_at")

    def comparable(projects: list[str]) -> list[tuple[str, str]]:
        out = []
        for e in events:
            pid = e["data"].get("project_id")
            if pid not in projects:
                continue
            data = {k: v for k, v in e["data"].items() if k not in varying}
            text = json.dumps(data, sort_keys=True, ensure_ascii=False)
            out.append((e["type"], text.replace(pid, f"#{projects.index(pid)}")))
        return sorted(out)

    events = await svc.events()
    assert comparable(batched) == comparable(single)
    kinds = {t for t, _ in comparable(batched)}
    assert {"sanpi.progress.reported.v1", "sanpi.alert.raised.v1"} <= kinds


async def test_the_first_reports_of_a_project_in_one_batch_see_each_other(
    svc: Milestones,
) -> None:
    """A project without any report yet, reported twice in one batch: the later period may not
    fall below the earlier one of the same batch."""
    rows = [
        row("p05", key="2023-05-X3", cum=20_000),
        row("p05", key="2023-06-X1", cum=18_000),  # below the 20000 of the row before it
        row("p05", key="2023-05-X3", cum=20_000),  # the same period again
    ]
    body = await answer(svc, rows)
    assert [r["status"] for r in body["results"]] == ["late", "refused", "refused"]
    assert body["results"][1]["errors"][0]["code"] == "progress.cum_falls"
    assert body["results"][2]["errors"][0]["code"] == "batch.same_period"
    assert [r["period_key"] for r in await stored(svc, "p05")] == ["2023-05-X3"]


async def test_a_batch_retried_with_its_idempotency_key_gets_the_first_answer(
    svc: Milestones,
) -> None:
    rows = [row("p00"), row("p01", cum="x")]
    key = {"Idempotency-Key": "xun-2023-06-X2-wutong"}
    first = await batch(svc, rows, headers=key)
    again = await batch(svc, rows, headers=key)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert len(await svc.events("sanpi.progress.reported")) == 1
    other = await batch(svc, [row("p02")], headers=key)
    assert other.status_code == 422
    assert [e["field"] for e in other.json()["errors"]] == ["header.Idempotency-Key"]
