"""`sanpi issues …`: 交办事项 (assigned issues) of projects, due by the 13710 rule."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from sanpi.client.cli.common import JsonOpt, TokenOpt, client, err, fail, show
from sanpi.client.sdk import ApiError

app = typer.Typer(
    help="交办事项 (assigned issues): a project's problem assigned to a responsible unit (责任单位), "
    "due by the 13710 rule in working days with 调休 (feedback in 3 working days, a routine issue "
    "solved in 7, a major one in a month; rule R12 turns yellow after the due day and red after "
    "twice the time), answered with feedback and closed out (销号) with evidence.\n\n"
    "Example: sanpi issues raise P1 --category POWER --unit 区供电公司 '双回路电力接入方案未批复'",
    no_args_is_help=True,
)

# The version `sanpi issues show` prints is what feedback and close take as --version.
VersionOpt = Annotated[
    int | None,
    typer.Option(
        "--version",
        help="the version you read (sanpi issues show): refused if someone changed the issue since",
    ),
]

COLUMNS = [
    "id",
    "project_id",
    "category_label",
    "assigned_unit",
    "due_on",
    "status",
    "overdue_days",
]


@app.command("raise")
def raise_issue(
    project_id: str,
    description: Annotated[str, typer.Argument(help="the problem, in your words")],
    unit: Annotated[str, typer.Option("--unit", help="the responsible unit (责任单位), required")],
    category: Annotated[
        str,
        typer.Option(
            help="LAND 用地手续, APPROVAL 审批手续, FUNDING 资金, POWER 电力接入, "
            "DEMOLITION 征迁, OTHER 其他"
        ),
    ] = "OTHER",
    major: Annotated[
        bool, typer.Option("--major", help="a major issue: due in 1 month, not 7 working days")
    ] = False,
    raised_by: Annotated[
        str | None, typer.Option(help="who raised it (a leader, a meeting); default: you")
    ] = None,
    raised_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default: today")] = None,
    due_on: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD: a deadline set by hand instead of 13710")
    ] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Assign a problem of a project to a responsible unit; prints its deadlines."""
    body: dict[str, Any] = {
        "description": description,
        "assigned_unit": unit,
        "category": category.upper(),
        "term": "MAJOR" if major else "ROUTINE",
    }
    for key, value in (("raised_by", raised_by), ("raised_on", raised_on), ("due_on", due_on)):
        if value:
            body[key] = value
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.raise_issue(project_id, body)
        except ApiError as exc:
            fail(exc)
        show(
            result,
            as_json,
            ["id", "assigned_unit", "raised_on", "feedback_due_on", "due_on", "red_on"],
        )


@app.command("list")
def list_issues(
    project_id: Annotated[str | None, typer.Argument(help="one project's; default: all")] = None,
    park: Annotated[
        list[str] | None, typer.Option(help="only these parks' projects (repeat for several)")
    ] = None,
    unit: Annotated[str | None, typer.Option(help="only this responsible unit's")] = None,
    status: Annotated[
        str | None, typer.Option(help="open (not closed out) or closed (销号)")
    ] = None,
    open_only: Annotated[bool, typer.Option("--open", help="only the ones not closed")] = False,
    overdue: Annotated[
        bool,
        typer.Option(
            "--overdue", help="only open and past due (with --status closed: closed late)"
        ),
    ] = False,
    due_first: Annotated[
        bool, typer.Option("--due-first", help="the earliest due day first, not oldest first")
    ] = False,
    feedback: Annotated[
        bool, typer.Option("--feedback", help="print each issue's feedback (反馈) too")
    ] = False,
    limit: Annotated[int, typer.Option(help="page size")] = 50,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page")] = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The assigned issues (台账), oldest first: filter by park, unit, status, overdue."""
    params: dict[str, Any] = {"limit": limit}
    if park:
        params["park"] = park
    if unit:
        params["unit"] = unit
    if status:
        params["status"] = status.lower()
    if open_only:
        params["open"] = "true"
    if overdue:
        params["overdue"] = "true"
    if due_first:
        params["order"] = "due"
    if feedback:
        params["feedback"] = "true"
    if cursor:
        params["cursor"] = cursor
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.issues(project_id, **params)
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["park", *COLUMNS] if park else COLUMNS)
        if feedback and not as_json:
            for issue in result.get("items", []):
                for entry in issue.get("feedback", []):
                    err.print(f"{issue['id']} {entry['at']} {entry['by']}: {entry['text']}")
        if result.get("next_cursor") and not as_json:
            err.print(f"more: --cursor {result['next_cursor']}")


@app.command("show")
def show_issue(issue_id: str, token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """One issue with its feedback."""
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.issue(issue_id)
        except ApiError as exc:
            fail(exc)
        show(
            result,
            as_json,
            ["status", "category_label", "assigned_unit", "due_on", "closed_on", "version"],
        )
        if not as_json:
            err.print(result["description"])
        if not as_json:
            for entry in result.get("feedback", []):
                err.print(f"{entry['at']} {entry['by']}: {entry['text']}")


@app.command("feedback")
def feedback(
    issue_id: str,
    text: Annotated[str, typer.Argument(help="what the responsible unit did or answered")],
    version: VersionOpt = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the responsible unit's feedback (反馈) on an open issue."""
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.issue_feedback(issue_id, text, version=version)
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["status", "first_feedback_on", "due_on", "assigned_unit", "version"])


@app.command("close")
def close(
    issue_id: str,
    evidence: Annotated[
        list[str],
        typer.Option(
            "--evidence",
            help="a URI of the proof (a permit, a letter, an uploaded photo's /v1/evidence/…); "
            "required, repeatable",
        ),
    ],
    note: Annotated[str | None, typer.Option(help="how it was solved")] = None,
    closed_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default: today")] = None,
    version: VersionOpt = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Close out (销号) a solved issue with its evidence; rule R12 falls silent on it."""
    body: dict[str, Any] = {"evidence": evidence}
    if note:
        body["note"] = note
    if closed_on:
        body["closed_on"] = closed_on
    with client(token) as sanpi:
        try:
            result = sanpi.milestone.close_issue(issue_id, body, version=version)
        except ApiError as exc:
            fail(exc)
        show(result, as_json, ["status", "closed_on", "due_on", "overdue_days", "version"])
