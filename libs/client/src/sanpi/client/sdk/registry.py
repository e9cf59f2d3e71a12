"""SDK calls of the registry service: projects (periods, listings, targets, imports to come)."""

from __future__ import annotations

from typing import Any

from sanpi.client.sdk.base import Http


class RegistryApi:
    def __init__(self, http: Http, base_url: str) -> None:
        self._http = http
        self.url = f"{base_url}/v1"

    def create_project(
        self, project: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        result: dict[str, Any] = self._http.call(
            "POST", f"{self.url}/projects", json=project, headers=headers
        )
        return result

    def get_project(self, project_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._http.call("GET", f"{self.url}/projects/{project_id}")
        return result

    def list_projects(self, **params: Any) -> dict[str, Any]:
        query = {k: v for k, v in params.items() if v is not None}
        result: dict[str, Any] = self._http.call("GET", f"{self.url}/projects", params=query)
        return result
