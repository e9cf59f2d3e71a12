"""Flows through the running stack that several end-to-end tests start from."""

from __future__ import annotations

import httpx

from tests.conftest import Stack
from tests.support.waiting import eventually

PHOTO = {"uri": "https://evidence.example/site.jpg", "taken_at": "2023-03-01"}


async def started_behind_plan(
    http: httpx.AsyncClient, services: Stack, *, name: str, park: str
) -> str:
    """Registers a project, waits until the milestone service tracks it, starts it on 1 March
    2023 with an annual plan of 36,000 万元 and reports 5,000 done by the end of May: an
    evaluation as of 3 August 2023 finds it far behind (R04 red). Returns its id."""
    created = await http.post(
        f"{services.urls['registry']}/v1/projects",
        json={
            "name": name,
            "park": park,
            "total_investment": 150_000,
            "planned_start_date": "2023-03-01",
            "planned_production_date": "2024-06-30",
        },
    )
    assert created.status_code == 201, created.text
    project_id: str = created.json()["id"]
    project = f"{services.urls['milestone']}/v1/projects/{project_id}"

    async def known() -> bool:
        return (await http.get(f"{project}/timeline")).status_code == 200

    await eventually(known, what="the milestone service consumed project.registered")
    started = await http.post(
        f"{project}/milestones", json={"kind": "STARTED", "date": "2023-03-01", "evidence": [PHOTO]}
    )
    assert started.status_code == 201, started.text
    plan = await http.put(f"{project}/investment-plans/2023", json={"annual_plan": 36_000})
    assert plan.status_code == 200, plan.text
    behind = {"period_key": "2023-05-X3", "completed_investment_cum": 5_000}
    reported = await http.post(
        f"{project}/progress", json={**behind, "completed_investment_ytd": 5_000}
    )
    assert reported.status_code == 201, reported.text
    return project_id
