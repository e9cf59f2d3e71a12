"""Rule evaluation with I/O: load facts, run the pure rules, reconcile stored alerts, emit events."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import logging
import operator
import time
import uuid
import weakref
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, TypeVar

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import (
    AlertRaised,
    AlertResolved,
    AlertRule,
    AlertUpdated,
    MilestoneDueSoon,
    MilestoneKind,
    MilestoneOverdue,
    Severity,
    Stage,
)
from sanpi.events.models.alerts import AlertEvent
from sanpi.events.vocabulary import MilestoneStatus
from sanpi.events.xun import parse_period
from sanpi.kit import Clock, Database, NotFound, Reading, Slot, UnitOfWork, today, utcnow
from sanpi.kit.gc_pause import gc_paused
from sanpi.kit.id_spans import Span
from sanpi.kit.named_rows import NamedRow
from sanpi.kit.pagination import created_key_after, page_by_created
from sanpi.milestone import metrics
from sanpi.milestone.messages import UNKNOWN_PROJECT
from sanpi.milestone.rules import forecast, repository, scoped, workers
from sanpi.milestone.rules.areas import Areas
from sanpi.milestone.rules.coalescer import MAX_BATCH, Coalescer
from sanpi.milestone.rules.evaluation import (
    Deadlines,
    DesiredAlert,
    Pacing,
    evaluate_project,
    investment_pacing,
    open_milestones,
)
from sanpi.milestone.rules.facts import (
    Earlier,
    IssueFact,
    MilestoneFact,
    PhotoFact,
    PlanFact,
    PlanRow,
    ProjectFacts,
    ReportFact,
    ReportRows,
    ReportsTruncated,
    StageFact,
)
from sanpi.milestone.rules.lights import ParkLight, lights_of
from sanpi.milestone.rules.models import Alert, AlertState
from sanpi.milestone.rules.reconcile import Action, Change, reconcile
from sanpi.milestone.settings import MilestoneSettings

log = logging.getLogger("sanpi.milestone.rules")

# SQLite allows 999 bound parameters per statement in older builds: load facts in chunks.
CHUNK = 400
QUIET_STAGES = frozenset({Stage.SUSPENDED, Stage.CANCELLED, Stage.EFFECTIVE})
# A full pass parses ~90 period keys per project (1.8M at province scale) out of a few hundred
# distinct ones: parse each once. ReportPeriod is frozen, so sharing one is safe.
_period = functools.lru_cache(maxsize=4096)(parse_period)


@dataclass
class EvaluationResult:
    evaluation_id: str
    as_of: dt.date
    projects: int = 0
    raised: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    firing: int = 0
    # A preview writes nothing and tells nobody: what would fire as of the day, by project.
    preview: bool = False
    # (None for the project of a scoped rule's alert: R14, R15.)
    would_fire: list[tuple[NamedRow | None, DesiredAlert]] = field(default_factory=list)
    # Per rule, the projects it could not judge for a missing input (no alert, never a false one);
    # for the scoped rules R14 and R15, the scopes (a cohort too small, no target of the year).
    silent: Counter[AlertRule] = field(default_factory=Counter)


async def evaluation_date(session: AsyncSession, clock: Clock) -> dt.date:
    """The day scheduled and event-driven evaluations run for: the pinned day, else today."""
    pin = await repository.pinned(session)
    return pin.as_of if pin is not None else today(clock)


async def pin(session: AsyncSession, as_of: dt.date, by: str) -> None:
    await repository.set_pin(session, as_of, by)


async def unpin(session: AsyncSession) -> None:
    await repository.unpin(session)


# The facts of a stage change and of a milestone from their rows' columns (a full pass at
# province scale makes ~80k and ~100k of them): the columns picked in C and the tuple made by
# _make, ~half the cost of the named tuple's __new__ called with each column from a generator.
_STAGE_COLUMNS = operator.attrgetter("to_stage", "effective_date")
_STAGE_FACT = StageFact._make
_MILESTONE_COLUMNS = operator.attrgetter(
    "kind", "label", "baseline_date", "forecast_date", "actual_date"
)
_MILESTONE_FACT = MilestoneFact._make


def facts_of(
    project: NamedRow,
    history: Sequence[NamedRow],
    plan_rows: Sequence[NamedRow],
    reports: Sequence[ReportFact],
    plans: Sequence[PlanRow],
    reports_from: dt.date | None = None,
    earlier: Earlier | None = None,
    photos: Sequence[PhotoFact] = (),
    issues: Sequence[IssueFact] = (),
) -> ProjectFacts:
    """The pure rules' view of one project, from its rows (its reports already as facts; with
    `earlier`, those of periods ending on or after `reports_from`)."""
    stages = tuple(map(_STAGE_FACT, map(_STAGE_COLUMNS, history)))
    if not stages:
        stages = (StageFact(project.stage, project.stage_since),)
    known_from = min([project.registered_on, *(s.effective_date for s in stages)])
    production = next((m for m in plan_rows if m.kind == "IN_PRODUCTION" and not m.label), None)
    start = next((m for m in plan_rows if m.kind == "STARTED" and not m.label), None)
    return ProjectFacts(
        project_id=project.project_id,
        name=project.name,
        park=project.park,
        total_investment=project.total_investment,
        known_from=known_from,
        contract_amount=project.contract_amount,
        signed_date=project.signed_date,
        # An approved replan or named baseline of the start moves R02's planned start, as the
        # production node's moves R09's (the registry's date is the original plan).
        planned_start=start.forecast_date
        if start is not None and start.forecast_date is not None
        else project.planned_start_date,
        # The registry's planned production day; a milestone planned only here counts too.
        planned_production=project.planned_production_date
        or (production.baseline_date if production else None),
        expected_resume_date=project.expected_resume_date,
        stages=stages,
        milestones=tuple(map(_MILESTONE_FACT, map(_MILESTONE_COLUMNS, plan_rows))),
        reports=tuple(reports),
        reports_from=reports_from if earlier is not None else None,
        # R16 carries the highest physical progress forward from 0 (max(pct, highest or 0.0)).
        earlier_highest_pct=(
            max(earlier.highest_pct, 0.0)
            if earlier is not None and earlier.highest_pct is not None
            else None
        ),
        earlier_highest_cum=earlier.highest_cum if earlier is not None else None,
        photos=tuple(photos),
        issues=tuple(issues),
        plans=tuple(
            PlanFact(
                p.year,
                p.annual_plan,
                tuple(p.monthly) if p.monthly else None,
                tuple(p.xun) if p.xun else None,
            )
            for p in plans
        ),
    )


@dataclass
class Loaded:
    project: NamedRow
    facts: ProjectFacts
    milestones: Sequence[NamedRow]


class OfProject(Protocol):
    @property
    def project_id(self) -> str: ...


R = TypeVar("R", bound=OfProject)


def by_project(rows: Iterable[R]) -> dict[str, list[R]]:
    """Rows grouped by project, in their order: one pass (filtering the whole chunk per project
    was quadratic: 52 of 67 s of a 1,000-project pass with 94k reports)."""
    grouped: dict[str, list[R]] = defaultdict(list)
    for row in rows:
        grouped[row.project_id].append(row)
    return grouped


def _as_facts(
    found: ReportRows,
) -> tuple[dict[str, list[ReportFact]], dict[str, Earlier]]:
    """The reports as facts by project, and the older reports' highest figures by project."""
    reports: dict[str, list[ReportFact]] = defaultdict(list)
    earlier: dict[str, Earlier] = {}
    day = found.day
    make = ReportFact._make  # ~half the cost of the named tuple's __new__ (7 arguments)
    # The hot loop of a full pass (~255k rows at province scale): unpacked driver rows, one pass.
    for pid, key, cum, ytd, pct, submitted_on, lowered, funds in found.rows:
        if key is None:
            earlier[pid] = Earlier(cum, pct)
        else:
            reports[pid].append(
                make((_period(key), cum, ytd, pct, day(submitted_on), bool(lowered), funds))
            )
    return reports, earlier


