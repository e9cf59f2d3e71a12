"""A stream of milestone updates and progress reports for fault tests: many projects in parallel,
each project's writes in order, every write retried (same Idempotency-Key) until accepted, on
one service URL or spread over several replicas."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
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
    # Idempotency-Key: a retry after a crash gets the first answer, not a second write. "" for
    # a route without one (suspend, resume): a retry after an unanswered attempt may then meet
    # 409 because the first attempt did commit, which the project's stage tells.
    key: str
    events: tuple[str, ...]  # the event types the write must produce
    stage_after: str | None = None  # the stage the write leaves (checked after a 409 on a retry)


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
    out += [_report(project_id, period) for period in periods_of(2024)]
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


def _report(project_id: str, period: ReportPeriod) -> Write:
    year_start = (dt.date(period.year - 1, 12, 31) - START).days * WAN_PER_DAY
    end = period.end if period.xun else month_end(period.end)
    cum = (end - START).days * WAN_PER_DAY
    body = {
        "period_key": period.key,
        "completed_investment_cum": cum,
        "completed_investment_ytd": cum - year_start,
        "physical_progress_pct": round(cum / TOTAL * 100, 2),
    }
    return Write(
        project_id,
        "progress",
        body,
        f"{project_id}-{period.key}",
        ("sanpi.progress.reported.v1",),
    )


def lifecycle_writes_for(project_id: str) -> list[Write]:
    """50 writes that move the project's stage four times: STARTED (SIGNED → UNDER_CONSTRUCTION),
    23 reports, a suspension (→ SUSPENDED), a resumption (→ UNDER_CONSTRUCTION), 23 reports,
    IN_PRODUCTION (→ IN_PRODUCTION). A projection that applied them out of order ends, or passes
    through, a stage the project never had at that point."""
    periods = periods_of(2024)
    started = f"https://evidence.example/{START}/{project_id}.jpg"
    produced = f"https://evidence.example/2024-12-20/{project_id}.jpg"
    milestone = ("sanpi.milestone.achieved.v1", "sanpi.project.stage_changed.v1")
    moved = ("sanpi.project.stage_changed.v1",)
    return [
        Write(
            project_id,
            "milestones",
            {"kind": "STARTED", "date": str(START), "evidence": [started]},
            f"{project_id}-started",
            milestone,
            "UNDER_CONSTRUCTION",
        ),
        *(_report(project_id, p) for p in periods[:23]),
        Write(
            project_id,
            "suspend",
            {"date": "2024-06-25", "reason": "汛期停工", "expected_resume_date": "2024-07-01"},
            "",
            moved,
            "SUSPENDED",
        ),
        Write(project_id, "resume", {"date": "2024-07-01"}, "", moved, "UNDER_CONSTRUCTION"),
        *(_report(project_id, p) for p in periods[23:46]),
        Write(
            project_id,
            "milestones",
            {"kind": "IN_PRODUCTION", "date": "2024-12-20", "evidence": [produced]},
            f"{project_id}-produced",
            milestone,
            "IN_PRODUCTION",
        ),
    ]


STAGES_OF_LIFECYCLE = (
    "SIGNED",
    "UNDER_CONSTRUCTION",
    "SUSPENDED",
    "UNDER_CONSTRUCTION",
    "IN_PRODUCTION",
)


@dataclass
class StreamResult:
    accepted: int = 0
    attempts: int = 0
    refused: Counter[int] = field(default_factory=Counter)  # 4xx answers: a bug in the stream
    connection_errors: int = 0
    unavailable: int = 0  # 5xx answers, retried
    # Writes without an Idempotency-Key whose retry met 409 because an unanswered attempt had
    # committed (the project's stage says so).
    confirmed_after_retry: int = 0
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
    milestone: str | Sequence[str],
    writes: list[list[Write]],
    *,
    concurrency: int = 16,
    deadline_s: float = 600.0,
    progress: asyncio.Event | None = None,
    progress_at: int = 500,
    rng: random.Random | None = None,
    on_accepted: Callable[[int], None] | None = None,
) -> StreamResult:
    """Sends every project's writes in order, projects in parallel; a write is retried until the
    service accepts it (connection refused while it restarts, 503 while the database is away).

    With several `milestone` URLs (replicas), each write starts at a random one and every retry
    moves to the next, as a load balancer would route around a dead replica. `on_accepted` is
    called with the count of accepted writes after each one."""
    urls = [milestone] if isinstance(milestone, str) else list(milestone)
    pick = rng or random.Random(0)
    result = StreamResult()
    started = time.monotonic()
    gate = asyncio.Semaphore(concurrency)

    async def send(write: Write) -> None:
        first = pick.randrange(len(urls))
        unanswered = False  # an earlier attempt may have committed without our hearing it
        for attempt in itertools.count():
            if time.monotonic() - started > deadline_s:
                raise TimeoutError(f"write {write.key} not accepted within {deadline_s}s")
            url = urls[(first + attempt) % len(urls)]
            result.attempts += 1
            headers = {"Idempotency-Key": write.key} if write.key else {}
            try:
                async with gate:
                    response = await http.post(
                        f"{url}/v1/projects/{write.project_id}/{write.path}",
                        json=write.body,
                        headers=headers,
                        timeout=30,
                    )
            except httpx.TransportError:
                result.connection_errors += 1
                unanswered = True
                await asyncio.sleep(0.2)
                continue
            if response.status_code in (200, 201):
                break
            if response.status_code >= 500:
                result.unavailable += 1
                unanswered = True
                await asyncio.sleep(0.2)
                continue
            if (
                response.status_code == 409
                and unanswered
                and write.stage_after is not None
                and await _stage_of(http, url, write.project_id) == write.stage_after
            ):
                result.confirmed_after_retry += 1
                break
            result.refused[response.status_code] += 1
            raise AssertionError(
                f"{write.key or write.path}: {response.status_code} {response.text}"
            )
        result.accepted += 1
        if progress is not None and result.accepted >= progress_at:
            progress.set()
        if on_accepted is not None:
            on_accepted(result.accepted)

    async def project(chain: list[Write]) -> None:
        for write in chain:
            await send(write)

    await asyncio.gather(*(project(chain) for chain in writes))
    result.seconds = time.monotonic() - started
    return result


async def _stage_of(http: httpx.AsyncClient, milestone: str, project_id: str) -> str | None:
    try:
        answer = await http.get(
            f"{milestone}/v1/projects/{project_id}/timeline", params={"limit": 1}
        )
    except httpx.TransportError:
        return None
    return str(answer.json()["stage"]) if answer.status_code == 200 else None


def new_tag() -> str:
    return uuid.uuid4().hex[:6]
