"""Rules about a park, a period's cohort or the district, not one project: R14 and R15 (pure).

A full evaluation pass folds every project into a `PortfolioFact` as it goes, then judges the
scopes once from those (never per project). The alerts carry no project: their key names the
scope (R15:<park>:SIGN_AMOUNT, R15:district:SIGN_AMOUNT, R14:<park>:<period>, R14:district:<period>)
and their park (none for the district's: those reach the subscribers without a park filter)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import NamedTuple

from sanpi.events import AlertRule, Severity, Stage, TargetKind
from sanpi.events.percent import half_up, pct
from sanpi.events.targets import attainments, target_actuals
from sanpi.events.vocabulary import TARGET_EN
from sanpi.events.xun import time_progress
from sanpi.kit.messages import Bilingual
from sanpi.kit.named_rows import NamedRow
from sanpi.milestone.rules import messages as say
from sanpi.milestone.rules.evaluation import DesiredAlert, started_on
from sanpi.milestone.rules.facts import ProjectFacts
from sanpi.milestone.settings import RuleSettings

DISTRICT = "district"  # the scope part of a district-wide alert's key

SCOPED_RULES = frozenset({AlertRule.R14, AlertRule.R15})

# The Chinese short as the alerts have always said it; the English as the pages name them.
TARGET_LABEL = {
    kind: Bilingual(zh, TARGET_EN[kind].lower())
    for kind, zh in {
        TargetKind.SIGN_AMOUNT: "签约额",
        TargetKind.NEW_START_INVESTMENT: "新开工投资额",
        TargetKind.MFG_SIGN_AMOUNT: "制造业签约额",
        TargetKind.MFG_SIGN_COUNT: "制造业签约个数",
    }.items()
}


class PortfolioFact(NamedTuple):
    """A project as the scoped rules see it on the day judged (sanpi.events.targets.TargetFacts).
    A tuple: a full pass makes one per project (20,000 at province scale)."""

    park: str
    first_period: int | None  # the period whose list it entered on (its signing cohort)
    signed: bool
    signed_on: dt.date | None
    started_on: dt.date | None
    cancelled: bool
    is_manufacturing: bool
    total_investment: int
    contract_amount: int | None


def portfolio_fact(project: NamedRow, facts: ProjectFacts, as_of: dt.date) -> PortfolioFact:
    """The registry's reading of the same project (indicators.formulas.facts_as_of): a signing is
    a project registered SIGNED, on its signing day (else the day it became known); started on
    its STARTED milestone's day (else the day it entered UNDER_CONSTRUCTION); cancelled once its
    cancellation's day has come (CANCELLED is final)."""
    signed_on = project.signed_date or project.registered_on
    stages = facts.stages
    cancelled = False
    for stage in stages:  # a loop, not any(): a generator costs 30 ms a pass at 20,000
        if stage.stage is Stage.CANCELLED and stage.effective_date <= as_of:
            cancelled = True
    periods = project.periods
    return PortfolioFact(
        project.park,
        min(periods) if periods else None,
        bool(stages) and stages[0].stage is Stage.SIGNED and signed_on <= as_of,
        signed_on,
        started_on(facts, as_of),
        cancelled,
        bool(project.is_manufacturing),
        project.total_investment,
        project.contract_amount,
    )


def _pts(value: Fraction) -> str:
    return f"{half_up(value)}"


def _amount(value: int, kind: TargetKind) -> Bilingual:
    """A target's figure as an official reads it: counts in 个, money (kept in 万元) in 亿元 from
    one 亿 up (a district's 签约额 is hundreds of 亿), in 万元 below; in English the same
    figures in the portal's English units (10k yuan, 100 million yuan)."""
    if kind is TargetKind.MFG_SIGN_COUNT:
        return Bilingual(f"{value} 个", f"{value} projects")
    if abs(value) < 10_000:
        return Bilingual(f"{value} 万元", f"{value} (10k yuan)")
    yi = f"{half_up(Fraction(value, 10_000), 2):.2f}".rstrip("0").rstrip(".")
    return Bilingual(f"{yi} 亿元", f"{yi} (100 million yuan)")


def _scope_name(park: str | None, district: str) -> str:
    return park or district