class ReportsAhead:
    """A chunk's recent reports, read by the database while this process runs the rules of the
    chunk before. The reports are a full pass's largest statement (~255k rows at province
    scale) and the rules pure Python: on PostgreSQL the server works meanwhile in its own
    process (a steady pass at 20,000 projects 4.96 -> 4.09 s). On SQLite it gains nothing: the
    driver's thread builds each row under the GIL the rules hold. One statement in flight at
    most, and only while the pass runs no other statement: a connection takes one at a time."""

    def __init__(self, areas: Areas, tx: Reading, since: dt.date) -> None:
        self._areas = areas
        self._tx = tx
        self.since = since  # the reports of periods ending on or after it
        self._reading: asyncio.Task[ReportRows] | None = None
        self._ids: Sequence[str] = ()

    async def start(self, project_ids: Sequence[str]) -> None:
        """Hands the statement to the driver and returns without its rows."""
        self._ids = project_ids  # a Span stays one (kit.id_spans)
        self._reading = asyncio.create_task(
            self._areas.recent_reports(self._tx, self._ids, self.since)
        )
        await asyncio.sleep(0)  # the task runs up to the driver's answer: the statement is sent

    async def take(self, project_ids: Sequence[str]) -> ReportRows:
        """These projects' recent reports: the ones read ahead, or read now."""
        reading, self._reading = self._reading, None
        if reading is None:
            return await self._areas.recent_reports(self._tx, project_ids, self.since)
        assert list(self._ids) == list(project_ids), "read ahead for other projects"
        return await reading

    async def settle(self) -> None:
        """Waits until the statement in flight is done, so the connection is free for another
        (its rows, or its error, stay for `take`)."""
        if self._reading is not None:
            await asyncio.wait({self._reading})

    async def drop(self) -> None:
        """Ends a read that nobody will take (a pass that failed), its error included."""
        reading, self._reading = self._reading, None
        if reading is not None:
            await asyncio.gather(reading, return_exceptions=True)


