"""Registry list/filter latency at province scale: 20,000 projects (DOMAIN.md §5.3) on SQLite.

    .venv/bin/python bench/registry_list.py [--projects 20000] [--runs 50]

Loads the province benchmark set through the bulk import endpoint of an in-process registry (no
network, no broker), then times GET /v1/projects for a few filters and prints p50/p99 in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from sanpi.client.demo.generator import province, province_parks
from sanpi.client.demo.loader import province_sheet
from sanpi.kit import Role, issue_token
from sanpi.kit.settings import DEV_JWT_SECRET
from sanpi.registry.app import create_app
from sanpi.registry.settings import RegistrySettings

CASES: dict[str, dict[str, Any]] = {
    "no filter, first page": {},
    "park": {"park": "郑州01区1号园区"},
    "stage": {"stage": "UNDER_CONSTRUCTION"},
    "chain_tag + manufacturing": {"chain_tag": "HYDROGEN_STORAGE", "manufacturing": "true"},
    "period + batch (listing join)": {"period": 8, "batch": "START"},
    "amount range": {"min_investment": 500_000, "max_investment": 2_000_000},
    "text search 氢能 (LIKE)": {"q": "氢能"},
    "sort -total_investment": {"sort": "-total_investment"},
    "category + sort name": {"category": "MAJOR_INFRA", "sort": "name"},
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def main(projects: int, runs: int) -> None:
    data = province(projects)
    with tempfile.TemporaryDirectory() as directory:
        app = create_app(
            RegistrySettings(data_dir=Path(directory), kafka_enabled=False, parks=province_parks())
        )
        token = issue_token(DEV_JWT_SECRET, subject="bench", role=Role.ADMIN)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://bench",
                headers={"Authorization": f"Bearer {token}"},
                timeout=600,
            ) as client:
                for period in data.periods:
                    await client.post(
                        "/v1/periods",
                        json={"number": period.number, "event_date": period.event_date.isoformat()},
                    )
                started = time.perf_counter()
                for start in range(0, projects, 5_000):
                    sheet = province_sheet(data, data.projects[start : start + 5_000])
                    response = await client.post(
                        "/v1/projects/import", files={"file": ("p.csv", sheet)}
                    )
                    assert response.status_code == 201, response.text[:500]
                load = time.perf_counter() - started
                print(
                    f"loaded {projects} projects, {len(data.listings)} listings by import in {load:.1f}s"
                )
                print(
                    f"{'GET /v1/projects?limit=50 …':<34} {'items':>6} {'p50 ms':>8} {'p99 ms':>8}"
                )
                for name, params in CASES.items():
                    timings = []
                    items = 0
                    for _ in range(runs):
                        t0 = time.perf_counter()
                        response = await client.get("/v1/projects", params={"limit": 50, **params})
                        timings.append((time.perf_counter() - t0) * 1000)
                        items = len(response.json()["items"])
                    print(
                        f"{name:<34} {items:>6} {statistics.median(timings):>8.1f} "
                        f"{percentile(timings, 0.99):>8.1f}"
                    )
                t0 = time.perf_counter()
                pages, cursor = 0, None
                while True:
                    query: dict[str, Any] = {"limit": 500, "sort": "name"}
                    if cursor:
                        query["cursor"] = cursor
                    page = (await client.get("/v1/projects", params=query)).json()
                    pages += 1
                    cursor = page["next_cursor"]
                    if cursor is None:
                        break
                walk = time.perf_counter() - t0
                print(
                    f"walked all {projects} by name in {pages} pages of 500: {walk * 1000:.0f} ms"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.projects, args.runs))
