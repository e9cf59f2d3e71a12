"""GET /v1/project-summaries: the portal's 我的项目 list, a page of projects with each one's
colour, last report, next milestone and the 旬 report it owes, filtered every way the page does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sanpi.events import BatchType, CancelReason, ProjectCancelled, ProjectListed
from tests.support.milestone import Milestones, milestone_service, operator

D = dt.date


async def summaries(m: Milestones, **params: Any) -> dict[str, Any]:
    answer = await m.client.get("/v1/project-summaries", params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def names(page: dict[str, Any]) -> list[str]:
    return [item["name"] for item in page["items"]]


async def district(m: Milestones) -> None:
    """Three projects: a 梧桐 one that never started (R02 red by 2023-06-15), a 梧桐 one that
    started and reports, and a 石佛 one signed late enough to be green."""
    await m.register("late", name="A 迟迟未开工", park="梧桐", signed_date=D(2022, 12, 1))
    await m.register(
        "busy",
        name="B 在建项目",
        park="梧桐",
        signed_date=D(2023, 1, 28),
        planned_start_date=D(2023, 3, 1),
        planned_production_date=D(2024, 6, 30),
    )
    await m.register(
        "fresh",
        name="C 新签约",
        park="石佛",
        signed_date=D(2023, 6, 1),
        planned_start_date=D(2023, 9, 1),
        chain_tag="IOT",
    )
    await m.feed(
        ProjectListed(
            project_id="fresh", period=9, batch=BatchType.SIGN, listed_total_investment=150_000
        )
    )
    started = await m.post(
        "busy/milestones",
        {"kind": "STARTED", "date": "2023-03-01", "evidence": ["https://x/IMG_20230301.jpg"]},
    )
    assert started.status_code == 201, started.text
    report = await m.post(
        "busy/progress",
        {
            "period_key": "2023-06-X1",
            "completed_investment_cum": 12_000,
            "completed_investment_ytd": 9_000,
        },
    )
    assert report.status_code == 201, report.text
    await m.evaluate(D(2023, 6, 15))


async def test_each_project_shows_its_colour_last_report_and_what_it_owes(
    tmp_path: Path,
) -> None:
    async with milestone_service(tmp_path, today=D(2023, 6, 15)) as m:
        await district(m)
        page = await summaries(m)
        assert page["as_of"] == "2023-06-15"
        by_id = {item["project_id"]: item for item in page["items"]}
        assert names(page) == ["A 迟迟未开工", "B 在建项目", "C 新签约"]
        assert by_id["late"]["colour"] == "red"
        assert by_id["late"]["firing"]["red"] >= 1
        assert by_id["fresh"]["colour"] == "green"
        assert by_id["fresh"]["firing"] == {}
        assert by_id["fresh"]["periods"] == [9]

        busy = by_id["busy"]
        assert busy["stage"] == "UNDER_CONSTRUCTION"
        assert busy["last_report"]["period_key"] == "2023-06-X1"
        assert busy["last_report"]["completed_investment_cum"] == 12_000
        # On 2023-06-15 the last completed 旬 is June's first, which B reported: it owes the
        # current one, due 2 days after the 20th.
        assert busy["report_due"] == {
            "period_key": "2023-06-X2",
            "deadline": "2023-06-22",
            "overdue": False,
        }
        # A never reported: it owes June's first 旬 since the 12th.
        assert by_id["late"]["report_due"] == {
            "period_key": "2023-06-X1",
            "deadline": "2023-06-12",
            "overdue": True,
        }
        assert by_id["late"]["last_report"] is None
        # The earliest milestone not achieved: A's planned start, long past; B's production.
        assert by_id["late"]["next_milestone"]["kind"] == "STARTED"
        assert by_id["late"]["next_milestone"]["overdue"] is True
        assert busy["next_milestone"]["date"] >= "2023-06-15"


async def test_a_cancelled_project_owes_nothing(tmp_path: Path) -> None:
    async with milestone_service(tmp_path, today=D(2023, 6, 15)) as m:
        await m.register("gone", signed_date=D(2022, 12, 1))
        await m.feed(
            ProjectCancelled(
                project_id="gone",
                version=2,
                reason_code=CancelReason.INVESTOR_FUNDING,
                reason="企业撤资",
                effective_date=D(2023, 5, 1),
                cancelled_by="admin",
            )
        )
        (item,) = (await summaries(m))["items"]
        assert item["stage"] == "CANCELLED"
        assert item["next_milestone"] is None
        assert item["report_due"] is None


async def test_filters_combine_as_the_list_page_does(tmp_path: Path) -> None:
    async with milestone_service(tmp_path, today=D(2023, 6, 15)) as m:
        await district(m)
        assert names(await summaries(m, park="梧桐")) == ["A 迟迟未开工", "B 在建项目"]
        assert names(await summaries(m, park=["梧桐", "石佛"])) == [
            "A 迟迟未开工",
            "B 在建项目",
            "C 新签约",
        ]
        everyone = (await summaries(m))["items"]
        for colour in ("red", "orange", "yellow", "blue", "green"):
            expected = [p["name"] for p in everyone if p["colour"] == colour]
            assert names(await summaries(m, colour=colour)) == expected, colour
        assert "A 迟迟未开工" in names(await summaries(m, colour="red"))
        assert names(await summaries(m, colour="green", park="石佛")) == ["C 新签约"]
        assert names(await summaries(m, stage="UNDER_CONSTRUCTION")) == ["B 在建项目"]
        assert names(await summaries(m, period=9)) == ["C 新签约"]
        assert names(await summaries(m, period=7)) == []
        assert names(await summaries(m, chain_tag="IOT")) == ["C 新签约"]
        assert names(await summaries(m, q="在建")) == ["B 在建项目"]
        assert names(await summaries(m, ids=["fresh", "late"])) == ["A 迟迟未开工", "C 新签约"]
        assert names(await summaries(m, colour="red", park="石佛")) == []


async def test_pages_follow_the_cursor_to_the_end(tmp_path: Path) -> None:
    async with milestone_service(tmp_path, today=D(2023, 6, 15)) as m:
        await district(m)
        seen: list[str] = []
        cursor = None
        while True:
            page = await summaries(m, limit=2, **({"cursor": cursor} if cursor else {}))
            seen += names(page)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == ["A 迟迟未开工", "B 在建项目", "C 新签约"]


async def test_any_token_reads_and_bad_input_names_the_parameter(tmp_path: Path) -> None:
    async with milestone_service(tmp_path) as m:
        await m.register("p1")
        answer = await m.client.get(
            "/v1/project-summaries", headers=operator("石佛"), params={"park": "梧桐"}
        )
        assert answer.status_code == 200
        assert len(answer.json()["items"]) == 1
        bad = await m.client.get("/v1/project-summaries", params={"colour": "purple"})
        assert bad.status_code == 422
        assert "colour" in bad.text
        too_many = await m.client.get(
            "/v1/project-summaries", params={"ids": [str(i) for i in range(201)]}
        )
        assert too_many.status_code == 422
        cursor = await m.client.get("/v1/project-summaries", params={"cursor": "bm90IG9uZQ"})
        assert cursor.status_code == 422


async def test_the_traffic_lights_count_the_colours_the_summaries_show(tmp_path: Path) -> None:
    """The lights are one GROUP BY over projects and their worst firing alert: they count, park
    by park, exactly the colours each project's summary shows (cancelled projects aside)."""
    async with milestone_service(tmp_path, today=D(2023, 6, 15)) as m:
        await district(m)
        await m.register("more", name="D 双桥项目", park="双桥", signed_date=D(2023, 5, 1))
        await m.register("gone", name="E 已终止", park="石佛", signed_date=D(2022, 1, 1))
        await m.feed(
            ProjectCancelled(
                project_id="gone",
                version=2,
                reason_code=CancelReason.OTHER,
                reason="合并",
                effective_date=D(2023, 1, 1),
                cancelled_by="admin",
            )
        )
        await m.evaluate(D(2023, 6, 15))
        expected: dict[str, dict[str, int]] = {}
        for item in (await summaries(m, limit=100))["items"]:
            if item["stage"] == "CANCELLED":
                continue
            counts = expected.setdefault(item["park"], {})
            counts[item["colour"]] = counts.get(item["colour"], 0) + 1
        lights = (await m.client.get("/v1/traffic-lights")).json()["items"]
        assert [light["park"] for light in lights] == sorted(expected)
        for light in lights:
            shown = {colour: n for colour, n in light["counts"].items() if n}
            assert shown == expected[light["park"]], light["park"]
            assert light["projects"] == sum(expected[light["park"]].values())
        assert {light["park"]: light["overall"] for light in lights}["梧桐"] == "red"
