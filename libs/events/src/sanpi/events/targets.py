"""Annual targets (签约额, 新开工投资额, 制造业签约额/个数): what counts toward them and the pace, once.

The registry's indicators (`/v1/indicators`) and the milestone service's rule R15 both read these
definitions, so the figure an alert quotes is the figure the panel shows on the same data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Protocol

from sanpi.events.percent import half_up
from sanpi.events.vocabulary import TargetKind


class TargetFacts(Protocol):
    """What a project must say, as of the day asked, for the target actuals."""

    @property
    def signed(self) -> bool: ...  # entered the ledger as a signing, signed by the day

    @property
    def signed_on(self) -> dt.date | None: ...

    @property
    def started_on(self) -> dt.date | None: ...  # None: not started by the day

    @property
    def cancelled(self) -> bool: ...  # cancelled (终止/清退/调出) by the day

    @property
    def is_manufacturing(self) -> bool: ...

    @property
    def total_investment(self) -> int: ...

    @property
    def contract_amount(self) -> int | None: ...


def sign_amount(p: TargetFacts) -> int:
    """签约额, else 总投资 (what a signing counts toward the 签约额 target)."""
    return p.contract_amount if p.contract_amount is not None else p.total_investment


def target_actuals(projects: Iterable[TargetFacts], year: int) -> dict[TargetKind, int]:
    """What counts toward each annual target in `year` (cancelled projects do not):
    签约额 = 签约额 (else 总投资) of the year's signings; 新开工投资额 = 总投资 of the year's starts."""
    actual = {kind: 0 for kind in TargetKind}
    for p in projects:
        if p.cancelled:
            continue
        if p.signed and p.signed_on is not None and p.signed_on.year == year:
            amount = sign_amount(p)
            actual[TargetKind.SIGN_AMOUNT] += amount
            if p.is_manufacturing:
                actual[TargetKind.MFG_SIGN_AMOUNT] += amount
                actual[TargetKind.MFG_SIGN_COUNT] += 1
        if p.started_on is not None and p.started_on.year == year:
            actual[TargetKind.NEW_START_INVESTMENT] += p.total_investment
    return actual


class Pace(StrEnum):
    AHEAD = "AHEAD"  # at or above 序时进度
    BEHIND = "BEHIND"


@dataclass(frozen=True)
class Attainment:
    kind: TargetKind
    target: int
    actual: int
    time_progress: Fraction

    @property
    def ratio(self) -> Fraction | None:
        return None if self.target == 0 else Fraction(self.actual, self.target)

    @property
    def gap_pts(self) -> float | None:
        """Percentage points above (+) or below (−) 序时进度: "低于序时进度 x 个百分点"."""
        ratio = self.ratio
        return None if ratio is None else half_up((ratio - self.time_progress) * 100)

    @property
    def pace(self) -> Pace | None:
        ratio = self.ratio
        if ratio is None:
            return None
        return Pace.AHEAD if ratio >= self.time_progress else Pace.BEHIND


def attainments(
    targets: Mapping[TargetKind, int], actuals: Mapping[TargetKind, int], progress: Fraction
) -> list[Attainment]:
    """Each target set (in TargetKind order), against what was achieved and the year elapsed."""
    return [
        Attainment(kind, targets[kind], actuals.get(kind, 0), progress)
        for kind in TargetKind
        if kind in targets
    ]