async def load(
    areas: Areas,
    tx: Reading,
    project_ids: Sequence[str],
    as_of: dt.date,
    ahead: ReportsAhead,
    next_ids: Sequence[str],
    plans_on: dt.date | None = None,
) -> list[Loaded]:
    """The facts of up to CHUNK projects as of a day, one query per table, with the reports of
    periods ending on or after `ahead.since` (see ProjectFacts.reports_from) taken from `ahead`,
    which then starts reading those of `next_ids` before the facts are made. With `plans_on`,
    the milestones carry the plan in force that day where named baselines tell it (plan_on)."""
    ids = project_ids  # a Span stays one
    found = await ahead.take(ids)
    rows, changes = await areas.projects(tx, ids)
    milestone_rows = await areas.milestones(tx, ids)
    baselines = by_project(await areas.baselines(tx, ids)) if plans_on is not None else {}
    # After the model queries above, which flushed this transaction's changed plan objects
    # (plan_facts writes the plans a consumer batch queued).
    plan_rows = await areas.plans(tx, ids, as_of.year)
    # R16's photo findings: of milestones dated within its window (ahead.since is its start).
    photo_rows = await areas.photo_findings(tx, ids, ahead.since)
    # R12's assigned issues open on the day (few rows: most projects have none open).
    issue_rows = await areas.open_issues(tx, ids, as_of)
    if next_ids:
        await ahead.start(next_ids)
    history = by_project(changes)
    mine_by_id = by_project(milestone_rows)
    reports, earlier = _as_facts(found)
    plans = by_project(plan_rows)
    photos: dict[str, list[PhotoFact]] = defaultdict(list)
    for pid, *finding in photo_rows:
        photos[pid].append(PhotoFact(*finding))
    issues: dict[str, list[IssueFact]] = defaultdict(list)
    for pid, *issue in issue_rows:
        issues[pid].append(IssueFact(*issue))
    out: list[Loaded] = []
    for project in rows:
        pid = project.project_id
        mine = mine_by_id.get(pid, [])
        if plans_on is not None and pid in baselines:
            mine = plan_on(plans_on, mine, baselines[pid])
        facts = facts_of(
            project,
            history.get(pid, []),
            mine,
            reports.get(pid, []),
            plans.get(pid, []),
            ahead.since,
            earlier.get(pid),
            photos.get(pid, ()),
            issues.get(pid, ()),
        )
        out.append(Loaded(project, facts, mine))
    return out


def plan_on(day: dt.date, milestones: list[NamedRow], baselines: list[NamedRow]) -> list[NamedRow]:
    """The milestones as planned on `day`: a named baseline that took effect after it had not
    moved them yet, so each keeps the date of the last baseline in effect then, else its
    original date (forecast none). Replans outside named baselines leave no such history: with
    no baseline after `day` the plan is today's."""
    if all(b.effective_on <= day for b in baselines):
        return milestones
    before = [b for b in baselines if b.effective_on <= day]
    planned = (
        {(d["kind"], d["label"]): dt.date.fromisoformat(d["date"]) for d in before[-1].dates}
        if before
        else {}
    )
    found = []
    for m in milestones:
        date = planned.get((str(m.kind), m.label))
        found.append(m._replace(forecast_date=date if date != m.baseline_date else None))
    return found


@dataclass
class Outcome:
    item: Loaded
    alerts: list[DesiredAlert]
    pacing: Pacing | None


def _outcome(
    item: Loaded,
    as_of: dt.date,
    settings: MilestoneSettings,
    full: bool,
    silent: Counter[AlertRule] | None = None,
    deadlines: Deadlines | None = None,
) -> Outcome:
    if deadlines is None:
        deadlines = Deadlines.of(settings)
    alerts = evaluate_project(item.facts, as_of, settings.rules, deadlines, silent)
    paced = investment_pacing(item.facts, as_of) if full else None
    return Outcome(item, alerts, paced)


