"""The lifecycle state machine (docs/domain.md#lifecycle-stages) as pure functions: no I/O, no clock."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sanpi.events import MilestoneKind, Stage
from sanpi.events.vocabulary import STAGE_OF_MILESTONE as STAGE_OF_MILESTONE
from sanpi.events.vocabulary import STAGE_ORDER
from sanpi.kit.messages import Message
from sanpi.milestone.nodes import messages as refusals

# The forward path (shared with the rules, hence in the events' vocabulary).
ORDER = STAGE_ORDER

# Forward moves only; SUSPENDED returns to the stage it was entered from (see `Resume`).
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
# The stages a project can be suspended from (停工/暂停, docs/domain.md#lifecycle-stages).
SUSPENDABLE: frozenset[Stage] = frozenset(
    {Stage.SIGNED, Stage.FULFILLING, Stage.UNDER_CONSTRUCTION}
)

# 开工 and 投产 must be proven: "现场核查拍照留痕" (docs/domain.md#evidence-and-records).
EVIDENCE_REQUIRED: frozenset[MilestoneKind] = frozenset(
    {MilestoneKind.STARTED, MilestoneKind.IN_PRODUCTION}
)

# A date written in a URI: 2023-03-01, 2023_03_01 or 20230301 (cameras and scanners name
# files this way), not preceded or followed by another digit.
_DATE_IN_URI = re.compile(r"(?<!\d)(\d{4})[-_]?(\d{2})[-_]?(\d{2})(?!\d)")

Reason = Literal["MILESTONE", "SUSPENDED", "RESUMED", "CANCELLED", "CORRECTION"]


class IllegalTransition(ValueError):
    """A command the state machine refuses, with the reason a person can act on (in both
    languages when `message` is given: str() is the English the routes have always answered)."""

    def __init__(self, reason: str | Message) -> None:
        self.message = reason if isinstance(reason, Message) else None
        super().__init__(reason if isinstance(reason, str) else reason.render("en"))


@dataclass(frozen=True)
class Evidence:
    """An attachment reference: a URI and, when known, the day the photo or document was taken."""

    uri: str
    taken_at: dt.date | None = None

    @property
    def dated_on(self) -> dt.date | None:
        """The attachment's date: `taken_at`, else the first valid date written in the URI.

        "Dated" (docs/domain.md#lifecycle-stages) means one of these is known; a URI without any date proves nothing
        about when the site looked like that."""
        if self.taken_at is not None:
            return self.taken_at
        for match in _DATE_IN_URI.finditer(self.uri):
            try:
                return dt.date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                continue
        return None


@dataclass(frozen=True)
class Lifecycle:
    """A project's place in the lifecycle; `resume_to` is set exactly while SUSPENDED."""

    stage: Stage
    resume_to: Stage | None = None

    def is_consistent(self) -> bool:
        if self.stage is Stage.SUSPENDED:
            return self.resume_to in SUSPENDABLE
        return self.resume_to is None


# --- commands ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Achieve:
    kind: MilestoneKind
    evidence: Sequence[Evidence] = ()


@dataclass(frozen=True)
class Suspend:
    pass


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class Cancel:
    pass


@dataclass(frozen=True)
class Correct:
    """An audited correction of a data-entry error: admin only, with who and why."""

    to: Stage
    by: str
    note: str
    by_admin: bool


Command = Achieve | Suspend | Resume | Cancel | Correct


@dataclass(frozen=True)
class Decision:
    """The outcome of a command: the new lifecycle, and why it changed (None: no change)."""

    before: Lifecycle
    after: Lifecycle
    reason: Reason | None

    @property
    def moved(self) -> bool:
        return self.reason is not None


def decide(state: Lifecycle, command: Command) -> Decision:
    """Applies one command to a lifecycle, or raises IllegalTransition saying why not."""
    if isinstance(command, Achieve):
        target = stage_after_milestone(state.stage, command.kind, command.evidence)
        if target is None:
            return Decision(state, state, None)
        return Decision(state, Lifecycle(target), "MILESTONE")
    if isinstance(command, Suspend):
        if state.stage not in SUSPENDABLE:
            raise IllegalTransition(f"a {state.stage} project cannot be suspended")
        return Decision(state, Lifecycle(Stage.SUSPENDED, resume_to=state.stage), "SUSPENDED")
    if isinstance(command, Resume):
        if state.stage is not Stage.SUSPENDED or state.resume_to is None:
            raise IllegalTransition(f"only a SUSPENDED project can resume; it is {state.stage}")
        return Decision(state, Lifecycle(state.resume_to), "RESUMED")
    if isinstance(command, Cancel):
        if state.stage is Stage.CANCELLED:
            return Decision(state, state, None)  # the registry may say it twice
        if state.stage is Stage.EFFECTIVE:
            raise IllegalTransition("an EFFECTIVE project has finished and cannot be cancelled")
        return Decision(state, Lifecycle(Stage.CANCELLED), "CANCELLED")
    return _correct(state, command)


def _correct(state: Lifecycle, command: Correct) -> Decision:
    if not command.by_admin:
        raise IllegalTransition("only an admin may correct a stage")
    if not command.note.strip() or not command.by.strip():
        raise IllegalTransition("a correction needs who made it and why")
    if state.stage in (Stage.CANCELLED, Stage.SUSPENDED):
        raise IllegalTransition(f"a {state.stage} project cannot be corrected; it has no stage")
    if command.to not in ORDER:
        raise IllegalTransition(f"a correction moves along {', '.join(ORDER)}, not to {command.to}")
    if command.to is state.stage:
        raise IllegalTransition(f"the project is already {state.stage}")
    return Decision(state, Lifecycle(command.to), "CORRECTION")


def is_backward(before: Stage, after: Stage) -> bool:
    """True when `after` lies left of `before` on the forward path."""
    return before in ORDER and after in ORDER and ORDER.index(after) < ORDER.index(before)


def stage_after_milestone(
    current: Stage, kind: MilestoneKind, evidence: Sequence[Evidence]
) -> Stage | None:
    """The stage a milestone moves the project to, None if it moves nothing, or IllegalTransition."""
    if current is Stage.CANCELLED:
        raise IllegalTransition(refusals.CANCELLED())
    target = STAGE_OF_MILESTONE.get(kind)
    if target is None:
        return None
    if current is Stage.SUSPENDED:
        raise IllegalTransition(refusals.SUSPENDED(kind=kind))
    if target is current:
        raise IllegalTransition(refusals.ALREADY_AT(stage=current))
    if target not in ALLOWED[current]:
        raise IllegalTransition(refusals.NO_SUCH_MOVE(kind=kind, current=current, target=target))
    # Checked last: a move that is illegal anyway is refused for that reason first.
    if kind in EVIDENCE_REQUIRED and not any(e.dated_on for e in evidence):
        raise IllegalTransition(refusals.NEEDS_EVIDENCE(kind=kind))
    return target
