"""R14 and R15 in the service: targets projected from target.set, scoped alerts raised once,
updated on a severity change, resolved when caught up, listed by /v1/alerts with their park,
published with their scope; no target, no alert, and the evaluation says R15 was silent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sanpi.events import ProjectListed, TargetKind, TargetSet
from sanpi.events.vocabulary import BatchType
from sanpi.kit import Outcome
from sanpi.milestone.lifecycle.models import TrackedProject
from tests.support.milestone import Milestones, milestone_service

D = dt.date
DISTRICT = "郑州高新区"


async def target(svc: Milestones, scope: str, value: int, kind: TargetKind) -> None:
    data = TargetSet(year=2023, scope=scope, kind=kind, value=value, set_by="admin")
    assert await svc.feed(data) is Outcome.PROCESSED


async def signed(svc: Milestones, pid: str, amount: int, park: str = "梧桐") -> None:
    await svc.register(
        pid, park=park, contract_amount=amount, total_investment=amount, is_manufacturing=True
    )
    listed = ProjectListed(
        project_id=pid,
        period=7,
        batch=BatchType.SIGN,
        event_date=D(2023, 1, 28),
        listed_total_investment=amount,
    )
    assert await svc.feed(listed) is Outcome.PROCESSED


async def test_r15_is_raised_per_scope_updated_and_resolved(tmp_path: Path) -> None:
    async with milestone_service(tmp_path, evaluate_on_events=False) as svc:
        await signed(svc, "p1", 100_000)
        await signed(svc, "p2", 60_000, park="电子电器")
        # No target yet: R15 stays silent and the evaluation says so.
        first = await svc.evaluate(D(2023, 7, 1))
        assert first["silent"].get("R15") == 1
        assert not [k for k in first["raised"] if k.startswith("R15")]

        await target(svc, DISTRICT, 400_000, TargetKind.SIGN_AMOUNT)  # 160k = 40 %
        await target(svc, "梧桐", 400_000, TargetKind.SIGN_AMOUNT)  # 100k = 25 %
        await target(svc, "梧桐", 2, TargetKind.MFG_SIGN_COUNT)  # 1 of 2 = 50 %: on pace
        raised = await svc.evaluate(D(2023, 7, 1))  # 序时进度 49.9 %
        assert "R15" not in raised["silent"]
        scoped = sorted(k for k in raised["raised"] if k.startswith("R15"))
        assert scoped == ["R15:梧桐:SIGN_AMOUNT"], raised  # the district: 9.9 behind, green

        listed = await svc.client.get("/v1/alerts", params={"rule": "R15", "park": "梧桐"})
        [alert] = listed.json()["items"]
        assert (alert["alert_key"], alert["severity"], alert["park"]) == (
            "R15:梧桐:SIGN_AMOUNT",
            "red",  # 24.9 points behind
            "梧桐",
        )
        assert (alert["project_id"], alert["metric_value"], alert["threshold"]) == (
            None,
            25.0,
            29.9,
        )
        [event] = [
            e
            for e in await svc.events("sanpi.alert.raised")
            if e["data"]["alert_key"] == "R15:梧桐:SIGN_AMOUNT"
        ]
        assert (event["data"]["scope"], event["data"]["park"]) == ("park", "梧桐")

        # Later in the year the district falls behind too; the park's stays red, said once.
        later = await svc.evaluate(D(2023, 7, 10))  # 51.8 %: the district 11.8 behind
        assert [k for k in later["raised"] if k.startswith("R15")] == ["R15:district:SIGN_AMOUNT"]
        assert await svc.alert_events("R15:梧桐:SIGN_AMOUNT") == [("raised", "red")]
        [district] = [
            e["data"]
            for e in await svc.events("sanpi.alert.raised")
            if e["data"]["alert_key"] == "R15:district:SIGN_AMOUNT"
        ]
        # No park (the envelope leaves out None): subscribers without a park filter get it.
        assert (district["scope"], district.get("park"), district["severity"]) == (
            "district",
            None,
            "yellow",
        )

        # 梧桐 signs more: 240k of 400k = 60 % is ahead; the district's 300k = 75 % too.
        await signed(svc, "p3", 140_000)
        await signed(svc, "p4", 0, park="电子电器")
        caught_up = await svc.evaluate(D(2023, 7, 10))
        assert sorted(k for k in caught_up["resolved"] if k.startswith("R15")) == [
            "R15:district:SIGN_AMOUNT",
            "R15:梧桐:SIGN_AMOUNT",
        ]
        # A smaller gain only moves the colour: raised red, then yellow on update.
        await target(svc, "梧桐", 600_000, TargetKind.SIGN_AMOUNT)  # 240k = 40 %: 11.8 behind
        again = await svc.evaluate(D(2023, 7, 10))
        assert "R15:梧桐:SIGN_AMOUNT" in again["raised"]
        await target(svc, "梧桐", 800_000, TargetKind.SIGN_AMOUNT)  # 30 %: 21.8 behind
        worse = await svc.evaluate(D(2023, 7, 10))
        assert worse["updated"] == ["R15:梧桐:SIGN_AMOUNT"]
        assert (await svc.alert_events("R15:梧桐:SIGN_AMOUNT"))[-2:] == [
            ("raised", "yellow"),
            ("updated", "red"),
        ]
        async with svc.runtime.db.read() as session:
            project = await session.get(TrackedProject, "p1")
        assert project is not None
        assert project.is_manufacturing is True


async def test_r14_judges_a_period_cohort_per_park_and_district(tmp_path: Path) -> None:
    async with milestone_service(tmp_path, evaluate_on_events=False) as svc:
        for n in range(3):
            await signed(svc, f"p{n}", 10_000)
        # Signed 28 January: 180 days old on 27 July; none started: 0 % of 3 is red.
        early = await svc.evaluate(D(2023, 7, 26))
        assert not [k for k in early["raised"] if k.startswith("R14")]
        due = await svc.evaluate(D(2023, 7, 27))
        assert sorted(k for k in due["raised"] if k.startswith("R14")) == [
            "R14:district:7",
            "R14:梧桐:7",
        ]
        [event] = [
            e["data"]
            for e in await svc.events("sanpi.alert.raised")
            if e["data"]["alert_key"] == "R14:梧桐:7"
        ]
        assert (event["scope"], event["park"], event["periods"], event["severity"]) == (
            "park",
            "梧桐",
            [7],
            "red",
        )
        preview = await svc.preview(D(2023, 8, 1))
        found = {a["alert_key"]: a for a in preview["alerts"] if a["rule"] == "R14"}
        assert found["R14:梧桐:7"]["project_id"] is None
        assert found["R14:梧桐:7"]["park"] == "梧桐"