async def _evaluate_chunk(
    areas: Areas,
    tx: Reading,
    ids: Sequence[str],
    *,
    settings: MilestoneSettings,
    as_of: dt.date,
    full: bool,
    ahead: ReportsAhead,
    next_ids: Sequence[str],
    silent: Counter[AlertRule] | None = None,
    plans_on: dt.date | None = None,
) -> list[Outcome]:
    """The rules' outcome for up to CHUNK projects, in their order. The rules look back at most
    R16's window (90 days, ~12 of a project's ~90 reports at province scale) unless a project's
    figures did not move for that long or it stopped reporting: only those load every report."""
    outcomes: list[Outcome | Loaded] = []
    deadlines = Deadlines.of(settings)  # once a chunk, not once a project
    for item in await load(areas, tx, ids, as_of, ahead, next_ids, plans_on):
        try:
            counted: Counter[AlertRule] = Counter()
            outcomes.append(_outcome(item, as_of, settings, full, counted, deadlines))
            if silent is not None and counted:  # most projects leave none silent
                silent.update(counted)
        except ReportsTruncated:
            outcomes.append(item)
    truncated = [o for o in outcomes if isinstance(o, Loaded)]
    if truncated:
        await ahead.settle()
        every, _ = _as_facts(await areas.all_reports(tx, [o.project.project_id for o in truncated]))
        for item in truncated:
            item.facts = dataclasses.replace(
                item.facts,
                reports=tuple(every.get(item.project.project_id, [])),
                reports_from=None,
                earlier_highest_pct=None,
                earlier_highest_cum=None,
            )
    return [
        _outcome(o, as_of, settings, full, silent, deadlines) if isinstance(o, Loaded) else o
        for o in outcomes
    ]


@dataclass(slots=True)
class Judged:
    """What a pass keeps of one judged project once its facts are dropped: the same wherever
    its chunk was judged (this process or an evaluation worker, rules.workers)."""

    project: NamedRow
    alerts: list[DesiredAlert]
    pacing: Pacing | None
    portfolio: scoped.PortfolioFact | None  # full passes only (R14/R15's view of it)
    signals: list[Signal]  # milestone statuses that change (none in a preview)


@dataclass(frozen=True)
class ChunkTask:
    """An evaluation's chunks for one judge (this process, or a worker's share of a full
    pass), as of its day."""

    chunks: Sequence[Sequence[str]]
    as_of: dt.date
    since: dt.date  # ReportsAhead's: R16's window
    preview: bool
    full: bool = True  # every project: pacing and R14/R15's portfolio facts too


async def judge_chunks(
    areas: Areas, tx: Reading, settings: MilestoneSettings, task: ChunkTask
) -> tuple[list[list[Judged]], Counter[AlertRule]]:
    """Every chunk of the task judged, in order, and the rules left silent (a missing input)."""
    judged: list[list[Judged]] = []
    silent: Counter[AlertRule] = Counter()
    soon = settings.rules.r17.milestone_days
    as_of, chunks = task.as_of, task.chunks
    ahead = ReportsAhead(areas, tx, task.since)
    try:
        for n, chunk in enumerate(chunks):
            outcomes = await _evaluate_chunk(
                areas,
                tx,
                chunk,
                settings=settings,
                as_of=as_of,
                full=task.full,
                ahead=ahead,
                next_ids=chunks[n + 1] if n + 1 < len(chunks) else (),
                silent=silent,
                # A preview judges a day against the plan of that day (where it is known).
                plans_on=as_of if task.preview else None,
            )
            judged.append(
                [
                    Judged(
                        o.item.project,
                        o.alerts,
                        o.pacing,
                        scoped.portfolio_fact(o.item.project, o.item.facts, as_of)
                        if task.full
                        else None,
                        [] if task.preview else milestone_signals(o.item, as_of, soon),
                    )
                    for o in outcomes
                ]
            )
    finally:
        await ahead.drop()  # a failed chunk's rollback must not meet the next chunk's read
    return judged, silent


async def evaluate(
    uow: UnitOfWork,
    areas: Areas,
    *,
    settings: MilestoneSettings,
    as_of: dt.date,
    project_ids: Sequence[str] | None = None,
    preview: bool = False,
) -> EvaluationResult:
    """One evaluation pass as of a day: every rule for the given projects (all by default).

    A preview judges the same way and writes nothing: no alert, no milestone status, no event,
    no gauge; the result says what would fire and what would change."""
    if project_ids is not None:
        return await _evaluate(
            uow, areas, settings=settings, as_of=as_of, project_ids=project_ids, preview=preview
        )
    # A full pass makes millions of short-lived objects at province scale (see gc_paused).
    with gc_paused():
        if not preview:
            await _one_full_pass_at_a_time(uow.session)
        return await _evaluate(
            uow, areas, settings=settings, as_of=as_of, project_ids=None, preview=preview
        )


