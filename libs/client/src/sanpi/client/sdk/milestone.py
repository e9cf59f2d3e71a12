"""SDK calls of the milestone service: milestones, lifecycle, progress, plans, alerts, timelines."""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sanpi.client.sdk.base import Http

# The most rows POST /v1/progress/batch takes in one request.
MAX_BATCH_ROWS = 500


class MilestoneApi:
    def __init__(self, http: Http, base_url: str) -> None:
        self._http = http
        self.url = f"{base_url}/v1"

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._http.call(method, f"{self.url}{path}", **kwargs)
        return result

    # --- milestones and lifecycle -----------------------------------------------------------

    def post_milestone(self, project_id: str, milestone: dict[str, Any]) -> dict[str, Any]:
        """`evidence` items are URI strings or {"uri": ..., "taken_at": "YYYY-MM-DD"}."""
        return self._call("POST", f"/projects/{project_id}/milestones", json=milestone)

    def replan(self, project_id: str, kind: str, forecast: dict[str, Any]) -> dict[str, Any]:
        return self._call(
            "POST", f"/projects/{project_id}/milestones/{kind}/forecast", json=forecast
        )

    def approve_baseline(self, project_id: str, baseline: dict[str, Any]) -> dict[str, Any]:
        """{"name": "2023年中调整", "reason": ..., "dates": [{"kind", "label", "date"}]}."""
        return self._call("POST", f"/projects/{project_id}/baselines", json=baseline)

    def baselines(self, project_id: str) -> dict[str, Any]:
        return self._call("GET", f"/projects/{project_id}/baselines")

    def forecast(self, project_id: str, as_of: str | None = None) -> dict[str, Any]:
        """Projected start, production and year's investment beside the plan (rule R18)."""
        params = {"as_of": as_of} if as_of else {}
        return self._call("GET", f"/projects/{project_id}/forecast", params=params)

    def milestones(self, project_id: str) -> dict[str, Any]:
        return self._call("GET", f"/projects/{project_id}/milestones")

    def suspend(self, project_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", f"/projects/{project_id}/suspend", json=body)

    def resume(self, project_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._call("POST", f"/projects/{project_id}/resume", json=body or {})

    def correct_stage(self, project_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", f"/projects/{project_id}/stage-corrections", json=body)

    def upload_evidence(
        self, project_id: str, photo: str | Path | bytes, filename: str | None = None
    ) -> dict[str, Any]:
        """Uploads a site photo (a path or the bytes); the answer's `uri` is what a milestone's
        `evidence` cites. The service reads the type and the EXIF capture day from the bytes;
        the same photo again answers the first upload."""
        if isinstance(photo, bytes):
            data, name = photo, filename or "photo"
        else:
            path = Path(photo)
            data, name = path.read_bytes(), filename or path.name
        declared = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return self._call(
            "POST", f"/projects/{project_id}/evidence", files={"file": (name, data, declared)}
        )

    def evidence(self, project_id: str, **params: Any) -> dict[str, Any]:
        """One page of the project's uploaded photos (limit, cursor)."""
        return self._call("GET", f"/projects/{project_id}/evidence", params=params)

    def evidence_bytes(self, evidence_id: str) -> bytes:
        """An uploaded photo's bytes."""
        data: bytes = self._http.call("GET", f"{self.url}/evidence/{evidence_id}")
        return data

    def timeline(self, project_id: str, **params: Any) -> dict[str, Any]:
        return self._call("GET", f"/projects/{project_id}/timeline", params=params)

    # --- assigned issues (交办事项) -------------------------------------------------------------

    def raise_issue(self, project_id: str, issue: dict[str, Any]) -> dict[str, Any]:
        """Assigns a problem to a responsible unit: {category, description, assigned_unit,
        term ROUTINE|MAJOR, raised_by?, raised_on?, due_on?}; the answer holds its deadlines."""
        return self._call("POST", f"/projects/{project_id}/issues", json=issue)

    def issues(self, project_id: str | None = None, **filters: Any) -> dict[str, Any]:
        """One page of assigned issues, each with its project's name and park (filters: park, a
        list for several; unit; status open/closed; open; overdue; order created/due; feedback
        true for each issue's feedback entries; limit; cursor)."""
        path = f"/projects/{project_id}/issues" if project_id else "/issues"
        return self._call("GET", path, params=filters)

    def issue(self, issue_id: str) -> dict[str, Any]:
        """One issue with its feedback; its `version` is what feedback and closing send back."""
        return self._call("GET", f"/issues/{issue_id}")

    def issue_feedback(
        self, issue_id: str, text: str, *, version: int | None = None
    ) -> dict[str, Any]:
        """Feedback (反馈) on an open issue. `version`: the one you read (If-Match), refused
        with 412 when someone wrote the issue since; the answer holds the new one."""
        return self._call(
            "POST", f"/issues/{issue_id}/feedback", json={"text": text}, headers=_if_match(version)
        )

    def close_issue(
        self, issue_id: str, body: dict[str, Any], *, version: int | None = None
    ) -> dict[str, Any]:
        """销号: {evidence: [uri, …], closed_on?, note?}; `version` as for issue_feedback."""
        return self._call(
            "POST", f"/issues/{issue_id}/close", json=body, headers=_if_match(version)
        )

    # --- progress ---------------------------------------------------------------------------

    def report_progress(
        self, project_id: str, report: dict[str, Any], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self._call("POST", f"/projects/{project_id}/progress", json=report, headers=headers)

    def report_batch(
        self,
        reports: Sequence[dict[str, Any]],
        *,
        milestones: Sequence[dict[str, Any]] = (),
        all_or_nothing: bool = False,
        idempotency_key: str | None = None,
        language: str | None = None,
    ) -> dict[str, Any]:
        """Up to 500 progress reports (each a report body plus `project_id`) and reached
        milestones (each a milestone body plus `project_id`) together in one request: the
        answer lists each report's status (accepted, late, duplicate, refused) in `results` and
        each milestone's (accepted, duplicate, refused) in `milestones`, with errors in Chinese
        unless `language="en"`. With all_or_nothing, one refused row writes nothing."""
        rows = len(reports) + len(milestones)
        if rows > MAX_BATCH_ROWS:
            raise ValueError(f"at most {MAX_BATCH_ROWS} rows per batch, not {rows}")
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        if language:
            headers["Accept-Language"] = language
        body: dict[str, Any] = {"reports": list(reports), "all_or_nothing": all_or_nothing}
        if milestones:
            body["milestones"] = list(milestones)
        return self._call("POST", "/progress/batch", json=body, headers=headers)

    def progress(self, project_id: str, **params: Any) -> dict[str, Any]:
        return self._call("GET", f"/projects/{project_id}/progress", params=params)

    def investment_plans(self, project_id: str) -> dict[str, Any]:
        return self._call("GET", f"/projects/{project_id}/investment-plans")

    def set_investment_plan(
        self, project_id: str, year: int, plan: dict[str, Any]
    ) -> dict[str, Any]:
        return self._call("PUT", f"/projects/{project_id}/investment-plans/{year}", json=plan)

    # --- alerts -----------------------------------------------------------------------------

    def alerts(self, **filters: Any) -> dict[str, Any]:
        """One page; filters: project_id, rule, severity, park, state, limit, cursor."""
        params = {k: v for k, v in filters.items() if v is not None}
        return self._call("GET", "/alerts", params=params)

    def project_summaries(self, **filters: Any) -> dict[str, Any]:
        """One page of projects with colour, last report, next milestone and the report owed;
        filters: park (a list for several), stage, period, chain_tag, colour, q, ids, limit,
        cursor."""
        params = {k: v for k, v in filters.items() if v is not None and v != []}
        return self._call("GET", "/project-summaries", params=params)

    def traffic_lights(self) -> dict[str, Any]:
        return self._call("GET", "/traffic-lights")

    def evaluate(self, as_of: str | None = None, pin: bool = False) -> dict[str, Any]:
        params: dict[str, Any] = {"pin": str(pin).lower()}
        if as_of:
            params["as_of"] = as_of
        return self._call("POST", "/admin/evaluate", params=params)

    def unpin(self) -> None:
        self._http.call("DELETE", f"{self.url}/admin/evaluate/pin")

    # --- sheets and bulletins ---------------------------------------------------------------

    def progress_template(self, period: str, park: str) -> bytes:
        """The 旬报/月报 sheet of a period for one park, its projects pre-filled (XLSX)."""
        result: bytes = self._http.call(
            "GET", f"{self.url}/progress/template", params={"period": period, "park": park}
        )
        return result

    def import_reports(
        self,
        name: str,
        content: bytes,
        *,
        all_or_nothing: bool = False,
        idempotency_key: str | None = None,
        language: str | None = None,
    ) -> dict[str, Any]:
        """Uploads a filled 旬报/月报 sheet (.xlsx or .csv, a row per project): the answer gives
        each row's outcome by its row in the sheet, messages in Chinese unless language="en"."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        if language:
            headers["Accept-Language"] = language
        result: dict[str, Any] = self._call(
            "POST",
            "/progress/import",
            params={"all_or_nothing": str(all_or_nothing).lower()},
            files={"file": (name, content)},
            headers=headers,
        )
        return result

    def bulletin(self, period: str, fmt: str = "json") -> Any:
        """The 通报 of a 旬 or month: a dict (json) or the bytes of the xlsx/pdf."""
        return self._http.call("GET", f"{self.url}/bulletins/{period}", params={"format": fmt})


def _if_match(version: int | None) -> dict[str, str]:
    """The If-Match header naming `version` (none without one: the write is not checked)."""
    return {} if version is None else {"If-Match": f'"{version}"'}
