"""The one-row check of a new progress report against the project's other reports, against the
plain reading of docs/domain.md#alert-rules (the highest earlier and the lowest later cumulative)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from sanpi.events import ReportPeriodKind
from sanpi.events.xun import ReportPeriod, parse_period
from sanpi.kit import utcnow
from sanpi.milestone.progress import repository
from tests.support.milestone import milestone_service

KEYS = [f"2023-{m:02d}{x}" for m in range(1, 13) for x in ("-X1", "-X2", "-X3", "")]


def expected(stored: dict[str, int], period: ReportPeriod) -> tuple[int | None, ...]:
    others = [(parse_period(k).end, cum) for k, cum in stored.items() if k != period.key]
    return (
        max((cum for end, cum in others if end <= period.end), default=None),
        min((cum for end, cum in others if end >= period.end), default=None),
    )


async def test_neighbours_match_the_reports_they_summarise(tmp_path: Path) -> None:
    # Cumulatives in random order (as corrections leave them) and a month sharing its end day
    # with its 下旬: the bounds must come from the other reports only, inclusive of that day.
    rng = random.Random(8)
    stored = {k: rng.randrange(0, 5_000, 100) for k in rng.sample(KEYS, 30)}
    created = dt.datetime(2023, 7, 1, 2, 30, tzinfo=dt.UTC)
    async with milestone_service(tmp_path) as ms:
        await ms.register("p1", park="郑州航空港区")  # a tracked project: p3 is not
        async with ms.runtime.db.transaction() as uow:
            session = uow.session
            for key, cum in stored.items():
                period = parse_period(key)
                await repository.insert_report(
                    session,
                    {
                        "id": f"r-{key}",
                        "project_id": "p1",
                        "period_kind": period.kind,
                        "period_key": key,
                        "period_end": period.end,
                        "completed_investment_cum": cum,
                        "completed_investment_ytd": 0,
                        "problems": [],
                        "deadline": period.end,
                        "submitted_on": period.end,
                        "reported_by": "op-1",
                        "created_at": created,
                        "updated_at": utcnow(),
                    },
                )
            await repository.insert_report(  # another project's report counts for nothing here
                session,
                {
                    "id": "other",
                    "project_id": "p2",
                    "period_kind": ReportPeriodKind.XUN,
                    "period_key": "2023-06-X2",
                    "period_end": dt.date(2023, 6, 20),
                    "completed_investment_cum": 999_999,
                    "completed_investment_ytd": 0,
                    "problems": [],
                    "deadline": dt.date(2023, 6, 22),
                    "submitted_on": dt.date(2023, 6, 22),
                    "reported_by": "op-1",
                },
            )
            for key in KEYS:
                period = parse_period(key)
                answer = await repository.standing_and_neighbours(
                    session, project_id="p1", period_key=key, period_end=period.end
                )
                assert answer is not None
                standing, found = answer
                assert (standing.project_id, standing.park) == ("p1", "郑州航空港区")
                assert (found.before, found.after) == expected(stored, period), key
                if key in stored:
                    assert (found.same_id, found.same_created_at) == (f"r-{key}", created)
                else:
                    assert (found.same_id, found.same_created_at) == (None, None)
            unknown = await repository.standing_and_neighbours(
                session, project_id="p3", period_key="2023-06", period_end=dt.date(2023, 6, 30)
            )
            assert unknown is None


async def test_a_correction_replaces_the_report_in_place_and_marks_a_lowering(
    tmp_path: Path,
) -> None:
    async with milestone_service(tmp_path) as ms:
        await ms.register()
        for key, cum in (("2023-05-X2", 15_000), ("2023-05-X3", 16_000)):
            assert (await ms.post("p1/progress", report(key, cum))).status_code == 201
        first = await ms.post("p1/progress", report("2023-06-X1", 17_000))
        corrections = [
            ("2023-06-X1", 16_500),  # its own earlier figure does not count (today's rule)
            ("2023-05-X3", 14_000),  # below the earlier 2023-05-X2
            ("2023-06-X2", 18_000),  # a new period sent as a correction, lowering nothing
        ]
        answers = [
            await ms.post("p1/progress", report(key, cum, correction=True))
            for key, cum in corrections
        ]
        assert [a.status_code for a in answers] == [201, 201, 201], answers[0].text
        kept = {k: first.json()[k] for k in ("id", "created_at", "period_end")}
        assert {k: answers[0].json()[k] for k in kept} == kept
        assert (answers[0].json()["completed_investment_cum"], answers[0].json()["correction"]) == (
            16_500,
            True,
        )
        listed = (await ms.client.get("/v1/projects/p1/progress")).json()["items"]
        assert len(listed) == 4
        async with ms.runtime.db.read() as session:
            rows = (await repository.report_facts(session, ["p1"])).rows
        assert [
            (key, cum, bool(lowered)) for _pid, key, cum, _ytd, _pct, _on, lowered, _funds in rows
        ] == [
            ("2023-05-X2", 15_000, False),
            ("2023-05-X3", 14_000, True),
            ("2023-06-X1", 16_500, False),
            ("2023-06-X2", 18_000, False),
        ]


def report(key: str, cum: int, **extra: object) -> dict[str, object]:
    return {
        "period_key": key,
        "completed_investment_cum": cum,
        "completed_investment_ytd": cum,
        **extra,
    }