async def _evaluate(
    uow: UnitOfWork,
    areas: Areas,
    *,
    settings: MilestoneSettings,
    as_of: dt.date,
    project_ids: Sequence[str] | None,
    preview: bool = False,
) -> EvaluationResult:
    started = time.perf_counter()
    session = uow.session
    ids = list(project_ids) if project_ids is not None else await areas.project_ids(uow)
    result = EvaluationResult(
        evaluation_id=str(uuid.uuid4()), as_of=as_of, projects=len(ids), preview=preview
    )
    full = project_ids is None
    # Chunk by chunk, and only what Judged keeps outlives a chunk: holding every project's
    # facts at once (~1.8M reports at province scale) made the garbage collector's full scans
    # half of a pass, and the memory grew with the province.
    by_id: dict[str, NamedRow] = {}
    pacing: list[tuple[str, Pacing]] = []
    desired: list[DesiredAlert] = []
    statuses: list[dict[str, object]] = []
    portfolio: list[scoped.PortfolioFact] = []  # R14/R15's view of every project (full passes)
    # A full pass reads every project in id order: each chunk is a span of them (kit.id_spans).
    chunks: Sequence[Sequence[str]] = (
        Span.chunks(ids, CHUNK)
        if full
        else [ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)]
    )
    task = ChunkTask(
        chunks,
        as_of,
        as_of - dt.timedelta(days=settings.rules.r16.lookback_days),
        preview,
        full,
    )
    pool = workers.pool_for(settings) if full else None
    if pool is None:
        judged, silent = await judge_chunks(areas, uow, settings, task)
        if full:
            metrics.RULE_EVALUATION_CHUNKS.labels("service").inc(len(chunks))
    else:
        try:
            judged, silent = await pool.judge_with(areas, uow, settings, task)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): this pass is judged here, the next one
            # starts a new worker.
            log.exception("an evaluation worker died: the pass is judged in this process")
            workers.discard(pool)
            judged, silent = await judge_chunks(areas, uow, settings, task)
    result.silent.update(silent)
    for chunk_judged in judged:
        for item in chunk_judged:
            project = item.project
            by_id[project.project_id] = project
            desired.extend(item.alerts)
            if item.portfolio is not None:
                portfolio.append(item.portfolio)
            if preview:
                result.would_fire.extend(
                    (project, a) for a in item.alerts if a.severity is not Severity.GREEN
                )
                continue
            _publish_signals(uow, areas, item.signals, as_of, statuses)
            if item.pacing is not None:
                pacing.append((project.park, item.pacing))
    firing = {
        a.alert_key: a for chunk in chunks for a in await repository.firing_for(session, chunk)
    }
    if full:
        # The scoped rules (R14, R15): once per full pass, from the facts gathered above.
        found = await _scoped(session, portfolio, settings, as_of, result.silent)
        desired.extend(found)
        if preview:
            result.would_fire.extend((None, a) for a in found if a.severity is not Severity.GREEN)
        firing.update((a.alert_key, a) for a in await repository.firing_scoped(session))
    if preview:
        return _previewed(result, desired, firing)
    await areas.set_milestone_statuses(uow, statuses)
    writes = Writes()
    for change in reconcile(desired, {k: a.severity for k, a in firing.items()}):
        _apply(uow, areas, change, firing.get(change.key), by_id, as_of, result, writes)
    await repository.write(session, writes.new, writes.updates)
    result.firing = sum(1 for c in desired if c.severity is not Severity.GREEN)
    if full:
        metrics.publish_pacing(pacing)
    metrics.RULE_EVALUATION.labels("all" if full else "projects").observe(
        time.perf_counter() - started
    )
    return result


async def _scoped(
    session: AsyncSession,
    portfolio: Sequence[scoped.PortfolioFact],
    settings: MilestoneSettings,
    as_of: dt.date,
    silent: Counter[AlertRule],
) -> list[DesiredAlert]:
    targets = await repository.targets_of(session, as_of.year)
    return scoped.scoped_alerts(
        portfolio,
        targets,
        district=settings.district,
        as_of=as_of,
        rules=settings.rules,
        silent=silent,
    )


# pg_advisory_xact_lock key of full evaluation passes ("sanpi-ev" in ASCII).
FULL_PASS_LOCK = 0x73616E70692D6576


