"""Rules evaluated after commit, for the changes of many requests in one pass; marks left by a
failed pass are evaluated by the sweep, and a mark rewritten meanwhile survives its pass."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from sanpi.kit import UnitOfWork
from sanpi.milestone.rules import repository
from sanpi.milestone.rules import service as rules
from sanpi.milestone.rules.coalescer import Coalescer
from sanpi.milestone.rules.models import EvaluationDue
from tests.support.milestone import Milestones, milestone_service
from tests.support.waiting import eventually
from tests.unit.test_milestone_alerts import started_with_plan
from tests.unit.test_milestone_rules_recent_reports import month

TODAY = dt.date(2023, 11, 3)


def passes() -> tuple[float, float]:
    """(evaluation transactions, projects evaluated) after changes so far in this process."""
    count = REGISTRY.get_sample_value("sanpi_rule_evaluation_batch_projects_count") or 0.0
    total = REGISTRY.get_sample_value("sanpi_rule_evaluation_batch_projects_sum") or 0.0
    return count, total


async def states(svc: Milestones, project_id: str) -> dict[str, str]:
    response = await svc.client.get("/v1/alerts", params={"project_id": project_id})
    return {a["alert_key"]: a["state"] for a in response.json()["items"]}


async def marks(svc: Milestones) -> list[tuple[str, str]]:
    async with svc.runtime.db.read() as session:
        rows = (await session.exec(select(EvaluationDue))).all()
    return sorted((r.project_id, r.token) for r in rows)


async def test_concurrent_reports_are_evaluated_together_before_each_is_answered(
    tmp_path: Path,
) -> None:
    ids = [f"p{n}" for n in range(12)]
    async with milestone_service(tmp_path, today=TODAY) as svc:
        for project_id in ids:
            await started_with_plan(svc, project_id)
            # R17's reminder of October's report, due by 5 November, until it comes.
            assert (await states(svc, project_id))["R17:" + project_id] == "FIRING"
        before = passes()

        async def report_then_read(project_id: str) -> dict[str, str]:
            await month(svc, "2023-10", 5_000, 20.0, project=project_id)
            return await states(svc, project_id)

        seen = await asyncio.gather(*(report_then_read(p) for p in ids))
        after = passes()
        # Each POST was answered after its project's evaluation had committed.
        assert [s["R17:" + p] for p, s in zip(ids, seen, strict=True)] == ["RESOLVED"] * len(ids)
        assert after[1] - before[1] == len(ids)
        assert 1 <= after[0] - before[0] < len(ids)
        assert await marks(svc) == []


async def test_a_mark_left_by_a_failed_evaluation_is_evaluated_by_the_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async with milestone_service(tmp_path, today=TODAY, evaluation_sweep_s=0.2) as svc:
        await started_with_plan(svc)
        evaluate = rules.evaluate

        async def fail(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError("evaluation down")

        monkeypatch.setattr(rules, "evaluate", fail)
        await month(svc, "2023-10", 5_000, 20.0)  # the report is accepted all the same
        assert (await states(svc, "p1"))["R17:p1"] == "FIRING"
        assert [p for p, _token in await marks(svc)] == ["p1"]
        assert "left to the sweep" in caplog.text

        monkeypatch.setattr(rules, "evaluate", evaluate)

        async def resolved() -> bool:
            return (await states(svc, "p1"))["R17:p1"] == "RESOLVED"

        await eventually(resolved, what="the sweep's evaluation")
        assert await marks(svc) == []


async def test_a_pass_deletes_only_the_marks_it_evaluated(tmp_path: Path) -> None:
    async with milestone_service(tmp_path, today=TODAY, evaluate_on_events=False) as svc:
        evaluated: list[list[str]] = []
        failures = [IntegrityError("INSERT", {}, Exception("two replicas raised one alert"))]

        async def record(_uow: UnitOfWork, ids: list[str]) -> None:
            if failures:
                raise failures.pop()
            evaluated.append(ids)

        async def mark(rows: Sequence[tuple[str, str]]) -> None:
            async with svc.runtime.db.transaction() as uow:
                for project_id, token in rows:
                    repository.mark_due(uow, project_id, token)

        await mark([("p1", "old"), ("p2", "t2")])
        await mark([("p1", "new")])  # p1 changed again while its first change was evaluated
        coalescer = Coalescer(svc.runtime.db, record)
        await coalescer.evaluate([("p1", "old"), ("p2", "t2")])
        # Retried after the unique violation; p1's newer mark waits for its own pass.
        assert evaluated == [["p1", "p2"]]
        assert await marks(svc) == [("p1", "new")]
        await coalescer.evaluate([("p1", "new")])
        assert await marks(svc) == []


@pytest.mark.postgres_only
async def test_a_pass_does_not_wait_for_a_mark_another_transaction_holds(tmp_path: Path) -> None:
    """A request writes its mark at commit and then its ORM rows (a milestone); a pass writes a
    milestone's status and then deletes its marks. A pass that waited for a mark a request held
    deadlocked with it (make test, PostgreSQL: a 500 on POST /milestones). It now leaves a held
    mark for a later pass."""
    async with milestone_service(tmp_path, today=TODAY, evaluate_on_events=False) as svc:
        db = svc.runtime.db
        async with db.transaction() as uow:
            repository.mark_due(uow, "p1", "old")
            repository.mark_due(uow, "p2", "t2")
        async with db.engine.connect() as request:  # a request rewriting p1's mark, not committed
            await request.execute(
                repository._MARK["postgresql"],
                {"project_id": "p1", "token": "new", "marked_at": dt.datetime.now(dt.UTC)},
            )
            async with db.transaction() as uow:
                session = uow.session
                await asyncio.wait_for(
                    repository.unmark(session, [("p1", "old"), ("p2", "t2")]), timeout=10
                )
            assert await marks(svc) == [("p1", "old")]  # held: left alone, p2's deleted
            await request.commit()
        assert await marks(svc) == [("p1", "new")]
