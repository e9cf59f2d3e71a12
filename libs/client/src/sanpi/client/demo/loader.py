"""Loads a demo data set through the public HTTP APIs, idempotently: every create carries an
Idempotency-Key derived from the data set, so a second load (a second `make up`) replays the first
answers instead of duplicating, and an interrupted load resumes where it stopped."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from sanpi.client import demo_progress
from sanpi.client.demo.generator import DemoDataset, DemoProject, chunks, periods_by_key
from sanpi.client.sdk import ApiError, SanpiClient
from sanpi.client.sdk.milestone import MAX_BATCH_ROWS
from sanpi.events import ReportPeriodKind
from sanpi.events.xun import last_completed, parse_period, period_of, periods_between

# Bump when the generator changes what it makes for a seed: the keys then name new requests
# instead of colliding with the old bodies (a reused key with another body is a 422).
KEY_VERSION = "v3"

Progress = Callable[[str, int, int], None]  # (step, done, total)


def _quiet(_step: str, _done: int, _total: int) -> None:
    return None


@dataclass
class LoadSummary:
    projects: int = 0
    listings: int = 0
    periods: int = 0
    milestones: int = 0
    cancelled: int = 0
    skipped_milestones: int = 0
    progress_calls: int = 0
    ids: dict[str, str] = field(default_factory=dict)


class DemoLoader:
    def __init__(self, client: SanpiClient, data: DemoDataset, progress: Progress = _quiet) -> None:
        self.client = client
        self.data = data
        self.progress = progress
        self.prefix = f"demo-{KEY_VERSION}-{data.name}-{data.seed}"

    def _key(self, *parts: object) -> str:
        return "-".join([self.prefix, *map(str, parts)])

    def check_parks(self) -> None:
        configured = set(self.client.registry.parks()["parks"])
        missing = [p for p in self.data.parks if p not in configured]
        if missing:
            raise RuntimeError(
                f"the registry does not know {len(missing)} of the data set's parks "
                f"(e.g. {missing[:3]}); start it with SANPI_REGISTRY_PARKS set to them "
                "(`sanpi demo parks --province` prints the list)"
            )

    def periods(self, summary: LoadSummary) -> None:
        for period in self.data.periods:
            try:
                self.client.registry.create_period(
                    period.number,
                    period.event_date.isoformat(),
                    idempotency_key=self._key("period", period.number),
                )
            except ApiError as exc:
                if exc.status != 409:  # already there (made without this key): fine
                    raise
            summary.periods += 1

    def targets(self) -> None:
        for year, scope, kind, value in self.data.targets:
            self.client.registry.set_target(year, scope, kind, value)

    def projects(self, summary: LoadSummary) -> None:
        total = len(self.data.projects)
        for done, project in enumerate(self.data.projects, 1):
            created = self.client.registry.create_project(
                project.body, idempotency_key=self._key(project.key)
            )
            summary.ids[project.key] = created["id"]
            summary.projects += 1
            self.progress("projects", done, total)

    def listings(self, summary: LoadSummary) -> None:
        total = len(self.data.listings)
        by_period = sorted(self.data.listings, key=lambda x: (x.period, ["SIGN", "START", "PRODUCE"].index(x.batch)))  # fmt: skip
        for done, listing in enumerate(by_period, 1):
            self.client.registry.add_listing(
                summary.ids[listing.project_key],
                listing.period,
                listing.batch,
                idempotency_key=self._key(listing.project_key, listing.batch),
            )
            summary.listings += 1
            self.progress("listings", done, total)

    def close_periods(self) -> None:
        """Every period up to the data set's day took place; all but the last are closed."""
        held = [p for p in self.data.periods if p.event_date <= self.data.as_of]
        for period in held:
            for action in ("hold", "close") if period is not held[-1] else ("hold",):
                try:
                    self.client.registry.move_period(period.number, action)
                except ApiError as exc:
                    if exc.status != 409:  # already held/closed by an earlier load
                        raise

    def wait_known(self, project_id: str, timeout: float) -> None:
        """The milestone service learns a project from project.registered (Kafka): wait for it."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.client.milestone.timeline(project_id)
                return
            except ApiError as exc:
                if exc.status != 404 or time.monotonic() > deadline:
                    raise
            time.sleep(0.2)

    def milestones(self, summary: LoadSummary, timeout: float) -> None:
        """Posts each project's milestones up to `as_of` (STARTED and IN_PRODUCTION with
        evidence) in batches of POST /v1/progress/batch, each project's in date order: a batch
        records its milestones in their order, and batches go one after the other. One recorded
        on that day already (an earlier load) is a duplicate: skipped."""
        rows: list[dict[str, Any]] = []
        for project in self.data.projects:
            steps = project.milestones(self.data.as_of)
            if not steps:
                continue
            project_id = summary.ids[project.key]
            self.wait_known(project_id, timeout)
            rows += [
                {"project_id": project_id, "kind": kind, "date": day.isoformat(), "evidence": ev}
                for kind, day, ev in steps
            ]
        done = 0
        for chunk in chunks(rows, MAX_BATCH_ROWS):
            answer = self.client.milestone.report_batch([], milestones=chunk)
            outcomes = answer.get("milestones", [])
            _written(outcomes, chunk)
            summary.milestones += sum(o["status"] == "accepted" for o in outcomes)
            summary.skipped_milestones += sum(o["status"] == "duplicate" for o in outcomes)
            done += len(chunk)
            self.progress("milestones", done, len(rows))

    def histories(self, ids: dict[str, str]) -> list[demo_progress.ProgressHistory]:
        """Investment plans, 旬/月 reports, replans and suspensions of every live project (by its
        id in `ids`), as the milestone service's demo generator makes them (each alert rule fires
        somewhere); the reports of projects on plan only within REPORT_WINDOWS' days."""
        live = [
            p for p in self.data.projects if p.cancelled is None or p.cancelled > self.data.as_of
        ]
        projects = [
            demo_progress.DemoProject(
                project_id=ids[p.key],
                total_investment=p.amount,
                signed=p.signed or self.data.as_of,
                planned_start=_date(p.body.get("planned_start_date")),
                planned_production=_date(p.body.get("planned_production_date")),
                started=p.started if p.started and p.started <= self.data.as_of else None,
                produced=p.produced if p.produced and p.produced <= self.data.as_of else None,
                contract_amount=p.body.get("contract_amount"),
                seed_key=p.key,
                on_track=p.on_track,
            )
            for p in live
        ]
        windows = [
            (day - dt.timedelta(days=RECENT_DAYS), day) for day in (BULLETIN_DAY, self.data.as_of)
        ]
        # Reaching 达效 ends the reporting (the service owes no 旬 report after it); 投产 does not.
        effective = {
            ids[p.key] for p in live if p.effective is not None and p.effective <= self.data.as_of
        }

        def posted(history: demo_progress.ProgressHistory) -> demo_progress.ProgressHistory:
            if history.profile is not demo_progress.Profile.ON_PLAN:
                return history
            kept = _within(history, windows)
            if history.produced is None or history.project_id in effective:
                return kept
            return _held(kept, history, until=self.data.as_of)

        return [
            posted(h)
            for h in demo_progress.generate_portfolio(
                projects, until=self.data.as_of, seed=self.data.seed
            )
        ]

    def progress_histories(self, summary: LoadSummary, workers: int = 4) -> None:
        """The histories, posted over the API in each project's order: its plans, its reports,
        then its replanned nodes and suspension. Plans and the rest go a project per call, the
        projects in parallel; the reports go in batches of POST /v1/progress/batch (a re-sent
        one is a duplicate). STARTED / IN_PRODUCTION were posted by `milestones` already."""
        histories = [h for h in self.histories(summary.ids) if h.started is not None]
        api = self.client.milestone
        with ThreadPoolExecutor(max_workers=workers) as pool:
            summary.progress_calls += sum(
                pool.map(partial(demo_progress.post_plans, api), histories)
            )
            rows = [row for h in histories for row in demo_progress.report_rows(h)]
            done = 0
            for chunk in chunks(rows, MAX_BATCH_ROWS):
                _written(api.report_batch(chunk).get("results", []), chunk)
                done += len(chunk)
                self.progress("progress reports", done, len(rows))
            summary.progress_calls += len(rows)
            after = partial(demo_progress.post_after_reports, api)
            summary.progress_calls += sum(pool.map(after, histories))

    def evaluate(self) -> None:
        """Runs the alert rules as of the data set's day and pins that day, so that the scheduled
        evaluations keep showing the demo's alerts instead of re-reading it as of today."""
        self.client.milestone.evaluate(as_of=self.data.as_of.isoformat(), pin=True)

    def cancellations(self, summary: LoadSummary) -> None:
        for project in self.data.projects:
            if project.cancelled is None or project.cancelled > self.data.as_of:
                continue
            try:
                # On the demo's own day, not the day it is loaded: a bulletin of a 旬 after
                # it must not show the project as active (nor red).
                self.client.registry.cancel_project(
                    summary.ids[project.key],
                    "INVESTOR_FUNDING",
                    "投资方资金未到位，项目终止（演示数据）",
                    effective_date=project.cancelled.isoformat(),
                )
                summary.cancelled += 1
            except ApiError as exc:
                if exc.status != 409:
                    raise