async def _one_full_pass_at_a_time(session: AsyncSession) -> None:
    """Replicas on PostgreSQL take turns for full passes (the lock ends with the transaction);
    SQLite's BEGIN IMMEDIATE already serialises them."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        connection = await session.connection()
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": FULL_PASS_LOCK}
        )


class Signal(NamedTuple):
    """A milestone entering due-soon or overdue as of the day: its new status, and the event
    to publish (None for back to pending)."""

    milestone_id: str
    project_id: str
    kind: MilestoneKind
    status: MilestoneStatus
    due: dt.date
    days: int
    title: str  # the milestone's name in the timeline's summary


def milestone_signals(item: Loaded, as_of: dt.date, soon: int) -> list[Signal]:
    """The project's milestones whose status changes as of the day (pure: the main process
    publishes them, wherever the chunk was judged)."""
    state = item.facts.stage_on(as_of)
    if state is None or state[0] in QUIET_STAGES:
        return []
    found: list[Signal] = []
    still_open = {m.name for m in open_milestones(item.facts, state[0], as_of)}
    # The facts were made from these rows, one each in their order (facts_of): not made again.
    for row, fact in zip(item.milestones, item.facts.milestones, strict=True):
        due = fact.due
        if due is None or row.status is MilestoneStatus.ACHIEVED or fact.name not in still_open:
            continue
        days = (due - as_of).days
        status = (
            MilestoneStatus.OVERDUE
            if days < 0
            else MilestoneStatus.DUE_SOON
            if days <= soon
            else MilestoneStatus.PENDING
        )
        if status is not row.status:
            found.append(Signal(row.id, row.project_id, row.kind, status, due, days, fact.title))
    return found


def _publish_signals(
    uow: UnitOfWork,
    areas: Areas,
    signals: Sequence[Signal],
    as_of: dt.date,
    statuses: list[dict[str, object]],
) -> None:
    """milestone.due_soon / milestone.overdue, once each time a milestone enters that status;
    the new statuses go to `statuses` (milestones.set_status)."""
    for signal in signals:
        statuses.append(
            {"milestone_id": signal.milestone_id, "status": signal.status, "updated_at": utcnow()}
        )
        pid, due, days, name = signal.project_id, signal.due, signal.days, signal.title
        if signal.status is MilestoneStatus.DUE_SOON:
            areas.publish(
                uow,
                MilestoneDueSoon(
                    project_id=pid, kind=signal.kind, due_date=due, days_to_due=days, as_of=as_of
                ),
                project_id=pid,
                by="rules",
                summary=f"{name} 将于 {due} 到期 (还有 {days} 天)",
            )
        elif signal.status is MilestoneStatus.OVERDUE:
            areas.publish(
                uow,
                MilestoneOverdue(
                    project_id=pid,
                    kind=signal.kind,
                    due_date=due,
                    days_overdue=-days,
                    as_of=as_of,
                ),
                project_id=pid,
                by="rules",
                summary=f"{name} 已逾期 {-days} 天 (计划 {due})",
            )


@dataclass
class Writes:
    """An evaluation's alert rows, written together once every change is decided."""

    new: list[dict[str, object]] = field(default_factory=list)
    updates: list[dict[str, object]] = field(default_factory=list)


def _previewed(
    result: EvaluationResult, desired: list[DesiredAlert], firing: dict[str, NamedRow]
) -> EvaluationResult:
    """The changes an evaluation would make, counted by kind, and nothing else."""
    for change in reconcile(desired, {k: a.severity for k, a in firing.items()}):
        if change.action is Action.RAISE:
            result.raised.append(change.key)
        elif change.action is Action.UPDATE:
            result.updated.append(change.key)
        elif change.action is Action.RESOLVE:
            result.resolved.append(change.key)
    result.firing = len(result.would_fire)
    return result


def _apply(
    uow: UnitOfWork,
    areas: Areas,
    change: Change,
    row: NamedRow | None,
    by_id: dict[str, NamedRow],
    as_of: dt.date,
    result: EvaluationResult,
    writes: Writes,
) -> None:
    now = utcnow()
    desired = change.desired
    if change.action is Action.REFRESH and _says_the_same(row, desired, as_of):
        # Nothing new since the last evaluation of the day: no write. Every report re-evaluates
        # its project, and a full pass at province scale rewrote ~10,000 unchanged alerts.
        return
    figures: dict[str, object] = {}
    if desired is not None:
        figures = {name: getattr(desired, name) for name in repository.FIGURES}
    alert: dict[str, object]
    if change.action is Action.RAISE:
        assert desired is not None
        project_id: str | None = None
        park, project_name = desired.park, None
        if desired.scope == "project":
            project_id = change.key.split(":")[1]
            project = by_id[project_id]
            park, project_name = project.park, project.name
        # Every column, as an Alert object with these values would have been inserted.
        alert = {
            "id": str(uuid.uuid4()),
            "alert_key": change.key,
            "rule": desired.rule,
            "state": AlertState.FIRING,
            "project_id": project_id,
            "park": park,
            "project_name": project_name,
            **figures,
            "as_of": as_of,
            "evaluation_id": result.evaluation_id,
            "first_raised_at": now,
            "updated_at": now,
            "resolved_at": None,
            "created_at": now,
        }
        writes.new.append(alert)
    else:
        assert row is not None
        figures.update(as_of=as_of, evaluation_id=result.evaluation_id, updated_at=now)
        if change.action is Action.RESOLVE:
            figures.update(state=AlertState.RESOLVED, resolved_at=now)
        alert = repository.changed(row, figures)
        writes.updates.append(alert)
        if change.action is Action.REFRESH:
            return
    if alert["project_id"] is None:
        _publish_scoped(uow, change, alert, result)
        return
    project_id = str(alert["project_id"] or "")
    fields = _event_fields(alert, by_id.get(project_id))
    event: AlertEvent
    if change.action is Action.RAISE:
        event = AlertRaised(**fields)
        result.raised.append(change.key)
        verb = "预警"
    elif change.action is Action.UPDATE:
        assert change.previous_severity is not None
        event = AlertUpdated(**fields, previous_severity=change.previous_severity)
        result.updated.append(change.key)
        verb = f"预警升降级 ({change.previous_severity} →)"
    else:
        event = AlertResolved(**fields, resolved_at=now)
        result.resolved.append(change.key)
        verb = "预警解除"
    areas.publish(
        uow,
        event,
        project_id=project_id,
        by="rules",
        summary=f"{verb} {alert['rule']} {alert['severity']}: {alert['title']}",
    )


