"""`sanpi milestone …`, `sanpi stage …`: milestones and the lifecycle on the milestone service."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from sanpi.client.cli.common import JsonOpt, TokenOpt, client, fail, show
from sanpi.client.sdk import ApiError

app = typer.Typer(help="Milestones of a project (milestone service).", no_args_is_help=True)
stage_app = typer.Typer(help="Suspend, resume or correct a project's stage.", no_args_is_help=True)


def evidence_item(text: str) -> str | dict[str, Any]:
    """`URI` or `URI@YYYY-MM-DD` (the day the photo was taken)."""
    uri, sep, day = text.rpartition("@")
    if sep and len(day) == 10 and day[4] == "-" and day[7] == "-":
        return {"uri": uri, "taken_at": day}
    return text


@app.command("post")
def post(
    project_id: str,
    kind: Annotated[
        str, typer.Option(help="STARTED, IN_PRODUCTION, FULFILLED, EFFECTIVE, TOPPED_OUT…")
    ],
    date: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    evidence: Annotated[
        list[str] | None,
        typer.Option(help="URI of evidence, or URI@YYYY-MM-DD with the day it was taken (repeat)"),
    ] = None,
    label: Annotated[str, typer.Option(help="name of a CUSTOM milestone")] = "",
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a milestone; STARTED and IN_PRODUCTION need dated --evidence."""
    body = {
        "kind": kind,
        "date": date,
        "evidence": [evidence_item(e) for e in evidence or []],
        **({"label": label} if label else {}),
    }
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.post_milestone(project_id, body)
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["id", "kind", "date", "stage"])


@app.command("replan")
def replan(
    project_id: str,
    kind: Annotated[str, typer.Option(help="the milestone kind")],
    forecast: Annotated[str, typer.Option(help="new forecast date YYYY-MM-DD")],
    reason: Annotated[str | None, typer.Option(help="why it moved")] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move a milestone's forecast (the baseline stays); emits milestone.replanned."""
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.replan(
                project_id, kind, {"forecast_date": forecast, "reason": reason}
            )
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["kind", "baseline_date", "forecast_date", "status"])


def baseline_date(text: str) -> dict[str, str]:
    """`KIND=YYYY-MM-DD`, or `CUSTOM:label=YYYY-MM-DD`."""
    milestone, sep, day = text.partition("=")
    if not sep:
        raise typer.BadParameter(f"{text!r}: write KIND=YYYY-MM-DD, e.g. STARTED=2023-09-30")
    kind, _, label = milestone.partition(":")
    return {"kind": kind.strip(), "label": label.strip(), "date": day.strip()}


@app.command("baseline")
def baseline(
    project_id: str,
    name: Annotated[str, typer.Option(help="the change's name, e.g. 2023年中调整")],
    reason: Annotated[str, typer.Option(help="why the plan changed (required)")],
    date: Annotated[
        list[str],
        typer.Option(
            help="KIND=YYYY-MM-DD (CUSTOM:label=YYYY-MM-DD for a custom milestone), repeat"
        ),
    ],
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve a named plan change: the milestones' new dates; the original plan stays, and
    the rules report the slip from it. Prints the comparison of all baselines."""
    body = {"name": name, "reason": reason, "dates": [baseline_date(d) for d in date]}
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.approve_baseline(project_id, body)
        except ApiError as exc:
            fail(exc)
        show_baselines(result, as_json)


@app.command("baselines")
def baselines(project_id: str, token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """Compare the original plan (原计划), each named baseline and today's plan."""
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.baselines(project_id)
        except ApiError as exc:
            fail(exc)
        show_baselines(result, as_json)


def show_baselines(result: dict[str, Any], as_json: bool) -> None:
    """One row per milestone: original, each named baseline, current, actual, slip."""
    names = [b["name"] for b in result["baselines"][1:]]
    rows = [
        {
            "milestone": r["milestone"],
            "原计划": r["original"],
            **{n: r["planned"].get(n) for n in names},
            "current": r["current"],
            "actual": r["actual"],
            "slip_days": r["slip_days"],
        }
        for r in result["milestones"]
    ]
    if as_json:
        show(result, True)
        return
    show({"items": rows}, False, ["milestone", "原计划", *names, "current", "actual", "slip_days"])


@stage_app.command("suspend")
def suspend(
    project_id: str,
    reason: Annotated[str, typer.Option(help="why work stopped")],
    date: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default today")] = None,
    resume_by: Annotated[str | None, typer.Option(help="planned 复工 date")] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """停工: suspend a project (overdue rules are muted until it resumes)."""
    body = {"reason": reason, "date": date, "expected_resume_date": resume_by}
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.suspend(project_id, body)
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["project_id", "stage", "resume_to", "stage_since"])


@stage_app.command("resume")
def resume(
    project_id: str,
    date: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default today")] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """复工: back to the stage it was suspended from."""
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.resume(project_id, {"date": date})
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["project_id", "stage", "stage_since"])


@stage_app.command("correct")
def correct(
    project_id: str,
    to: Annotated[str, typer.Option(help="the right stage, e.g. SIGNED")],
    reason: Annotated[str, typer.Option(help="why the recorded stage was wrong")],
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Admin only: correct a wrongly recorded stage (audited, reason CORRECTION)."""
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.correct_stage(project_id, {"to_stage": to, "reason": reason})
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["project_id", "stage", "stage_since"])