# On-plan projects post only the reports of two windows: their last 100 days (about ten 旬 and
# three months: the pacing, stall and missing-report rules look no further back), and the 100
# days to the end of March 2023, so that the bulletins of March 2023 (the 2023-03-X2 通报 of the
# docs) judge the district's first 2023 quarter as the rules would have then. The full
# histories of ~120 projects (5,400 calls) would make `make up` take minutes. The projects whose
# profile makes a rule fire keep their whole history. A project in production (not yet 达效)
# still owes its 旬 reports: in the last window it reports the figures it reached at 投产
# (_held), else its latest figures would be those of March 2023, or none.
RECENT_DAYS = 100
BULLETIN_DAY = dt.date(2023, 3, 31)


def _within(
    history: demo_progress.ProgressHistory, windows: list[tuple[dt.date, dt.date]]
) -> demo_progress.ProgressHistory:
    """The history with only the reports of periods ending in one of the windows."""
    reports = tuple(
        r
        for r in history.reports
        if any(low <= parse_period(r.period_key).end <= high for low, high in windows)
    )
    return replace(history, reports=reports)


def _held(
    posted: demo_progress.ProgressHistory, whole: demo_progress.ProgressHistory, *, until: dt.date
) -> demo_progress.ProgressHistory:
    """`posted` (a project in production) with a report of every 旬 and month after its whole
    history's last one, ending within the last RECENT_DAYS to `until`: the investment completed
    by 投产 stands (the generator's reports stop there), sent the day after the period ends."""
    last = next((r for r in reversed(whole.reports) if not r.correction), None)
    if last is None:
        return posted
    after, low = parse_period(last.period_key).end, until - dt.timedelta(days=RECENT_DAYS)
    periods = [
        period
        for kind in (ReportPeriodKind.XUN, ReportPeriodKind.MONTH)
        for period in periods_between(period_of(max(after, low), kind), last_completed(until, kind))
        if period.end > after and period.end >= low
    ]
    periods.sort(key=lambda p: (p.end, p.xun == 0))
    held = tuple(
        replace(
            last,
            period_key=period.key,
            # The year's completed investment: the last figure's within its year, none after.
            ytd=last.ytd if period.year == parse_period(last.period_key).year else 0,
            submitted_on=period.end + dt.timedelta(days=1),
            narrative="已投产, 本期无新增投资",
            problems=(),
        )
        for period in periods
        if period.end + dt.timedelta(days=1) <= until
    )
    return replace(posted, reports=posted.reports + held)


