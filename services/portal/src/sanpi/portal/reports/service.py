"""填报 through the milestone service as the visitor: a photo then the milestone citing it, and
reports through the batch route (one row or many), whose per-row errors are already Chinese."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sanpi.client.sdk.base import ApiError
from sanpi.events import ReportPeriodKind
from sanpi.events.xun import last_completed, xun_of
from sanpi.portal import i18n
from sanpi.portal.accounts.service import Visitor
from sanpi.portal.i18n import _
from sanpi.portal.upstream import Apis, call
from sanpi.portal.web import NotAllowed


async def writable_project(apis: Apis, visitor: Visitor, project_id: str) -> dict[str, Any]:
    """The project, if the visitor may post for it; otherwise no form at all."""
    project: dict[str, Any] = await call(apis.registry.get_project, project_id)
    if not visitor.may_write_park(project.get("park")):
        raise NotAllowed(_("You post only for the projects of your parks."))
    return project


def period_choices(as_of: dt.date) -> list[tuple[str, str]]:
    """The periods a report is usually for: this 旬 and the five before it, the last two months."""
    xun = xun_of(as_of)
    choices = []
    for _n in range(6):
        choices.append((xun.key, i18n.report_period(xun.key)))
        xun = xun.previous()
    month = last_completed(as_of, ReportPeriodKind.MONTH)
    for _n in range(2):
        choices.append((month.key, i18n.report_period(month.key)))
        month = month.previous()
    return choices


def default_period(as_of: dt.date) -> str:
    return last_completed(as_of, ReportPeriodKind.XUN).key


# --- a milestone with its photo ----------------------------------------------------------------


@dataclass
class Posted:
    answer: dict[str, Any] | None = None
    errors: dict[str, str] = field(default_factory=dict)


def _reasons(exc: ApiError) -> dict[str, str]:
    """A service's field problems by form field (their reasons are Chinese where it says so)."""
    found: dict[str, str] = {}
    for problem in exc.problem.get("errors") or []:
        name = str(problem.get("field", "")).split(".")[0]
        found.setdefault(name, str(problem.get("reason") or problem.get("message") or ""))
    return found


async def post_milestone(
    apis: Apis,
    *,
    project_id: str,
    body: dict[str, Any],
    photo: tuple[str, bytes] | None,
) -> Posted:
    """Uploads the photo (if any), then records the milestone citing it."""
    evidence: list[str] = []
    if photo is not None:
        name, data = photo
        try:
            uploaded = await call(apis.milestone.upload_evidence, project_id, data, name)
        except ApiError as exc:
            if exc.status in (413, 422):
                reason = _reasons(exc).get("file") or _("The photo was refused.")
                return Posted(errors={"photo": reason})
            raise
        evidence.append(str(uploaded["uri"]))
    try:
        answer = await call(
            apis.milestone.post_milestone, project_id, {**body, "evidence": evidence}
        )
    except ApiError as exc:
        if exc.status == 409:
            return Posted(
                errors={
                    "kind": _(
                        "The service refused this milestone: it does not follow from the "
                        "project's stage, or it needs a site photo with its date."
                    )
                }
            )
        if exc.status == 422:
            reasons = _reasons(exc)
            if "evidence" in reasons:
                return Posted(errors={"photo": _("The photo does not belong to this project.")})
            return Posted(errors={"date": _("The service refused this date.")})
        raise
    return Posted(answer=answer)


# --- reports -------------------------------------------------------------------------------


@dataclass
class RowOutcome:
    status: str  # accepted | late | duplicate | refused
    errors: dict[str, str] = field(default_factory=dict)
    report: dict[str, Any] | None = None


async def submit_reports(apis: Apis, rows: list[dict[str, Any]]) -> list[RowOutcome]:
    """The rows through POST /v1/progress/batch (accepted rows are kept whatever the others
    do); each row's outcome, its errors by field in the service's words (Chinese)."""
    if not rows:
        return []
    answer = await call(
        apis.milestone.report_batch,
        rows,
        all_or_nothing=False,
        language="en" if i18n.language() == "en" else "zh",
    )
    outcomes = [RowOutcome("refused") for _row in rows]
    for result in answer.get("results", []):
        errors: dict[str, str] = {}
        for error in result.get("errors") or []:
            name = str(error.get("field") or "").split(".")[0] or "row"
            errors.setdefault(name, str(error.get("message") or ""))
        outcomes[int(result["index"])] = RowOutcome(
            str(result["status"]), errors, result.get("report")
        )
    return outcomes
