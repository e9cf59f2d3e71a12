"""Composes a bulletin (通报) of one 旬 or month as of its last day: the rules and the investment
pacing from this service's own facts (a read-only pass, the one POST /admin/evaluate runs), the
district's targets and rates from the registry's API. Never writes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import AlertRule, ReportPeriodKind, Severity, Stage
from sanpi.events.percent import half_up, pct_of
from sanpi.events.vocabulary import BATCH_ZH, SEVERITY_ORDER, TARGET_ZH
from sanpi.events.xun import ReportPeriod
from sanpi.kit import InvalidInput
from sanpi.kit.messages import Bilingual
from sanpi.milestone.bulletins import messages as refusals
from sanpi.milestone.bulletins import repository, sources
from sanpi.milestone.bulletins.schemas import (
    MARK_ZH,
    BatchLine,
    Bulletin,
    District,
    Investment,
    Mark,
    ParkRank,
    RateLine,
    RedProject,
    RuleHit,
    StageNews,
    TargetLine,
)
from sanpi.milestone.judged import JUDGED
from sanpi.milestone.rules import service as rules
from sanpi.milestone.rules.evaluation import Pacing
from sanpi.milestone.rules.lights import park_lights, project_colour
from sanpi.milestone.settings import MilestoneSettings

RATE_LABELS = {
    "sign_to_start": "签约项目开工率",
    "start_to_production": "开工项目投产率",
    "production_to_effective": "投产项目达效率",
}
# A three-colour mark: orange (serious delay) is shown with the yellows.
MARKS: dict[Severity, Mark] = {
    Severity.RED: "red",
    Severity.ORANGE: "yellow",
    Severity.YELLOW: "yellow",
    Severity.GREEN: "green",
    Severity.BLUE: "green",
}


def investment(pacing: Iterable[Pacing]) -> Investment:
    done = expected = plan = 0
    for p in pacing:
        done += p.completed_ytd
        expected += p.expected_ytd
        plan += p.annual_plan
    completion = pct_of(done, plan)
    due = pct_of(expected, plan)
    gap = None if completion is None or due is None else half_up(completion - due)
    return Investment(
        completed_ytd=done,
        expected_ytd=expected,
        annual_plan=plan,
        completion_pct=completion,
        expected_pct=due,
        gap_pts=gap,
    )


def district(indicators: dict[str, Any], pacing: Iterable[Pacing]) -> District:
    """The registry's indicators as the bulletin prints them, with the district's investment."""
    targets = []
    for t in indicators.get("targets", []):
        count = t["kind"] == "MFG_SIGN_COUNT"
        targets.append(
            TargetLine(
                kind=t["kind"],
                label=TARGET_ZH.get(t["kind"], t["kind"]),
                unit="个" if count else "亿元",
                target=t["target"] if count else round(t["target"] / 10_000, 2),
                actual=t["actual"] if count else round(t["actual"] / 10_000, 2),
                attainment_pct=t["attainment_pct"],
                time_progress_pct=t["time_progress_pct"],
                gap_pts=t["gap_pts"],
            )
        )
    batches = [
        BatchLine(label=BATCH_ZH[batch], count=value["count"], amount_yi=value["amount_yi"])
        for batch, value in indicators.get("year_batches", {}).items()
        if batch in BATCH_ZH
    ]
    rates = [
        RateLine(
            label=RATE_LABELS[name],
            pct=value["pct"],
            numerator=value["numerator"],
            denominator=value["denominator"],
        )
        for name, value in indicators.get("cumulative", {}).items()
        if name in RATE_LABELS
    ]
    return District(
        scope=indicators.get("scope", ""),
        time_progress_pct=indicators.get("time_progress_pct", 0.0),
        targets=targets,
        batches=batches,
        rates=rates,
        investment=investment(pacing),
    )


# The period a per-旬/per-month alert's title ends with: " (旬)", " (月)".
_KIND_SUFFIX = re.compile(r"\s*[(（][旬月][)）]$")


def rule_hits(hits: Iterable[tuple[AlertRule, str, str]]) -> list[RuleHit]:
    """(rule, title, message) of a project's alerts, most severe first, as one line per rule: R04
    and R07 raise an alert per 旬 and per month, and a reader took R04 listed twice for two
    findings. The first (most severe) alert's title names the rule, without its 旬/月; the
    messages are all kept, each once, as they say different things (the 旬's and the month's
    figures)."""
    merged: dict[AlertRule, RuleHit] = {}
    kinds: dict[AlertRule, int] = {}
    for rule, title, message in hits:
        short = title.partition(": ")[2] or title
        hit = merged.get(rule)
        kinds[rule] = kinds.get(rule, 0) + 1
        if hit is None:
            merged[rule] = RuleHit(rule=rule, title=short, message=message)
        elif message and message not in hit.message.split("；"):
            hit.message = f"{hit.message}；{message}" if hit.message else message
    for rule, hit in merged.items():
        if kinds[rule] > 1:
            hit.title = _KIND_SUFFIX.sub("", hit.title)
    return list(merged.values())


def _news_order(news: StageNews) -> tuple[dt.date, str, str, str]:
    """By day, then park and name: the changes of one day came in the order the service took in
    its events (a project registered under construction arrives from Kafka, whose partitions
    interleave differently from one load to the next), and the bulletin must not follow it."""
    return news.day, news.park, news.name, news.project_id


async def compose(
    session: AsyncSession,
    *,
    settings: MilestoneSettings,
    period: ReportPeriod,
    today: dt.date,
    registry: httpx.AsyncBaseTransport | None = None,
) -> Bulletin:
    """The bulletin of `period` as of its last day (today while it runs)."""
    if period.start > today:
        raise InvalidInput(
            refusals.NOT_YET(period=Bilingual(zh=period.zh, en=period.en), today=today),
            errors=[],
        )
    as_of = min(period.end, today)
    assessment = await rules.assess(session, JUDGED, settings=settings, as_of=as_of)
    indicators = await sources.registry_indicators(settings, as_of, transport=registry)
    active = []
    for item in assessment.projects:
        state = item.facts.stage_on(as_of)
        if state is not None and state[0] is not Stage.CANCELLED:
            active.append(item)
    colours = {
        item.project.project_id: project_colour(
            a.severity for a in assessment.alerts.get(item.project.project_id, [])
        )
        for item in active
    }
    lights = park_lights(
        [(i.project.project_id, i.project.park) for i in active],
        [(pid, colour) for pid, colour in colours.items()],
        share=settings.traffic_light_share,
    )
    parks: list[ParkRank] = []
    for light in lights:
        members = [i.project.project_id for i in active if i.project.park == light.park]
        pace = investment(assessment.pacing[m] for m in members if m in assessment.pacing)
        red = sum(1 for m in members if colours[m] is Severity.RED)
        yellow = sum(1 for m in members if colours[m] in (Severity.ORANGE, Severity.YELLOW))
        mark = MARKS[light.overall]
        parks.append(
            ParkRank(
                rank=0,
                park=light.park,
                projects=light.projects,
                red=red,
                yellow=yellow,
                investment=pace,
                mark=mark,
                mark_zh=MARK_ZH[mark],
            )
        )
    # Best first: the highest completion of the annual plans; a park without plans last.
    parks.sort(
        key=lambda p: (
            p.investment.completion_pct is None,
            -(p.investment.completion_pct or 0.0),
            p.park,
        )
    )
    for n, park in enumerate(parks, start=1):
        park.rank = n
    by_id = {i.project.project_id: i.project for i in assessment.projects}
    red_projects = []
    for item in active:
        pid = item.project.project_id
        hits = [a for a in assessment.alerts.get(pid, []) if a.severity is Severity.RED]
        if not hits:
            continue
        hits.sort(key=lambda a: (-SEVERITY_ORDER[a.severity], a.rule))
        red_projects.append(
            RedProject(
                project_id=pid,
                name=item.project.name,
                park=item.project.park,
                responsible_unit=item.project.responsible_unit,
                responsible_person=item.project.responsible_person,
                rules=rule_hits((a.rule, a.title, a.message) for a in hits),
            )
        )
    red_projects.sort(key=lambda r: (r.park, r.name))
    news = await repository.reached_between(
        session, [Stage.UNDER_CONSTRUCTION, Stage.IN_PRODUCTION], period.start, as_of
    )
    started: dict[str, StageNews] = {}
    produced: dict[str, StageNews] = {}
    for change in news:
        project = by_id.get(change.project_id)
        if project is None:
            continue
        target = started if change.to_stage is Stage.UNDER_CONSTRUCTION else produced
        target.setdefault(
            change.project_id,
            StageNews(
                project_id=change.project_id,
                name=project.name,
                park=project.park,
                day=change.effective_date,
                total_investment=project.total_investment,
            ),
        )
    scope = str(indicators.get("scope") or "")
    return Bulletin(
        period=period.key,
        kind=period.kind,
        title=f"{scope}“三个一批”项目建设{'旬' if period.kind is ReportPeriodKind.XUN else '月'}通报",
        period_label=period.zh,
        start=period.start,
        end=period.end,
        as_of=as_of,
        provisional=as_of < period.end,
        # The projects active on the day, as the parks' lines: a project signed after it or
        # cancelled before it is in no park, and its plan was in the district's.
        district=district(
            indicators,
            (
                assessment.pacing[pid]
                for pid in (i.project.project_id for i in active)
                if pid in assessment.pacing
            ),
        ),
        parks=parks,
        red_projects=red_projects,
        started=sorted(started.values(), key=_news_order),
        produced=sorted(produced.values(), key=_news_order),
        light_share=settings.traffic_light_share,
        demo=settings.demo_data,
    )