def r15_target_pace(
    portfolio: Sequence[PortfolioFact],
    targets: Mapping[str, Mapping[TargetKind, int]],
    *,
    district: str,
    as_of: dt.date,
    rules: RuleSettings,
    silent: Counter[AlertRule],
) -> list[DesiredAlert]:
    """Per scope with targets of `as_of`'s year (`targets` by scope: the district's name or a
    park): each target's attainment against 序时进度. Yellow when it is more than `yellow`
    points behind, red more than `red`. No district target: silent, counted once."""
    cfg = rules.r15
    progress = time_progress(as_of, as_of.year)
    by_park: dict[str, list[PortfolioFact]] = defaultdict(list)
    for p in portfolio:
        by_park[p.park].append(p)
    if not targets.get(district):
        silent[AlertRule.R15] += 1
    alerts: list[DesiredAlert] = []
    for scope, wanted in sorted(targets.items()):
        park = None if scope == district else scope
        members: Iterable[PortfolioFact] = portfolio if park is None else by_park.get(park, [])
        actuals = target_actuals(members, as_of.year)
        for a in attainments(wanted, actuals, progress):
            if a.ratio is None:  # a target of 0: nothing to be behind
                silent[AlertRule.R15] += 1
                continue
            behind = (progress - a.ratio) * 100
            if behind > Fraction(cfg.red).limit_denominator():
                severity, threshold = Severity.RED, cfg.red
            elif behind > Fraction(cfg.yellow).limit_denominator():
                severity, threshold = Severity.YELLOW, cfg.yellow
            else:
                continue
            label = TARGET_LABEL[a.kind]
            name = _scope_name(park, district)
            alerts.append(
                DesiredAlert(
                    f"{AlertRule.R15}:{park or DISTRICT}:{a.kind}",
                    AlertRule.R15,
                    severity,
                    **say.texts(
                        say.R15_TITLE(name=name, year=as_of.year, label=label),
                        say.R15(
                            as_of=as_of,
                            label=label,
                            actual=_amount(a.actual, a.kind),
                            target=_amount(a.target, a.kind),
                            ratio=pct(a.ratio),
                            progress=pct(progress),
                            behind=_pts(behind),
                        ),
                    ),
                    metric_value=pct(a.ratio),
                    threshold=half_up(progress * 100 - Fraction(threshold).limit_denominator()),
                    park=park,
                    scope="district" if park is None else "park",
                )
            )
    return alerts


def r14_conversion_below_target(
    portfolio: Sequence[PortfolioFact],
    *,
    district: str,
    as_of: dt.date,
    rules: RuleSettings,
    silent: Counter[AlertRule],
) -> list[DesiredAlert]:
    """签约项目开工率 of each period's signing cohort, per park and district-wide: of the live
    signings of that period at least `judged_after_days` old, the share started. Below the
    target yellow, `red_below` points under it red; a cohort of fewer than `min_signings` judged
    signings is silent (counted)."""
    cfg = rules.r14
    due = as_of - dt.timedelta(days=cfg.judged_after_days)
    cohorts: dict[tuple[str | None, int], list[bool]] = defaultdict(list)
    for p in portfolio:
        if not p.signed or p.cancelled or p.first_period is None or p.signed_on is None:
            continue
        if p.signed_on > due:
            continue
        began = p.started_on is not None
        cohorts[(p.park, p.first_period)].append(began)
        cohorts[(None, p.first_period)].append(began)
    target = Fraction(cfg.target).limit_denominator()
    red = target - Fraction(cfg.red_below).limit_denominator()
    alerts: list[DesiredAlert] = []
    for (park, period), members in sorted(cohorts.items(), key=lambda c: (c[0][0] or "", c[0][1])):
        if len(members) < cfg.min_signings:
            silent[AlertRule.R14] += 1
            continue
        started = sum(members)
        rate = Fraction(started * 100, len(members))
        if rate < red:
            severity, threshold = Severity.RED, red
        elif rate < target:
            severity, threshold = Severity.YELLOW, target
        else:
            continue
        name = _scope_name(park, district)
        alerts.append(
            DesiredAlert(
                f"{AlertRule.R14}:{park or DISTRICT}:{period}",
                AlertRule.R14,
                severity,
                **say.texts(
                    say.R14_TITLE(name=name, period=period),
                    say.R14(
                        as_of=as_of,
                        period=period,
                        days=cfg.judged_after_days,
                        count=len(members),
                        started=started,
                        rate=half_up(rate),
                        target=half_up(target),
                    ),
                ),
                metric_value=half_up(rate),
                threshold=half_up(threshold),
                park=park,
                scope="district" if park is None else "park",
                periods=(period,),
            )
        )
    return alerts


def scoped_alerts(
    portfolio: Sequence[PortfolioFact],
    targets: Mapping[str, Mapping[TargetKind, int]],
    *,
    district: str,
    as_of: dt.date,
    rules: RuleSettings,
    silent: Counter[AlertRule],
) -> list[DesiredAlert]:
    """R14 and R15 over the whole portfolio as of a day."""
    return [
        *r14_conversion_below_target(
            portfolio, district=district, as_of=as_of, rules=rules, silent=silent
        ),
        *r15_target_pace(
            portfolio, targets, district=district, as_of=as_of, rules=rules, silent=silent
        ),
    ]
