"""SDK calls of the milestone service: milestones and timelines (progress and alerts to come)."""

from __future__ import annotations

from typing import Any

from sanpi.client.sdk.base import Http


class MilestoneApi:
    def __init__(self, http: Http, base_url: str) -> None:
        self._http = http
        self.url = f"{base_url}/v1"

    def post_milestone(self, project_id: str, milestone: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._http.call(
            "POST", f"{self.url}/projects/{project_id}/milestones", json=milestone
        )
        return result

    def timeline(self, project_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._http.call(
            "GET", f"{self.url}/projects/{project_id}/timeline"
        )
        return result
