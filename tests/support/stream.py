"""A stream of milestone updates and progress reports for fault tests: many projects in parallel,
each project's writes in order, every write retried (same Idempotency-Key) until accepted."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from sanpi.events.xun import ReportPeriod, month_end
from tests.support.waiting import eventually

START = dt.date(2023, 12, 1)
TOTAL = 1_000_000  # 万元: far above any cumulative the stream reports
WAN_PER_DAY = 100


@dataclass(frozen=True)
class Write:
    project_id: str
    path: str  # under /v1/projects/{project_id}/ of the milestone service
    body: dict[str, Any]
    key: str  # Idempotency-Key: a retry after a crash gets the first answer, not a second write
    events: tuple[str, ...]  # the event types the write must produce


def periods_of(year: int) -> list[ReportPeriod]:
    """The 36 旬 and 12 months of a year, each month after its last 旬 (same end day)."""
    out = []
    for month in range(1, 13):
        out += [ReportPeriod(year, month, x) for x in (1, 2, 3)]
        out.append(ReportPeriod(year, month, 0))
    return out


def writes_for(project_id: str) -> list[Write]:
    """STARTED, 48 reports of 2024 (a report's cumulative depends only on its end day, so a month
    and its 下旬 agree), then TOPPED_OUT: 50 writes."""
    photo = f"https://evidence.example/{START}/{project_id}.jpg"
    out = [
        Write(
            project_id,
            "milestones",
            {"kind": "STARTED", "date": str(START), "evidence": [photo]},
            f"{project_id}-started",
            ("sanpi.milestone.achieved.v1", "sanpi.project.stage_changed.v1"),
        )
    ]
    year_start = (dt.date(2023, 12, 31) - START).days * WAN_PER_DAY
    for period in periods_of(2024):
        end = period.end if period.xun else month_end(period.end)
        cum = (end - START).days * WAN_PER_DAY
        body = {
            "period_key": period.key,
            "completed_investment_cum": cum,
            "completed_investment_ytd": cum - year_start,
            "physical_progress_pct": round(cum / TOTAL * 100, 2),
        }
        out.append(
            Write(
                project_id,
                "progress",
                body,
                f"{project_id}-{period.key}",
                ("sanpi.progress.reported.v1",),
            )
        )
    out.append(
        Write(
            project_id,
            "milestones",
            {"kind": "TOPPED_OUT", "date": "2024-12-20"},
            f"{project_id}-topped",
            ("sanpi.milestone.achieved.v1",),
        )
    )
    return out


@dataclass
class StreamResult:
    accepted: int = 0
    attempts: int = 0
    refused: Counter[int] = field(default_factory=Counter)  # 4xx answers: a bug in the stream
    connection_errors: int = 0
    unavailable: int = 0  # 5xx answers, retried
    seconds: float = 0.0


async def register_projects(
    http: httpx.AsyncClient, registry: str, milestone: str, count: int, tag: str
) -> list[str]:
    ids = []
    for i in range(count):
        created = await http.post(
            f"{registry}/v1/projects",
            json={
                "name": f"故障测试{tag}-{i:03d}",
                "park": ("梧桐", "双桥", "石佛", "枫杨")[i % 4],
                "total_investment": TOTAL,
                "signed_date": "2023-06-01",
                "planned_start_date": str(START),
            },
            headers={"Idempotency-Key": f"fault-{tag}-{i}"},
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])

    async def all_known() -> bool:
        for pid in ids:
            if (await http.get(f"{milestone}/v1/projects/{pid}/timeline")).status_code != 200:
                return False
        return True

    await eventually(
        all_known, timeout=60, interval=0.2, what="the milestone service knows every project"
    )
    return ids


async def stream(
    http: httpx.AsyncClient,
    milestone: str,
    writes: list[list[Write]],
    *,
    concurrency: int = 16,
    deadline_s: float = 600.0,
    progress: asyncio.Event | None = None,
    progress_at: int = 500,
) -> StreamResult:
    """Sends every project's writes in order, projects in parallel; a write is retried until the
    service accepts it (connection refused while it restarts, 503 while the database is away)."""
    result = StreamResult()
    started = time.monotonic()
    gate = asyncio.Semaphore(concurrency)

    async def send(write: Write) -> None:
        while True:
            if time.monotonic() - started > deadline_s:
                raise TimeoutError(f"write {write.key} not accepted within {deadline_s}s")
            result.attempts += 1
            try:
                async with gate:
                    response = await http.post(
                        f"{milestone}/v1/projects/{write.project_id}/{write.path}",
                        json=write.body,
                        headers={"Idempotency-Key": write.key},
                        timeout=30,
                    )
            except httpx.TransportError:
                result.connection_errors += 1
                await asyncio.sleep(0.2)
                continue
            if response.status_code in (200, 201):
                result.accepted += 1
                if progress is not None and result.accepted >= progress_at:
                    progress.set()
                return
            if response.status_code >= 500:
                result.unavailable += 1
                await asyncio.sleep(0.2)
                continue
            result.refused[response.status_code] += 1
            raise AssertionError(f"{write.key}: {response.status_code} {response.text}")

    async def project(chain: list[Write]) -> None:
        for write in chain:
            await send(write)

    await asyncio.gather(*(project(chain) for chain in writes))
    result.seconds = time.monotonic() - started
    return result


def new_tag() -> str:
    return uuid.uuid4().hex[:6]
