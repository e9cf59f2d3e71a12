"""GET /v1/projects/{id}/forecast: the projected dates beside the plan, as of a day, in-process."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.support.milestone import milestone_service

PHOTO = {"uri": "https://evidence.example/site.jpg", "taken_at": "2023-08-01"}


async def test_the_forecast_shows_a_late_start_moving_production(tmp_path: Path) -> None:
    async with milestone_service(tmp_path, today=dt.date(2023, 8, 15)) as svc:
        await svc.register()  # planned start 2023-03-01, production 2024-06-30
        before = await svc.client.get("/v1/projects/p1/forecast", params={"as_of": "2023-02-01"})
        assert before.status_code == 200, before.text
        assert before.json()["stage"] == "SIGNED"
        assert [(i["target"], i["planned"], i["projected"]) for i in before.json()["items"]] == [
            ("STARTED", "2023-03-01", "2023-03-01")
        ]
        started = await svc.post(
            "p1/milestones", {"kind": "STARTED", "date": "2023-08-01", "evidence": [PHOTO]}
        )
        assert started.status_code == 201, started.text
        answer = (
            await svc.client.get("/v1/projects/p1/forecast", params={"as_of": "2023-08-15"})
        ).json()
        production = next(i for i in answer["items"] if i["target"] == "IN_PRODUCTION")
        # 487 days from start to production in the original plan, counted from 1 August.
        assert (production["planned"], production["projected"], production["slip_days"]) == (
            "2024-06-30",
            "2024-11-30",
            153,
        )
        # R18 says so while the date is ahead (yellow: 60 days or more).
        await svc.evaluate("2023-08-15")
        alerts = (await svc.client.get("/v1/alerts", params={"rule": "R18"})).json()["items"]
        assert [(a["severity"], a["metric_value"]) for a in alerts] == [("yellow", 153.0)]

        missing = await svc.client.get("/v1/projects/nope/forecast")
        assert missing.status_code == 404
        bad = await svc.client.get("/v1/projects/p1/forecast", params={"as_of": "2023-13-01"})
        assert bad.status_code == 422
        [problem] = bad.json()["errors"]
        # The same words as the registry's indicators (sanpi.kit.AsOfDay), in Chinese.
        assert problem["field"] == "query.as_of"
        assert problem["reason"].startswith("日期应为 YYYY-MM-DD"), problem
        assert "2023-13-01" in problem["reason"]
        outside = await svc.client.post("/v1/admin/evaluate", params={"as_of": "昨天"})
        assert outside.status_code == 422
        assert outside.json()["errors"][0]["reason"].startswith("日期应为 YYYY-MM-DD")
