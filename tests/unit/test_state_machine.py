"""The lifecycle state machine (pure): guards, forward-only moves, evidence."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sanpi.events import MilestoneKind, Stage
from sanpi.milestone.lifecycle.state_machine import (
    IllegalTransition,
    stage_after_milestone,
)

PHOTO = ["https://evidence.example/site-2023-03-01.jpg"]
ORDER = [
    Stage.SIGNED,
    Stage.FULFILLING,
    Stage.UNDER_CONSTRUCTION,
    Stage.IN_PRODUCTION,
    Stage.EFFECTIVE,
]


@pytest.mark.parametrize(
    ("current", "kind", "expected"),
    [
        (Stage.SIGNED, MilestoneKind.FULFILLED, Stage.FULFILLING),
        (Stage.SIGNED, MilestoneKind.STARTED, Stage.UNDER_CONSTRUCTION),
        (Stage.FULFILLING, MilestoneKind.STARTED, Stage.UNDER_CONSTRUCTION),
        (Stage.UNDER_CONSTRUCTION, MilestoneKind.IN_PRODUCTION, Stage.IN_PRODUCTION),
        (Stage.IN_PRODUCTION, MilestoneKind.EFFECTIVE, Stage.EFFECTIVE),
    ],
)
def test_legal_forward_moves(current: Stage, kind: MilestoneKind, expected: Stage) -> None:
    assert stage_after_milestone(current, kind, PHOTO) is expected


@pytest.mark.parametrize(
    ("current", "kind", "reason"),
    [
        (Stage.UNDER_CONSTRUCTION, MilestoneKind.STARTED, "already UNDER_CONSTRUCTION"),
        (Stage.UNDER_CONSTRUCTION, MilestoneKind.FULFILLED, "cannot move"),
        (Stage.SIGNED, MilestoneKind.IN_PRODUCTION, "cannot move"),
        (Stage.SIGNED, MilestoneKind.EFFECTIVE, "cannot move"),
        (Stage.EFFECTIVE, MilestoneKind.IN_PRODUCTION, "cannot move"),
        (Stage.CANCELLED, MilestoneKind.TOPPED_OUT, "CANCELLED"),
        (Stage.SUSPENDED, MilestoneKind.STARTED, "SUSPENDED"),
    ],
)
def test_illegal_moves_are_refused_with_a_reason(
    current: Stage, kind: MilestoneKind, reason: str
) -> None:
    with pytest.raises(IllegalTransition, match=reason):
        stage_after_milestone(current, kind, PHOTO)


@pytest.mark.parametrize("kind", [MilestoneKind.STARTED, MilestoneKind.IN_PRODUCTION])
def test_start_and_production_need_evidence(kind: MilestoneKind) -> None:
    with pytest.raises(IllegalTransition, match="evidence"):
        stage_after_milestone(
            Stage.UNDER_CONSTRUCTION if kind is MilestoneKind.IN_PRODUCTION else Stage.SIGNED,
            kind,
            [],
        )


def test_recording_milestones_do_not_move_the_stage() -> None:
    assert stage_after_milestone(Stage.UNDER_CONSTRUCTION, MilestoneKind.TOPPED_OUT, []) is None
    assert stage_after_milestone(Stage.SUSPENDED, MilestoneKind.LAND_ACQUIRED, []) is None


@given(
    st.lists(st.sampled_from(list(MilestoneKind)), max_size=30),
    st.sampled_from([Stage.SIGNED, Stage.UNDER_CONSTRUCTION]),
)
def test_no_sequence_of_milestones_moves_a_project_backward(
    kinds: list[MilestoneKind], start: Stage
) -> None:
    stage = start
    for kind in kinds:
        try:
            target = stage_after_milestone(stage, kind, PHOTO)
        except IllegalTransition:
            continue
        if target is not None:
            assert ORDER.index(target) > ORDER.index(stage)
            stage = target
    assert stage in ORDER
