"""Province scale (docs/domain.md#province-benchmark: 20,000 projects): list/filter and indicator latency, one full rule
evaluation over ~1.8M progress reports, and a milestone projection rebuilt by replaying the topic.

Each service runs in-process (its real app and lifespan, migrations included, Kafka off) behind an
httpx ASGITransport: the figures are the service's own time, without a network hop.
1. registry: the province projects and their listings go in by the bulk import (as `sanpi demo
   province` does); then GET /v1/projects?limit=50 per filter and GET /v1/indicators, timed.
2. milestone: 20,000 tracked projects and ~90 旬/月 reports each are seeded directly into its
   tables with SQLAlchemy Core (HTTP would take hours), then POST /v1/admin/evaluate is timed twice:
   the first pass raises every alert, the second finds them firing already (the steady state).
3. replay: the registry's own events from part 1 (its outbox rows: project.registered and
   project.listed as it built them) are produced to a fresh topic on the run's broker, and a fresh
   milestone database is rebuilt from it by the kit's EventConsumer with the service's handlers
   (an inbox row per event, up to consumer_transaction_records events of a partition per
   transaction, exactly as in production).
Before the replay, each service it filled runs as its own process on its database (no profiler), doing its
heaviest work there, and its peak resident set is read from /proc (served_part).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import math
import random
import time
import uuid
import zlib
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy import func, insert, text
from sqlmodel import SQLModel, col, select

from bench.common import (
    RESULTS,
    BenchResult,
    create_topic,
    delete_topic,
    heap_frozen,
    machine_speed,
    measured,
    percentile,
    process_cost,
)
from sanpi.client.demo.generator import DemoDataset, periods_by_key, province, province_parks
from sanpi.client.demo.loader import province_sheet
from sanpi.events import IssueCategory, IssueTerm, ReportPeriodKind, TargetKind, encoded_headers
from sanpi.events.xun import ReportPeriod, last_completed, period_of, periods_between
from sanpi.kit import Role, SystemClock, issue_token, utcnow
from sanpi.kit.app import Runtime
from sanpi.kit.consumer import EventConsumer, Record
from sanpi.kit.dedup import ProcessedEvent
from sanpi.kit.outbox import OutboxMessage
from sanpi.kit.settings import DEV_JWT_SECRET
from sanpi.milestone.app import create_app as milestone_app
from sanpi.milestone.assigned.terms import deadlines as issue_deadlines
from sanpi.milestone.consumers import build_handlers as milestone_handlers
from sanpi.milestone.settings import MilestoneSettings, R12Thresholds
from sanpi.registry.app import create_app as registry_app
from sanpi.registry.settings import RegistrySettings
from scripts import stack

LIST_CASES: dict[str, dict[str, Any]] = {
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
INDICATOR_CASES: dict[str, dict[str, Any]] = {
    "district 2023": {"year": 2023, "as_of": "2023-12-31"},
    "district 2024": {"year": 2024, "as_of": "2024-12-31"},
    "one park 2024": {"year": 2024, "as_of": "2024-12-31", "park": "郑州01区1号园区"},
}
# The registry's import takes a sheet of this many rows per request (as `sanpi demo province`).
IMPORT_CHUNK = 5_000
# Rows per INSERT … executemany while seeding: big enough to amortise a round trip, small enough
# to keep a chunk's parameters in memory.
SEED_CHUNK = 10_000
# docs/domain.md#district-demo noise, as the demo's progress generator uses it: 2 % of reports missing, 8 % late.
MISSING_SHARE = 0.02
LATE_SHARE = 0.08
# One project in this many has an assigned issue open (R12's facts: 2,500 at 20,000 projects).
ISSUE_EVERY = 8


# The parts of the bench, in order; the registry part always runs (the replay replays its events).
PARTS = ("registry", "evaluation", "replay")


@dataclass(frozen=True)
class Sizes:
    projects: int
    runs: int  # timed requests per list/indicator case
    history_months: int  # months of 旬 + monthly reports per project


FULL = Sizes(projects=20_000, runs=50, history_months=24)
SMOKE = Sizes(projects=300, runs=5, history_months=2)


async def run(
    *,
    run_dir: Path,
    bootstrap: str,
    new_database: Callable[[str], str],
    smoke: bool,
    projects: int | None = None,
    profile: bool = False,
    parts: Sequence[str] = PARTS,
) -> BenchResult:
    sizes = SMOKE if smoke else FULL
    if projects is not None:
        sizes = Sizes(projects, sizes.runs, sizes.history_months)
    data = province(sizes.projects)
    result = BenchResult("scale")
    result.details["projects"] = sizes.projects
    registry_url = new_database("scale_registry")
    outbox = await registry_part(result, data, sizes, run_dir, registry_url)
    databases = {"registry": registry_url}
    if "evaluation" in parts:
        databases["milestone"] = new_database("scale_milestone")
        await evaluation_part(result, data, sizes, run_dir, databases["milestone"], profile)
    await served_part(result, data, run_dir, databases)
    if "replay" in parts:
        await replay_part(result, outbox, run_dir, bootstrap, new_database("scale_replay"), profile)
    return result


def admin_headers() -> dict[str, str]:
    return {
        "Authorization": f"Bearer {issue_token(DEV_JWT_SECRET, subject='bench', role=Role.ADMIN)}"
    }


@contextlib.asynccontextmanager
async def in_process(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (migrations run), behind an httpx client: no network, no broker."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=admin_headers(), timeout=3600
        ) as client:
            yield client


def runtime_of(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


def profiled(enabled: bool, name: str) -> contextlib.AbstractContextManager[None]:
    """pyinstrument around a part when --profile is given; the text report goes next to the JSON."""
    return profiled_to(RESULTS / f"scale-{name}.profile.txt" if enabled else None)


@contextlib.contextmanager
def profiled_to(path: Path | None) -> Iterator[None]:
    """pyinstrument around the block (wall-clock samples, awaits included), its text report to
    `path`; nothing when `path` is None."""
    if path is None:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(async_mode="enabled")
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
        print(f"  profile: {path}", flush=True)


def ms(seconds: float) -> float:
    return seconds * 1000


# --- 1. registry: list/filter and indicators ------------------------------------------------------


async def registry_part(
    result: BenchResult, data: DemoDataset, sizes: Sizes, run_dir: Path, url: str
) -> list[OutboxMessage]:
    """Loads the projects by the bulk import, times the list cases and the indicators; returns the
    events the registry emitted (its outbox, never sent: Kafka is off) for the replay."""
    settings = RegistrySettings(
        data_dir=run_dir / "scale",
        database_url=url,
        kafka_enabled=False,
        parks=province_parks(),
    )
    app = registry_app(settings)
    note = "in-process app (ASGITransport, no network)"
    async with in_process(app) as client:
        for period in data.periods:
            response = await client.post(
                "/v1/periods",
                json={"number": period.number, "event_date": period.event_date.isoformat()},
            )
            response.raise_for_status()
        started = time.perf_counter()
        for start in range(0, len(data.projects), IMPORT_CHUNK):
            sheet = province_sheet(data, data.projects[start : start + IMPORT_CHUNK])
            response = await client.post("/v1/projects/import", files={"file": ("p.csv", sheet)})
            if response.status_code != 201:
                raise RuntimeError(f"import failed: {response.status_code} {response.text[:500]}")
        load_s = time.perf_counter() - started
        print(
            f"  registry: {len(data.projects)} projects, {len(data.listings)} listings "
            f"imported in {load_s:.1f}s",
            flush=True,
        )
        result.add(
            "registry import",
            len(data.projects) / load_s,
            "projects/s",
            f"{len(data.projects)} projects + {len(data.listings)} listings, bulk import",
        )
        # The app shares this process's heap with the generated province: measured() keeps a full
        # collection walking it out of the timed requests, which a served process would not pay.
        with measured():
            for name, params in LIST_CASES.items():
                timings = await timed_gets(
                    client, "/v1/projects", {"limit": 50, **params}, sizes.runs
                )
                result.add(f"list {name} p50", ms(percentile(timings, 50)), "ms", note)
                result.add(f"list {name} p99", ms(percentile(timings, 99)), "ms", "target ≤ 50")
        started = time.perf_counter()
        pages = await walk_projects(client)
        result.add(
            "list walk all by name",
            ms(time.perf_counter() - started),
            "ms",
            f"{pages} pages of 500",
        )
        for name, params in INDICATOR_CASES.items():
            # 25 runs at full size: a p95 of its own (of 10, the p95 was the slowest run).
            timings = await timed_gets(client, "/v1/indicators", params, max(3, sizes.runs // 2))
            result.add(f"indicators {name} p50", ms(percentile(timings, 50)), "ms", note)
            result.add(f"indicators {name} p95", ms(percentile(timings, 95)), "ms", "target ≤ 300")
            result.add(f"indicators {name} p99", ms(percentile(timings, 99)), "ms")
        async with runtime_of(app).db.read() as session:
            stmt = select(OutboxMessage).order_by(col(OutboxMessage.id))
            return list((await session.exec(stmt)).all())


async def timed_gets(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], runs: int
) -> list[float]:
    await client.get(path, params=params)  # warm-up: statement caches, first page of the file
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = await client.get(path, params=params)
        timings.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} {params}: {response.status_code} {response.text[:300]}")
    return timings


# --- 2. milestone: one full rule evaluation ---------------------------------------------------------


@dataclass(frozen=True)
class Stages:
    signed: dt.date | None
    started: dt.date | None
    produced: dt.date | None


def stages_of(data: DemoDataset) -> dict[str, Stages]:
    """Each project's signing, start and production day: its own dates, else its listings'."""
    dates = {p.number: p.event_date for p in data.periods}
    listed = periods_by_key(data)
    found = {}
    for p in data.projects:
        body, mine = p.body, listed.get(p.key, {})
        started = body.get("started_date")
        start = dt.date.fromisoformat(started) if started else None
        if start is None and "START" in mine:
            start = dates[mine["START"]]
        signed = body.get("signed_date")
        found[p.key] = Stages(
            dt.date.fromisoformat(signed) if signed else None,
            start,
            dates[mine["PRODUCE"]] if "PRODUCE" in mine else None,
        )
    return found


def table(name: str) -> Any:
    return SQLModel.metadata.tables[name]


def chunked(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def report_periods(as_of: dt.date, months: int) -> list[ReportPeriod]:
    """Every 旬 and month of the `months` months before `as_of` whose deadline has passed."""
    first_day = dt.date(as_of.year, as_of.month, 1)
    for _ in range(months):
        first_day = (first_day - dt.timedelta(days=1)).replace(day=1)
    found: list[ReportPeriod] = []
    for kind in (ReportPeriodKind.XUN, ReportPeriodKind.MONTH):
        first, last = period_of(first_day, kind), last_completed(as_of, kind)
        found += [p for p in periods_between(first, last) if p.deadline() <= as_of]
    return sorted(found, key=lambda p: (p.end, p.xun == 0))


class Seeder:
    """The milestone's rows for the province projects, as its handlers and API would have made
    them: tracked project, stage history, milestones, yearly plans and the 旬/月 reports."""

    def __init__(self, data: DemoDataset, months: int) -> None:
        self.data = data
        self.as_of = data.as_of
        self.stages = stages_of(data)
        self.listed = periods_by_key(data)
        self.periods = report_periods(self.as_of, months)
        self.now = utcnow()
        self.rng = random.Random(data.seed)

    def projects(self) -> Iterator[dict[str, Any]]:
        for p in self.data.projects:
            s, body = self.stages[p.key], p.body
            stage, since = self.stage(p.key, s)
            known = min(d for d in (s.signed, s.started, self.as_of) if d is not None)
            yield {
                "project_id": self.data.project_id(p.key),
                "name": body["name"],
                "park": body["park"],
                "total_investment": p.amount,
                # A signing's 签约额, as the registry holds it (R03 judges funds against it).
                "contract_amount": body.get("contract_amount"),
                "is_manufacturing": bool(body.get("is_manufacturing")),
                "annual_plan_investment": round(p.amount * 0.3),
                "chain_tag": body["chain_tag"],
                "category": body["category"],
                "responsible_person": None,
                "responsible_unit": None,
                "sponsor_leader": None,
                "periods": sorted(set(self.listed.get(p.key, {}).values())),
                "signed_date": s.signed,
                "planned_fulfill_date": None,
                "planned_start_date": None,
                "planned_completion_date": None,
                "planned_production_date": self.planned_production(s),
                "planned_effective_date": None,
                "registered_on": known,
                "stage": stage,
                "resume_to": None,
                "stage_since": since,
                "expected_resume_date": None,
                "registry_version": 1,
                "updated_at": self.now,
            }

    @staticmethod
    def planned_production(s: Stages) -> dt.date | None:
        # docs/domain.md#district-demo: ~330 days from start to production for manufacturing; a year here.
        return s.started + dt.timedelta(days=365) if s.started else None

    def stage(self, key: str, s: Stages) -> tuple[str, dt.date]:
        """The project's stage on the data set's day and the day it began."""
        steps = self.steps(key, s)
        return (steps[-1][1], steps[-1][2]) if steps else ("SIGNED", self.as_of)

    def steps(self, key: str, s: Stages) -> list[tuple[str | None, str, dt.date, str]]:
        """(from, to, day, reason) of each stage change, in order."""
        found: list[tuple[str | None, str, dt.date, str]] = []
        fulfilled, effective = self.fulfilled(key, s), self.effective(key, s)
        for to, day in (
            ("SIGNED", s.signed),
            ("FULFILLING", fulfilled),
            ("UNDER_CONSTRUCTION", s.started),
            ("IN_PRODUCTION", s.produced),
            ("EFFECTIVE", effective),
        ):
            if day is not None:
                before = found[-1][1] if found else None
                found.append((before, to, day, "MILESTONE" if found else "REGISTERED"))
        return found

    def fulfilled(self, key: str, s: Stages) -> dt.date | None:
        """履约 (R01): docs/domain.md#district-demo draws sign→履约 from a lognormal of median
        45 days (σ 0.6), never after the start; one signing in ten that has not started never
        shows 履约. Without it every signing older than 60 days fired R01 (3,017 of the 16,363
        alerts of a first pass at 20,000 projects), where the domain expects 15-25 % of the
        active projects non-green."""
        if s.signed is None:
            return None
        draw = random.Random(zlib.crc32(f"fulfilled:{key}".encode()))
        if s.started is None and draw.random() < 0.1:
            return None
        day = s.signed + dt.timedelta(days=round(draw.lognormvariate(math.log(45), 0.6)))
        if s.started is not None:
            day = min(day, s.started)
        return day if day <= self.as_of else None

    def effective(self, key: str, s: Stages) -> dt.date | None:
        """达效 (R10): production→达效 from a lognormal of median 365 days (σ 0.6), as the
        district demo draws it. Without it every production older than a year fired R10 (8,154
        of the 16,363 alerts of a first pass at 20,000 projects)."""
        if s.produced is None:
            return None
        draw = random.Random(zlib.crc32(f"effective:{key}".encode()))
        day = s.produced + dt.timedelta(days=round(draw.lognormvariate(math.log(365), 0.6)))
        return day if day <= self.as_of else None

    def in_statistics(self, key: str, s: Stages) -> dt.date | None:
        """入库纳统 (R08): nine started projects in ten entered the statistics 10-69 days after
        the start (by the key's hash: the reports' random sequence stays as it was)."""
        spread = zlib.crc32(key.encode())
        if s.started is None or spread % 10 == 0:
            return None
        day = s.started + dt.timedelta(days=10 + spread // 10 % 60)
        return day if day <= self.as_of else None

    def stage_changes(self) -> Iterator[dict[str, Any]]:
        for p in self.data.projects:
            s, pid = self.stages[p.key], self.data.project_id(p.key)
            for before, after, day, reason in self.steps(p.key, s):
                yield {
                    "project_id": pid,
                    "from_stage": before,
                    "to_stage": after,
                    "effective_date": day,
                    "reason": reason,
                    "milestone_kind": None,
                    "changed_by": "bench",
                    "note": None,
                    "recorded_at": self.now,
                }

    def milestones(self) -> Iterator[dict[str, Any]]:
        for p in self.data.projects:
            s, pid = self.stages[p.key], self.data.project_id(p.key)
            nodes = [
                ("SIGNED", s.signed, s.signed),
                ("STARTED", s.started, s.started),
                ("IN_PRODUCTION", self.planned_production(s), s.produced),
                ("IN_STATISTICS", *[self.in_statistics(p.key, s)] * 2),
                ("FULFILLED", *[self.fulfilled(p.key, s)] * 2),
                ("EFFECTIVE", *[self.effective(p.key, s)] * 2),
            ]
            for kind, baseline, actual in nodes:
                if baseline is None:
                    continue
                yield {
                    "id": str(uuid.uuid4()),
                    "project_id": pid,
                    "kind": kind,
                    "label": "",
                    "baseline_date": baseline,
                    "forecast_date": None,
                    "actual_date": actual,
                    "evidence": [],
                    "status": "ACHIEVED" if actual else "PENDING",
                    "recorded_by": "bench",
                    "recorded_at": self.now,
                    "updated_at": self.now,
                }

    def plans(self) -> Iterator[dict[str, Any]]:
        years = sorted({p.year for p in self.periods} | {self.as_of.year})
        for p in self.data.projects:
            annual = round(p.amount * 0.3)
            monthly = [annual // 12] * 11 + [annual - annual // 12 * 11]
            for year in years:
                yield {
                    "id": str(uuid.uuid4()),
                    "project_id": self.data.project_id(p.key),
                    "year": year,
                    "annual_plan": annual,
                    "monthly": monthly,
                    "xun": None,
                    "source": "API",
                    "set_by": "bench",
                    "updated_at": self.now,
                }

    def reports(self) -> Iterator[dict[str, Any]]:
        """Every project reports every 旬 and month of the window (the volume of docs/domain.md#province-benchmark), its cumulative
        figure rising from 5–30 % to 40–95 % of the total: some behind plan, some ahead."""
        rng, periods = self.rng, self.periods
        if not periods:
            return
        span = max(1, (periods[-1].end - periods[0].end).days)
        first_end = periods[0].end
        for p in self.data.projects:
            pid, total = self.data.project_id(p.key), p.amount
            low, high = rng.uniform(0.05, 0.3), rng.uniform(0.4, 0.95)
            year_start_cum: dict[int, int] = {}
            for period in periods:
                cum = round(total * (low + (high - low) * (period.end - first_end).days / span))
                year_start_cum.setdefault(period.year, cum)
                if rng.random() < MISSING_SHARE:
                    continue
                deadline = period.deadline()
                late = rng.random() < LATE_SHARE
                submitted = deadline + dt.timedelta(days=3) if late else period.end
                yield {
                    "id": str(uuid.uuid4()),
                    "project_id": pid,
                    "period_kind": period.kind.value,
                    "period_key": period.key,
                    "period_end": period.end,
                    "completed_investment_cum": cum,
                    "completed_investment_ytd": cum - year_start_cum[period.year],
                    "funds_arrived_cum": round(cum * 0.8),
                    "physical_progress_pct": round(100 * cum / total, 1),
                    "narrative": "",
                    "problems": [],
                    "deadline": deadline,
                    "submitted_on": min(submitted, self.as_of),
                    "late": late,
                    "correction": False,
                    "lowered_by_correction": False,
                    "reported_by": "bench",
                    "created_at": self.now,
                    "updated_at": self.now,
                }

    def targets(self) -> Iterator[dict[str, Any]]:
        """The district's and every park's four targets for the data set's year, each last
        year's actual (a plan of "as much again"), so that R15 judges every scope."""
        year = self.as_of.year
        district = MilestoneSettings.model_fields["district"].default
        totals: dict[tuple[str, TargetKind], int] = defaultdict(int)
        for p in self.data.projects:
            s, body = self.stages[p.key], p.body
            signing = body.get("contract_amount") or p.amount
            for scope in (district, body["park"]):
                if s.signed is not None and s.signed.year == year - 1:
                    totals[scope, TargetKind.SIGN_AMOUNT] += signing
                    if body.get("is_manufacturing"):
                        totals[scope, TargetKind.MFG_SIGN_AMOUNT] += signing
                        totals[scope, TargetKind.MFG_SIGN_COUNT] += 1
                if s.started is not None and s.started.year == year - 1:
                    totals[scope, TargetKind.NEW_START_INVESTMENT] += p.amount
        for (scope, kind), value in sorted(totals.items()):
            yield {
                "year": year,
                "scope": scope,
                "kind": kind.value,
                "value": value,
                "set_by": "bench",
                "updated_at": self.now,
            }

    def issues(self) -> Iterator[dict[str, Any]]:
        """An assigned issue (交办事项) for one project in ISSUE_EVERY, raised 0–40 days before
        the data set's day: R12 reads them, and a third or so are past their due day."""
        rng = random.Random(self.data.seed + 12)
        cfg = R12Thresholds()
        for i, p in enumerate(self.data.projects):
            if i % ISSUE_EVERY:
                continue
            raised = self.as_of - dt.timedelta(days=rng.randrange(41))
            term = IssueTerm.MAJOR if rng.random() < 0.2 else IssueTerm.ROUTINE
            due = issue_deadlines(raised, term, cfg)
            answered = raised + dt.timedelta(days=2) if rng.random() < 0.7 else None
            # Most issues are closed (销号) within their term: without closures 69 % of them
            # were overdue on the data set's day, where "a third or so" is the intent.
            closed = answered + dt.timedelta(days=rng.randrange(1, 9)) if answered else None
            if closed is not None and (rng.random() < 0.2 or closed > self.as_of):
                closed = None
            yield {
                "id": str(uuid.uuid4()),
                "project_id": self.data.project_id(p.key),
                "category": rng.choice(list(IssueCategory)).value,
                "description": "电力接入方案未批复",
                "assigned_unit": "区供电公司",
                "term": term.value,
                "raised_by": "bench",
                "raised_on": raised,
                "feedback_due_on": due.feedback_due_on,
                "feedback_red_on": due.feedback_red_on,
                "due_on": due.due_on,
                "red_on": due.red_on,
                "status": "CLOSED" if closed else "IN_PROGRESS" if answered else "OPEN",
                "first_feedback_on": answered,
                "closed_on": closed,
                "closed_by": "bench" if closed else None,
                "closing_note": "已解决" if closed else None,
                "evidence": [],
                "recorded_by": "bench",
                "created_at": self.now,
                "updated_at": self.now,
            }


async def seed(runtime: Runtime, seeder: Seeder) -> dict[str, int]:
    """Bulk inserts (executemany in chunks, one transaction per table): no ORM, no HTTP."""
    counts: dict[str, int] = {}
    sources: dict[str, Callable[[], Iterator[dict[str, Any]]]] = {
        "tracked_project": seeder.projects,
        "stage_change": seeder.stage_changes,
        "milestone_node": seeder.milestones,
        "investment_plan": seeder.plans,
        "progress_report": seeder.reports,
        "assigned_issue": seeder.issues,
        "portfolio_target": seeder.targets,
    }
    for name, rows in sources.items():
        counts[name] = 0
        async with runtime.db.engine.begin() as conn:
            for chunk in chunked(rows(), SEED_CHUNK):
                await conn.execute(insert(table(name)), chunk)
                counts[name] += len(chunk)
    if runtime.db.engine.dialect.name == "postgresql":
        # Tables grown by months of reports have statistics (autovacuum's ANALYZE); straight
        # after a bulk load they have none yet, and the planner then read all of progress_report
        # for each chunk of a pass: 21 s instead of ~4.5 at 20,000 projects.
        async with runtime.db.engine.begin() as conn:
            await conn.execute(text(f"ANALYZE {', '.join(sources)}"))
    return counts


# The evaluation workers the measured passes use (SANPI_MILESTONE_EVALUATION_WORKERS).
EVALUATION_WORKERS = 1


def worker_cpu_s() -> float:
    """The CPU seconds the evaluation workers reported so far (their counter in this process)."""
    return REGISTRY.get_sample_value("sanpi_rule_evaluation_worker_cpu_seconds_total") or 0.0


async def evaluation_part(
    result: BenchResult,
    data: DemoDataset,
    sizes: Sizes,
    run_dir: Path,
    url: str,
    profile: bool,
) -> None:
    settings = MilestoneSettings(
        data_dir=run_dir / "scale",
        database_url=url,
        kafka_enabled=False,
        # Only the measured pass runs: no scheduled pass, no gauge recount in the same process.
        evaluation_interval_s=0,
        metrics_refresh_s=86_400,
        # One worker process judges half the chunks on the second core (rules.workers).
        evaluation_workers=EVALUATION_WORKERS,
    )
    app = milestone_app(settings)
    async with in_process(app) as client:
        started = time.perf_counter()
        counts = await seed(runtime_of(app), Seeder(data, sizes.history_months))
        seed_s = time.perf_counter() - started
        reports = counts["progress_report"]
        print(
            f"  milestone: seeded {counts['tracked_project']} projects, {reports} reports "
            f"({sum(counts.values())} rows) in {seed_s:.1f}s",
            flush=True,
        )
        result.details["seeded"] = counts
        result.add(
            "seed milestone tables",
            seed_s,
            "s",
            f"{sum(counts.values()):,} rows seeded directly into the tables (Core executemany)",
        )
        scope = f"{counts['tracked_project']:,} projects, {reports:,} reports"
        for attempt, label in enumerate(("first", "second")):
            # The generated province (millions of objects) stays in this process's heap: out of
            # the collector's sight, as the service would not hold it. The pass's commit and its
            # response run outside its gc_paused, and a full collection there walked it too.
            with heap_frozen():
                speed = machine_speed()
                worker_cpu = worker_cpu_s()
                started, cpu = time.perf_counter(), time.process_time()
                response = await client.post(
                    "/v1/admin/evaluate", params={"as_of": data.as_of.isoformat(), "pin": "true"}
                )
                elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
                worker_cpu = worker_cpu_s() - worker_cpu
            if response.status_code != 200:
                raise RuntimeError(f"evaluate: {response.status_code} {response.text[:500]}")
            body = response.json()
            print(
                f"  evaluation ({label}): {elapsed:.2f}s, raised {len(body['raised'])}, "
                f"updated {len(body['updated'])}, resolved {len(body['resolved'])}",
                flush=True,
            )
            note = (
                f"{scope}; target ≤ 5 s"
                if attempt == 0
                else "the same again: alerts already firing (steady state)"
            )
            result.add(f"rule evaluation, {label} pass", elapsed, "s", note)
            result.add(
                f"rule evaluation, {label} pass cpu", cpu, "cpu-s", "this process, all threads"
            )
            result.add(
                f"rule evaluation, {label} pass worker cpu",
                worker_cpu,
                "cpu-s",
                f"{EVALUATION_WORKERS} evaluation worker process(es)",
            )
            result.add(
                f"machine speed before the {label} pass",
                speed,
                "s",
                "a fixed Python loop (bench.common.machine_speed): higher is a slower moment",
            )
            if attempt == 0:
                result.add(
                    "alerts raised", len(body["raised"]), "alerts", f"as of {data.as_of}, R01–R18"
                )
        if profile:  # a third pass, profiled: the figures above carry no profiler overhead
            with profiled(True, "evaluation"):
                response = await client.post(
                    "/v1/admin/evaluate", params={"as_of": data.as_of.isoformat(), "pin": "true"}
                )
            response.raise_for_status()


# --- the services as processes on the province databases: their peak RSS ------------------------


async def served_part(
    result: BenchResult, data: DemoDataset, run_dir: Path, databases: dict[str, str]
) -> None:
    """Each service the bench filled (registry; milestone with the evaluation part) started as
    its own process (`python -m sanpi.<service>`, Kafka off, no profiler) on that database, made to
    do its heaviest work there: the registry its indicators and a walk over every project, the
    milestone its start-up and a full evaluation pass (the third: alerts already firing). The
    in-process figures above share this process's heap with the generated province; this is
    the service's own peak resident set (VmHWM), the figure docs/operations.md sizes pods by."""
    files = run_dir / "scale-served"
    secret = stack.jwt_secret(files)
    token = issue_token(secret, subject="bench", role=Role.ADMIN)
    env = {
        **stack.service_env(secret, "127.0.0.1:1", files / "data"),
        "SANPI_KAFKA_ENABLED": "false",
        "SANPI_REGISTRY_PARKS": json.dumps(province_parks(), ensure_ascii=False),
        "SANPI_MILESTONE_EVALUATION_INTERVAL_S": "0",
    }
    for service, url in databases.items():
        port = stack.free_port()
        base = f"http://127.0.0.1:{port}"
        pid = stack.start_service(
            service,
            port=port,
            env={**env, f"SANPI_{service.upper()}_DATABASE_URL": url},
            run_dir=files,
        )
        try:
            await asyncio.to_thread(stack.wait_ready, base, pid=pid, marker=f"sanpi.{service}")
            started = process_cost(pid)
            async with httpx.AsyncClient(
                base_url=base, headers={"authorization": f"Bearer {token}"}, timeout=600
            ) as client:
                if service == "registry":
                    await registry_work(client)
                else:
                    response = await client.post(
                        "/v1/admin/evaluate",
                        params={"as_of": data.as_of.isoformat(), "pin": "true"},
                    )
                    response.raise_for_status()
            done = process_cost(pid)
        finally:
            stack.stop_pidfile(files / "pids" / f"{service}.pid", f"sanpi.{service}")
        work = "indicators + every project listed" if service == "registry" else "evaluation pass"
        print(
            f"  {service} as a process: peak RSS {done.peak_rss_mb:.0f} MiB "
            f"(after start-up {started.peak_rss_mb:.0f}), {work} "
            f"{done.cpu_seconds - started.cpu_seconds:.1f} cpu-s",
            flush=True,
        )
        result.add(
            f"peak rss {service} served",
            done.peak_rss_mb,
            "MiB",
            f"its own process, no profiler: start-up then {work}; target ≤ 250",
        )
        result.add(f"peak rss {service} served, after start-up", started.peak_rss_mb, "MiB")


async def registry_work(client: httpx.AsyncClient) -> None:
    for params in INDICATOR_CASES.values():
        (await client.get("/v1/indicators", params=params)).raise_for_status()
    await walk_projects(client)


async def walk_projects(client: httpx.AsyncClient) -> int:
    """Every project, by name, in pages of 500; returns the pages read."""
    pages, cursor = 0, None
    while True:
        query: dict[str, Any] = {"limit": 500, "sort": "name"}
        if cursor:
            query["cursor"] = cursor
        response = await client.get("/v1/projects", params=query)
        response.raise_for_status()
        pages += 1
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return pages


# --- 3. replay: a projection rebuilt from its topic -----------------------------------------------


async def produce(bootstrap: str, topic: str, rows: Sequence[OutboxMessage]) -> None:
    await create_topic(bootstrap, topic)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5
    )
    await producer.start()
    try:
        futures = [
            await producer.send(
                topic,
                value=row.value,
                key=row.key.encode(),
                headers=encoded_headers(row.headers),
            )
            for row in rows
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def replay_part(
    result: BenchResult,
    outbox: list[OutboxMessage],
    run_dir: Path,
    bootstrap: str,
    url: str,
    profile: bool,
) -> None:
    tag = uuid.uuid4().hex[:8]
    topic = f"bench.scale.projects.{tag}"
    settings = MilestoneSettings(
        data_dir=run_dir / "scale",
        database_url=url,
        kafka_enabled=False,  # the app only migrates; the consumer below is started by hand
        kafka_bootstrap=bootstrap,
        consumer_group=f"bench-scale-{tag}",
        evaluation_interval_s=0,
        metrics_refresh_s=86_400,
    )
    built = milestone_handlers(settings, SystemClock())
    handlers = built.as_mapping()
    handled = sum(1 for row in outbox if row.event_type in handlers)
    await produce(bootstrap, topic, outbox)
    print(f"  replay: {len(outbox)} registry events on {topic}, {handled} for the milestone")
    app = milestone_app(settings)
    failed: list[str] = []

    async def dead_letter(record: Record, error: str, _attempts: int) -> None:
        failed.append(f"{record.topic}@{record.partition}/{record.offset}: {error}")

    async with app.router.lifespan_context(app):
        db = runtime_of(app).db
        consumer = EventConsumer(
            db=db,
            settings=settings,
            topics=[topic],
            handlers=handlers,
            dead_letter=dead_letter,
            prepare=built.prepare,
            caught_up=built.caught_up,
        )
        stopping = asyncio.Event()
        # The generated province's events stay in this process's heap: out of the collector's
        # sight, as a service replaying its topics would not hold them.
        with heap_frozen(), profiled(profile, "replay"):
            consuming = asyncio.create_task(consumer.run(stopping))
            applied = 0
            try:
                # Timed from the partition assignment: joining a fresh group takes ~3 s of
                # broker-side waiting (group.initial.rebalance.delay.ms), the same at any size.
                await asyncio.wait_for(consumer.assigned.wait(), timeout=120)
                started, cpu = time.perf_counter(), time.process_time()
                due = 0
                deadline = started + 3600
                # Done when every event is applied and every project it changed evaluated.
                while applied + len(failed) < handled or due:
                    if consuming.done():
                        consuming.result()  # raises what stopped it
                        raise RuntimeError("the consumer stopped before the end of the topic")
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"replay: {applied}/{handled} after an hour")
                    await asyncio.sleep(0.2)
                    async with db.read() as session:
                        stmt = select(func.count()).select_from(ProcessedEvent)
                        applied = (await session.exec(stmt)).one()
                        stmt = select(func.count()).select_from(table("evaluation_due"))
                        due = (await session.exec(stmt)).one()
                elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            finally:
                stopping.set()
                await asyncio.wait_for(consuming, timeout=60)
        async with db.read() as session:
            stmt = select(func.count()).select_from(table("tracked_project"))
            tracked = (await session.exec(stmt)).one()
    await delete_topic(bootstrap, topic)
    if failed:
        raise RuntimeError(f"replay dead-lettered {len(failed)} events, e.g. {failed[0]}")
    print(f"  replay: {applied} events applied in {elapsed:.1f}s, {tracked} projects tracked")
    result.add(
        "replay",
        applied / elapsed,
        "events/s",
        f"{applied:,} events → {tracked:,} projects; kit EventConsumer, up to "
        f"{settings.consumer_transaction_records} events a transaction, from assignment; "
        "target ≥ 10,000",
    )
    result.add("replay cpu per 1000 events", cpu / max(applied, 1) * 1000, "cpu-s", "this process")
