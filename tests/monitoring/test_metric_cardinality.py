"""No metric grows with the number of projects: series are bounded by parks, stages, chains,
rules and periods, and no label ever carries a project's id or name."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path

from prometheus_client import generate_latest

from sanpi.events import Category, ChainTag
from sanpi.milestone.judged import JUDGED
from sanpi.milestone.metrics import publish_pacing
from sanpi.milestone.rules import service as rules
from sanpi.registry.indicators import jobs as registry_jobs
from tests.support.milestone import milestone_service
from tests.support.registry import create, list_on, open_period, registry_client

PARKS = ("梧桐", "双桥", "石佛", "枫杨")
CHAINS = (ChainTag.IOT, ChainTag.HYDROGEN_STORAGE, ChainTag.LIFE_HEALTH)
CATEGORIES = (Category.ADVANCED_MANUFACTURING, Category.MODERN_SERVICES)
SERIES = re.compile(r"^(sanpi_[a-z_]+)\{([^}]*)\}", re.M)


def business_series() -> set[str]:
    """The campaign series now exposed (HTTP, event and process metrics are left out)."""
    text = generate_latest().decode()
    prefixes = (
        "sanpi_projects",
        "sanpi_project_",
        "sanpi_listing",
        "sanpi_conversion",
        "sanpi_target",
        "sanpi_time_progress",
        "sanpi_alerts_firing",
        "sanpi_traffic_lights",
        "sanpi_investment",
    )
    return {m.group(0) for m in SERIES.finditer(text) if m.group(1).startswith(prefixes)}


async def test_registry_series_do_not_grow_with_projects(tmp_path: Path) -> None:
    async with registry_client(tmp_path) as registry:
        await open_period(registry, 7, "2023-01-28")
        runtime = registry._transport.app.state.runtime  # type: ignore[attr-defined]
        combos = list(itertools.product(PARKS, CHAINS, CATEGORIES))

        async def add_round(round_number: int) -> list[dict[str, object]]:
            made = []
            for park, chain, category in combos:
                project = await create(
                    registry,
                    name=f"项目{round_number}-{park}-{chain}-{category}",
                    park=park,
                    chain_tag=chain,
                    category=category,
                )
                assert (await list_on(registry, str(project["id"]), 7, "SIGN")).status_code == 201
                made.append(project)
            return made

        first = await add_round(1)
        await registry_jobs.refresh(runtime)
        after_first = business_series()
        assert any(s.startswith("sanpi_projects{") for s in after_first)

        more = [p for n in range(2, 5) for p in await add_round(n)]  # three times as many projects
        await registry_jobs.refresh(runtime)
        after_more = business_series()
        assert after_more == after_first, "the number of series grew with the number of projects"
        text = generate_latest().decode()
        for project in first + more:
            assert str(project["id"]) not in text
            assert str(project["name"]) not in text


async def test_milestone_series_do_not_grow_with_projects(tmp_path: Path) -> None:
    async with milestone_service(tmp_path, today=dt.date(2023, 9, 30)) as svc:

        async def register_round(round_number: int) -> list[str]:
            ids = []
            for i, park in enumerate(PARKS):
                ids.append(
                    await svc.register(
                        f"r{round_number}-{i}", park=park, name=f"项目{round_number}-{park}"
                    )
                )
            return ids

        first = await register_round(1)
        await svc.evaluate(dt.date(2023, 9, 30))
        async with svc.runtime.db.read() as session:
            await rules.refresh_gauges(session, JUDGED, share=0.2)
        after_first = business_series()
        assert any(s.startswith("sanpi_alerts_firing{") for s in after_first)

        more = [pid for n in range(2, 6) for pid in await register_round(n)]
        await svc.evaluate(dt.date(2023, 9, 30))
        async with svc.runtime.db.read() as session:
            await rules.refresh_gauges(session, JUDGED, share=0.2)
        assert business_series() == after_first
        text = generate_latest().decode()
        for project_id in first + more:
            assert f'"{project_id}"' not in text
    publish_pacing([])  # leave no pacing series behind for other tests
