"""Input the services used to answer 500 or leave undocumented (found by the schemathesis run in
test_hostile_input.py), each pinned: refused as 422 problem+json naming the field."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from sanpi.milestone.app import create_app as milestone_app
from sanpi.milestone.settings import MilestoneSettings
from sanpi.notification.app import create_app as notification_app
from sanpi.registry.app import create_app as registry_app
from sanpi.registry.settings import RegistrySettings
from tests.support.milestone import milestone_service
from tests.support.notification import harness, harness_settings
from tests.support.registry import registry_client

# Several services run in this process: each needs a database of its own.
pytestmark = pytest.mark.usefixtures("service_databases")


def problem_fields(response: httpx.Response, status: int = 422) -> list[str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [e["field"] for e in response.json()["errors"]]


HUGE = 10**20  # beyond any database integer: used to answer 500 (SQLite OverflowError, PG int32)


async def test_numbers_beyond_a_database_integer_are_refused_naming_the_field(
    tmp_path: Path,
) -> None:
    async with registry_client(tmp_path) as registry:
        assert problem_fields(await registry.get(f"/v1/periods/{HUGE}")) == ["path.number"]
        assert problem_fields(await registry.post(f"/v1/periods/{HUGE}/hold")) == ["path.number"]
        listed = await registry.get("/v1/listings", params={"period": HUGE})
        assert problem_fields(listed) == ["query.period"]
        exported = await registry.get("/v1/projects/export", params={"min_investment": HUGE})
        assert problem_fields(exported) == ["query.min_investment"]
    async with harness(tmp_path) as h:
        created = await h.client.post(
            "/v1/subscriptions", json={"channel": "inbox", "min_investment": HUGE}
        )
        assert problem_fields(created) == ["min_investment"]


async def test_nul_characters_are_refused_naming_the_field(tmp_path: Path) -> None:
    """PostgreSQL cannot store U+0000: it used to answer 500 there."""
    async with registry_client(tmp_path) as registry:
        created = await registry.post(
            "/v1/projects", json={"name": "雄韬\x00", "park": "梧桐", "total_investment": 1}
        )
        assert problem_fields(created) == ["name"]
        assert problem_fields(await registry.get("/v1/projects", params={"q": "a\x00"})) == [
            "query.q"
        ]
        # A sheet is bytes, not JSON: the CSV reader refuses NUL bytes itself.
        sheet = "项目名称,所属园区,总投资(万元)\n雄韬\x00,梧桐,100\n".encode()
        report = await registry.post(
            "/v1/projects/import", files={"file": ("ledger.csv", sheet, "text/csv")}
        )
        assert problem_fields(report) == ["file"]
    async with harness(tmp_path) as h:
        replay = await h.client.post("/v1/dead-letters/replay", json={"delivery_ids": ["\x00"]})
        assert problem_fields(replay) == ["delivery_ids.0"]


async def test_days_outside_the_campaign_are_refused_naming_the_field(tmp_path: Path) -> None:
    """Year 0667 used to reach the 旬 arithmetic of rule R07 and answer 500."""
    async with milestone_service(tmp_path) as m:
        project = await m.register()
        corrected = await m.post(
            f"{project}/stage-corrections",
            {"to_stage": "UNDER_CONSTRUCTION", "reason": "录入错误", "date": "0667-05-14"},
        )
        assert problem_fields(corrected) == ["date"]
        evaluated = await m.client.post("/v1/admin/evaluate", params={"as_of": "0667-01-01"})
        assert problem_fields(evaluated) == ["query.as_of"]
        [problem] = evaluated.json()["errors"]
        assert problem["reason"] == "应在 2000-01-01 至 2100-12-31 之间", problem
        english = await m.client.post(
            "/v1/admin/evaluate", params={"as_of": "0667-01-01"}, headers={"Accept-Language": "en"}
        )
        assert english.json()["errors"][0]["reason"] == "must be between 2000-01-01 and 2100-12-31"
    async with registry_client(tmp_path) as registry:
        created = await registry.post(
            "/v1/projects",
            json={
                "name": "雄韬氢能产业园",
                "park": "梧桐",
                "total_investment": 1,
                "signed_date": "0223-03-01",
            },
        )
        assert problem_fields(created) == ["signed_date"]


def test_every_answer_is_documented(tmp_path: Path) -> None:
    """Errors are problem+json on every operation; the 200s of a dry-run import and of a target
    that already existed are declared next to their 201s."""
    apps = {
        "registry": registry_app(RegistrySettings(data_dir=tmp_path, kafka_enabled=False)),
        "milestone": milestone_app(MilestoneSettings(data_dir=tmp_path, kafka_enabled=False)),
        "notification": notification_app(harness_settings(tmp_path)),
    }
    for service, app in apps.items():
        for path, methods in app.openapi()["paths"].items():
            for method, operation in methods.items():
                for status in ("4XX", "5XX"):
                    content = operation["responses"][status]["content"]
                    assert list(content) == ["application/problem+json"], (service, method, path)
    paths = apps["registry"].openapi()["paths"]
    assert {"200", "201"} <= set(paths["/v1/projects/import"]["post"]["responses"])
    assert {"200", "201"} <= set(paths["/v1/targets"]["post"]["responses"])