def _publish_scoped(
    uow: UnitOfWork, change: Change, alert: dict[str, object], result: EvaluationResult
) -> None:
    """A scoped rule's alert event (R14, R15): about a park (its park) or the district (no park:
    it reaches the subscribers without a park filter); no project, so no project timeline."""
    fields: dict[str, object] = {name: alert[name] for name in _EVENT_COLUMNS}
    fields["scope"] = "park" if alert["park"] else "district"
    key = str(alert["alert_key"])
    if alert["rule"] == AlertRule.R14:
        fields["periods"] = [int(key.rsplit(":", 1)[1])]
    event: AlertEvent
    if change.action is Action.RAISE:
        event = AlertRaised(**fields)
        result.raised.append(key)
    elif change.action is Action.UPDATE:
        assert change.previous_severity is not None
        event = AlertUpdated(**fields, previous_severity=change.previous_severity)
        result.updated.append(key)
    else:
        event = AlertResolved(**fields, resolved_at=utcnow())
        result.resolved.append(key)
    uow.publish(event)


def _says_the_same(row: NamedRow | None, desired: DesiredAlert | None, as_of: dt.date) -> bool:
    return (
        row is not None
        and desired is not None
        and row.as_of == as_of
        # Every figure, the English words too: an alert stored before they were written gets
        # them on its next evaluation.
        and all(getattr(row, n) == getattr(desired, n) for n in repository.FIGURES)
    )


# The alert's own columns its events carry.
_EVENT_COLUMNS = (
    "alert_key",
    "rule",
    "project_id",
    "project_name",
    "park",
    *repository.FIGURES,
    "as_of",
    "evaluation_id",
    "first_raised_at",
)


def _event_fields(alert: dict[str, object], project: NamedRow | None) -> dict[str, object]:
    """The alert's content plus the routing attributes the notification service matches on."""
    fields: dict[str, object] = {name: alert[name] for name in _EVENT_COLUMNS}
    fields["scope"] = "project"
    if project is not None:
        fields.update(
            project_name=project.name,
            park=project.park,
            chain_tag=project.chain_tag,
            category=project.category,
            total_investment=project.total_investment,
            periods=list(project.periods),
            responsible_person=project.responsible_person,
            responsible_unit=project.responsible_unit,
            sponsor_leader=project.sponsor_leader,
        )
    return fields


# The projects whose rules are due after this transaction, with their tokens.
REEVALUATE: Slot[dict[str, str]] = Slot("milestone.reevaluate", dict)


def reevaluate(
    uow: UnitOfWork, areas: Areas, *, settings: MilestoneSettings, clock: Clock, project_id: str
) -> None:
    """Evaluates a changed project's rules once this transaction has committed (if evaluation
    on events is on), together with the projects of the other transactions that committed
    meanwhile: one evaluation pass for many requests and consumer batches, not one per
    transaction (~12 statements each, ~45 % of a progress report's CPU). The transaction
    returns once its projects were evaluated, so a client reads its alerts after its POST.

    The project's mark is written in this transaction, so the evaluation is due even if the
    process stops before it ran: the sweep (evaluate_left) evaluates marks left behind. A
    consumer catching up (UnitOfWork.catching_up) only writes the marks: it evaluates them all
    once it has caught up (consumers.py), not once per batch."""
    if not settings.evaluate_on_events:
        return
    marks = uow.peek(REEVALUATE)
    if marks is None:
        marks = uow.put(REEVALUATE, {})
        due = marks

        async def evaluate_marked(db: Database) -> None:
            await coalescer(db, areas, settings, clock).evaluate(list(due.items()))

        if not uow.catching_up:
            uow.after_commit(REEVALUATE.name, evaluate_marked)
    if project_id not in marks:
        marks[project_id] = str(uuid.uuid4())
        repository.mark_due(uow, project_id, marks[project_id])


_COALESCERS: weakref.WeakKeyDictionary[Database, Coalescer] = weakref.WeakKeyDictionary()