def _written(outcomes: list[dict[str, Any]], rows: list[dict[str, Any]]) -> None:
    """Stops the load on a refused row, as a refused single call would have (the demo's rows
    are all valid: a refusal is a bug to see, not to skip)."""
    refused = [o for o in outcomes if o.get("status") == "refused"]
    if refused:
        first = refused[0]
        raise RuntimeError(
            f"{len(refused)} demo rows refused, e.g. {rows[first['index']]}: {first.get('errors')}"
        )


def _date(value: object) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else None


def load_district(
    client: SanpiClient,
    data: DemoDataset,
    *,
    progress: Progress = _quiet,
    milestones: bool = True,
    wait_timeout: float = 60.0,
) -> LoadSummary:
    """Periods, targets, projects, listings, then milestones and cancellations, all over HTTP."""
    loader = DemoLoader(client, data, progress)
    summary = LoadSummary()
    loader.check_parks()
    loader.periods(summary)
    loader.targets()
    loader.projects(summary)
    loader.listings(summary)
    loader.close_periods()
    if milestones:
        loader.milestones(summary, wait_timeout)
        loader.progress_histories(summary)
    loader.cancellations(summary)
    if milestones:
        loader.evaluate()
    return summary


# --- the province benchmark: bulk import -------------------------------------------------------------

SHEET_COLUMNS = ["id", "name", "park", "enterprise_name", "category", "chain_tag", "is_manufacturing", "total_investment", "initial_stage", "signed_date", "started_date", "sign_period", "start_period", "produce_period"]  # fmt: skip


def province_sheet(data: DemoDataset, projects: list[DemoProject]) -> bytes:
    """A CSV (English headers) the registry's import reads: one row per project with its periods."""
    listed = periods_by_key(data)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(SHEET_COLUMNS)
    for p in projects:
        body: dict[str, Any] = p.body
        periods = listed.get(p.key, {})
        writer.writerow(
            [
                data.project_id(p.key),
                body["name"],
                body["park"],
                body["enterprise"]["name"],
                body["category"],
                body["chain_tag"],
                "true" if body["is_manufacturing"] else "false",
                body["total_investment"],
                body["initial_stage"],
                body.get("signed_date", ""),
                body.get("started_date", ""),
                periods.get("SIGN", ""),
                periods.get("START", ""),
                periods.get("PRODUCE", ""),
            ]
        )
    return buffer.getvalue().encode()


def load_province(
    client: SanpiClient, data: DemoDataset, *, chunk: int = 2_000, progress: Progress = _quiet
) -> LoadSummary:
    """Periods over the API, then the projects and their listings by the bulk import, `chunk` rows
    a request (each all-or-nothing). A chunk whose first project exists was loaded before."""
    loader = DemoLoader(client, data, progress)
    summary = LoadSummary()
    loader.check_parks()
    loader.periods(summary)
    total = len(data.projects)
    done = 0
    for part in chunks(data.projects, chunk):
        first = data.project_id(part[0].key)
        try:
            client.registry.get_project(first)
            already = True
        except ApiError as exc:
            if exc.status != 404:
                raise
            already = False
        if not already:
            report = client.registry.import_sheet(
                "province.csv",
                province_sheet(data, part),
                idempotency_key=loader._key("chunk", first),
            )
            summary.projects += report["created"]
        done += len(part)
        progress("projects", done, total)
    summary.listings = len(data.listings)
    return summary
