"""The lifecycle state machine (DOMAIN.md §2.3) as pure functions: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Sequence

from sanpi.events import MilestoneKind, Stage

# The milestones that move a project to a new stage; every other kind is recorded only.
STAGE_OF_MILESTONE: dict[MilestoneKind, Stage] = {
    MilestoneKind.FULFILLED: Stage.FULFILLING,
    MilestoneKind.STARTED: Stage.UNDER_CONSTRUCTION,
    MilestoneKind.IN_PRODUCTION: Stage.IN_PRODUCTION,
    MilestoneKind.EFFECTIVE: Stage.EFFECTIVE,
}

# Forward moves only; SUSPENDED returns to the stage it was entered from (see `resume`).
ALLOWED: dict[Stage, frozenset[Stage]] = {
    Stage.SIGNED: frozenset(
        {Stage.FULFILLING, Stage.UNDER_CONSTRUCTION, Stage.SUSPENDED, Stage.CANCELLED}
    ),
    Stage.FULFILLING: frozenset({Stage.UNDER_CONSTRUCTION, Stage.SUSPENDED, Stage.CANCELLED}),
    Stage.UNDER_CONSTRUCTION: frozenset({Stage.IN_PRODUCTION, Stage.SUSPENDED, Stage.CANCELLED}),
    Stage.IN_PRODUCTION: frozenset({Stage.EFFECTIVE}),
    Stage.EFFECTIVE: frozenset(),
    Stage.SUSPENDED: frozenset({Stage.CANCELLED}),
    Stage.CANCELLED: frozenset(),
}

TERMINAL: frozenset[Stage] = frozenset({Stage.EFFECTIVE, Stage.CANCELLED})

# 开工 and 投产 must be proven: "现场核查拍照留痕" (DOMAIN.md §1.3).
EVIDENCE_REQUIRED: frozenset[MilestoneKind] = frozenset(
    {MilestoneKind.STARTED, MilestoneKind.IN_PRODUCTION}
)


class IllegalTransition(ValueError):
    """A command the state machine refuses, with the reason a person can act on."""


def stage_after_milestone(
    current: Stage, kind: MilestoneKind, evidence: Sequence[str]
) -> Stage | None:
    """The stage a milestone moves the project to, None if it moves nothing, or IllegalTransition."""
    if current is Stage.CANCELLED:
        raise IllegalTransition("the project is CANCELLED; no milestone can be recorded")
    if kind in EVIDENCE_REQUIRED and not evidence:
        raise IllegalTransition(f"{kind} needs evidence: at least one dated attachment reference")
    target = STAGE_OF_MILESTONE.get(kind)
    if target is None:
        return None
    if current is Stage.SUSPENDED:
        raise IllegalTransition(f"the project is SUSPENDED; resume it before recording {kind}")
    if target is current:
        raise IllegalTransition(f"the project is already {current}")
    if target not in ALLOWED[current]:
        raise IllegalTransition(f"{kind} cannot move a project from {current} to {target}")
    return target