def coalescer(db: Database, areas: Areas, settings: MilestoneSettings, clock: Clock) -> Coalescer:
    """The database's coalescer (one per service; a new one in another event loop: tests may
    run one Database under several)."""
    found = _COALESCERS.get(db)
    if found is None or found.in_another_loop():

        async def evaluate_projects(uow: UnitOfWork, ids: list[str]) -> None:
            as_of = await evaluation_date(uow.session, clock)
            await evaluate(uow, areas, settings=settings, as_of=as_of, project_ids=ids)

        found = _COALESCERS[db] = Coalescer(db, evaluate_projects)
    return found


async def evaluate_left(
    db: Database,
    areas: Areas,
    settings: MilestoneSettings,
    clock: Clock,
    *,
    before: dt.datetime | None,
) -> int:
    """Evaluates the marks written before `before` (all with None) that no evaluation deleted:
    a process stopped between a commit and its evaluation, or the evaluation failed."""
    async with db.read() as session:
        marks = await repository.due_before(session, before)
    work = coalescer(db, areas, settings, clock)
    for start in range(0, len(marks), MAX_BATCH):
        await work.evaluate(marks[start : start + MAX_BATCH])
    return len(marks)


async def alert_page(
    session: AsyncSession,
    *,
    limit: int,
    cursor: str | None,
    project_id: str | None = None,
    rule: AlertRule | None = None,
    severity: Severity | None = None,
    park: str | None = None,
    state: AlertState | None = None,
) -> tuple[list[Alert], str | None]:
    rows = await repository.page(
        session,
        limit=limit + 1,
        after=created_key_after(cursor),
        project_id=project_id,
        rule=rule,
        severity=severity,
        park=park,
        state=state,
    )
    return page_by_created(rows, limit, lambda a: (a.created_at, a.id))


async def refresh_gauges(session: AsyncSession, areas: Areas, *, share: float) -> None:
    """Recounts the firing alerts and traffic lights for Prometheus."""
    metrics.publish_alerts(
        await repository.firing(session), await traffic_lights(session, areas, share=share)
    )


async def traffic_lights(session: AsyncSession, areas: Areas, *, share: float) -> list[ParkLight]:
    active = areas.active_projects()
    return lights_of(await repository.colour_counts(session, active), share=share)


@dataclass
class Assessment:
    """What a pass as of a day finds, for reading (bulletins): no alert stored, no event sent."""

    as_of: dt.date
    projects: list[Loaded] = field(default_factory=list)
    alerts: dict[str, list[DesiredAlert]] = field(default_factory=dict)  # by project, not green
    pacing: dict[str, Pacing] = field(default_factory=dict)  # by project, those with a plan


async def assess(
    session: AsyncSession, areas: Areas, *, settings: MilestoneSettings, as_of: dt.date
) -> Assessment:
    """Every rule for every project as of a day, read only: the alerts and the investment pacing
    an evaluation pass as of that day would find (POST /admin/evaluate?as_of= previews the same
    alerts), so a bulletin of a past 旬 says what was true at its end."""
    ids = await areas.project_ids(session)
    found = Assessment(as_of)
    chunks = Span.chunks(ids, CHUNK)  # every project, in id order (kit.id_spans)
    ahead = ReportsAhead(
        areas, session, as_of - dt.timedelta(days=settings.rules.r16.lookback_days)
    )
    try:
        for n, chunk in enumerate(chunks):
            next_ids = chunks[n + 1] if n + 1 < len(chunks) else ()
            for outcome in await _evaluate_chunk(
                areas,
                session,
                chunk,
                settings=settings,
                as_of=as_of,
                full=True,
                ahead=ahead,
                next_ids=next_ids,
            ):
                pid = outcome.item.project.project_id
                found.projects.append(outcome.item)
                firing = [a for a in outcome.alerts if a.severity is not Severity.GREEN]
                if firing:
                    found.alerts[pid] = firing
                if outcome.pacing is not None:
                    found.pacing[pid] = outcome.pacing
    finally:
        await ahead.drop()
    return found


async def projections(
    session: AsyncSession, areas: Areas, project_id: str, as_of: dt.date
) -> tuple[Stage | None, list[forecast.Projection]]:
    """A project's stage and slip forecasts as of a day (rule R18 reads the same); NotFound for
    a project this service does not know."""
    # The year's reports: the pace of its investment is read from the newest of them.
    ahead = ReportsAhead(areas, session, dt.date(as_of.year, 1, 1))
    found = await load(areas, session, [project_id], as_of, ahead, ())
    if not found:
        raise NotFound(UNKNOWN_PROJECT(project_id=project_id))
    state = found[0].facts.stage_on(as_of)
    if state is None:
        return None, []
    return state[0], forecast.project(found[0].facts, state[0], as_of)
