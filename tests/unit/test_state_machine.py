"""The lifecycle state machine (pure): guards, dated evidence, forward-only moves, audited corrections."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sanpi.events import MilestoneKind, Stage
from sanpi.milestone.lifecycle.state_machine import (
    ORDER,
    SUSPENDABLE,
    TERMINAL,
    Achieve,
    Cancel,
    Command,
    Correct,
    Evidence,
    IllegalTransition,
    Lifecycle,
    Resume,
    Suspend,
    decide,
    is_backward,
    stage_after_milestone,
)

# Pure code, no database: the PostgreSQL pass of make test would repeat these to the letter.
pytestmark = pytest.mark.db_independent

PHOTO = [Evidence("https://evidence.example/site-2023-03-01.jpg")]


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
@pytest.mark.parametrize(
    "evidence",
    [
        [],
        [Evidence("https://evidence.example/site.jpg")],  # no date anywhere
        [Evidence("https://evidence.example/2023-02-30/site.jpg")],  # not a real day
        [Evidence("https://evidence.example/IMG_123456789.jpg")],  # digits, but no date
    ],
)
def test_start_and_production_need_dated_evidence(
    kind: MilestoneKind, evidence: list[Evidence]
) -> None:
    current = Stage.UNDER_CONSTRUCTION if kind is MilestoneKind.IN_PRODUCTION else Stage.SIGNED
    with pytest.raises(IllegalTransition, match="dated attachment"):
        stage_after_milestone(current, kind, evidence)


@pytest.mark.parametrize(
    ("evidence", "dated_on"),
    [
        (Evidence("https://x/site.jpg", dt.date(2023, 3, 1)), dt.date(2023, 3, 1)),
        (Evidence("https://x/2023-03-01/site.jpg"), dt.date(2023, 3, 1)),
        (Evidence("https://x/IMG_20230301_101500.jpg"), dt.date(2023, 3, 1)),
        (Evidence("https://x/permit_2023_03_01.pdf"), dt.date(2023, 3, 1)),
        # taken_at wins over a date in the URI (the folder may be the upload day)
        (Evidence("https://x/2023-04-01/a.jpg", dt.date(2023, 3, 1)), dt.date(2023, 3, 1)),
        (Evidence("https://x/a.jpg"), None),
    ],
)
def test_what_dated_means(evidence: Evidence, dated_on: dt.date | None) -> None:
    assert evidence.dated_on == dated_on


def test_one_dated_reference_among_undated_ones_is_enough() -> None:
    evidence = [Evidence("https://x/a.jpg"), Evidence("https://x/b.jpg", dt.date(2023, 3, 1))]
    assert stage_after_milestone(Stage.SIGNED, MilestoneKind.STARTED, evidence) is (
        Stage.UNDER_CONSTRUCTION
    )


def test_recording_milestones_do_not_move_the_stage() -> None:
    assert stage_after_milestone(Stage.UNDER_CONSTRUCTION, MilestoneKind.TOPPED_OUT, []) is None
    assert stage_after_milestone(Stage.SUSPENDED, MilestoneKind.LAND_ACQUIRED, []) is None


def test_suspend_remembers_the_stage_and_resume_returns_to_it() -> None:
    suspended = decide(Lifecycle(Stage.FULFILLING), Suspend())
    assert suspended.after == Lifecycle(Stage.SUSPENDED, resume_to=Stage.FULFILLING)
    assert suspended.reason == "SUSPENDED"
    resumed = decide(suspended.after, Resume())
    assert resumed.after == Lifecycle(Stage.FULFILLING)
    assert resumed.reason == "RESUMED"


@pytest.mark.parametrize(
    ("state", "cmd", "reason"),
    [
        (Lifecycle(Stage.IN_PRODUCTION), Suspend(), "cannot be suspended"),
        (Lifecycle(Stage.SUSPENDED, Stage.SIGNED), Suspend(), "cannot be suspended"),
        (Lifecycle(Stage.SIGNED), Resume(), "only a SUSPENDED project"),
        (Lifecycle(Stage.EFFECTIVE), Cancel(), "cannot be cancelled"),
        (
            Lifecycle(Stage.UNDER_CONSTRUCTION),
            Correct(Stage.SIGNED, "admin", "wrong photo", by_admin=False),
            "only an admin",
        ),
        (
            Lifecycle(Stage.UNDER_CONSTRUCTION),
            Correct(Stage.SIGNED, "admin", "  ", by_admin=True),
            "who made it and why",
        ),
        (
            Lifecycle(Stage.CANCELLED),
            Correct(Stage.SIGNED, "admin", "oops", by_admin=True),
            "cannot be corrected",
        ),
        (
            Lifecycle(Stage.SIGNED),
            Correct(Stage.SUSPENDED, "admin", "oops", by_admin=True),
            "moves along",
        ),
    ],
)
def test_refused_commands(state: Lifecycle, cmd: Command, reason: str) -> None:
    with pytest.raises(IllegalTransition, match=reason):
        decide(state, cmd)


def test_a_correction_is_the_audited_backward_move() -> None:
    decision = decide(
        Lifecycle(Stage.UNDER_CONSTRUCTION),
        Correct(Stage.SIGNED, "admin-1", "start photo belonged to another site", by_admin=True),
    )
    assert decision.after == Lifecycle(Stage.SIGNED)
    assert decision.reason == "CORRECTION"


def test_cancel_twice_changes_nothing_the_second_time() -> None:
    first = decide(Lifecycle(Stage.SUSPENDED, Stage.SIGNED), Cancel())
    assert first.after == Lifecycle(Stage.CANCELLED)
    assert not decide(first.after, Cancel()).moved


# --- properties over arbitrary command sequences ------------------------------------------------

evidence_lists = st.lists(
    st.builds(
        Evidence,
        st.sampled_from(["https://x/a.jpg", "https://x/2023-03-01.jpg", "https://x/IMG_1.jpg"]),
        st.none() | st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2026, 12, 31)),
    ),
    max_size=3,
)
commands = st.one_of(
    st.builds(Achieve, st.sampled_from(list(MilestoneKind)), evidence_lists),
    st.just(Suspend()),
    st.just(Resume()),
    st.just(Cancel()),
    st.builds(
        Correct,
        st.sampled_from(list(Stage)),
        st.sampled_from(["admin-1", "", "op-2"]),
        st.sampled_from(["wrong start photo", "", "typo"]),
        st.booleans(),
    ),
)


@settings(max_examples=400)
@given(
    st.sampled_from([Stage.SIGNED, Stage.UNDER_CONSTRUCTION]),
    st.lists(commands, max_size=40),
)
def test_no_sequence_of_commands_reaches_an_illegal_state_or_moves_backward_unaudited(
    start: Stage, sequence: list[Command]
) -> None:
    state = Lifecycle(start)
    for cmd in sequence:
        try:
            decision = decide(state, cmd)
        except IllegalTransition:
            continue
        after = decision.after
        assert decision.before == state
        assert after.is_consistent(), after
        # Nothing leaves CANCELLED; only an audited correction leaves EFFECTIVE.
        if state.stage is Stage.CANCELLED:
            assert after == state
        if state.stage is Stage.EFFECTIVE and after != state:
            assert isinstance(cmd, Correct)
        if not decision.moved:
            assert after == state
        # The only backward move (and the only way to a non-adjacent earlier stage) is a
        # correction made by an admin who said who and why.
        if is_backward(state.stage, after.stage):
            assert decision.reason == "CORRECTION"
            assert isinstance(cmd, Correct)
            assert cmd.by_admin
            assert cmd.by.strip()
            assert cmd.note.strip()
        # A resume returns exactly to the stage the suspension remembered.
        if decision.reason == "RESUMED":
            assert after.stage is state.resume_to
        if decision.reason == "SUSPENDED":
            assert after.resume_to is state.stage
            assert state.stage in SUSPENDABLE
        if decision.reason == "MILESTONE":
            assert ORDER.index(after.stage) > ORDER.index(state.stage)
        state = after
    assert state.stage in (*ORDER, Stage.SUSPENDED, Stage.CANCELLED)
    assert state.is_consistent()


@given(st.lists(commands, max_size=40))
def test_terminal_cancelled_absorbs_every_command(sequence: list[Command]) -> None:
    state = Lifecycle(Stage.CANCELLED)
    for cmd in sequence:
        try:
            state = decide(state, cmd).after
        except IllegalTransition:
            continue
    assert state == Lifecycle(Stage.CANCELLED)
    assert Stage.CANCELLED in TERMINAL
