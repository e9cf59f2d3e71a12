"""The SDK: one client for the three services, raising ApiError with the problem+json it got."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class ServiceUrls:
    registry: str = "http://127.0.0.1:8001"
    milestone: str = "http://127.0.0.1:8002"
    notification: str = "http://127.0.0.1:8003"

    @staticmethod
    def from_env() -> ServiceUrls:
        """SANPI_REGISTRY_URL, SANPI_MILESTONE_URL, SANPI_NOTIFICATION_URL, else the local ports."""
        default = ServiceUrls()
        return ServiceUrls(
            registry=os.environ.get("SANPI_REGISTRY_URL", default.registry),
            milestone=os.environ.get("SANPI_MILESTONE_URL", default.milestone),
            notification=os.environ.get("SANPI_NOTIFICATION_URL", default.notification),
        )


class ApiError(Exception):
    """A non-2xx answer; `problem` is the RFC 9457 body when the service sent one."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        detail = problem.get("detail") or problem.get("title") or ""
        super().__init__(f"HTTP {status}: {detail}")


class SanpiClient:
    """Synchronous client over the three services (the CLI's engine; scripts may use it too)."""

    def __init__(self, token: str, urls: ServiceUrls | None = None, timeout: float = 30.0) -> None:
        self.urls = urls or ServiceUrls.from_env()
        self._http = httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {token}"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SanpiClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self._http.request(method, url, **kwargs)
        if response.is_success:
            return response.json() if response.content else None
        try:
            problem = response.json()
        except ValueError:
            problem = {"detail": response.text[:500]}
        raise ApiError(response.status_code, problem if isinstance(problem, dict) else {})

    # registry
    def create_project(self, project: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", f"{self.urls.registry}/v1/projects", json=project
        )
        return result

    def get_project(self, project_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"{self.urls.registry}/v1/projects/{project_id}")
        return result

    def list_projects(self, **params: Any) -> dict[str, Any]:
        query = {k: v for k, v in params.items() if v is not None}
        result: dict[str, Any] = self._call(
            "GET", f"{self.urls.registry}/v1/projects", params=query
        )
        return result

    # milestone
    def post_milestone(self, project_id: str, milestone: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.urls.milestone}/v1/projects/{project_id}/milestones"
        result: dict[str, Any] = self._call("POST", url, json=milestone)
        return result

    def timeline(self, project_id: str) -> dict[str, Any]:
        url = f"{self.urls.milestone}/v1/projects/{project_id}/timeline"
        result: dict[str, Any] = self._call("GET", url)
        return result

    # notification
    def subscribe(self, subscription: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.urls.notification}/v1/subscriptions"
        result: dict[str, Any] = self._call("POST", url, json=subscription)
        return result

    def deliveries(self, subscription_id: str | None = None) -> dict[str, Any]:
        params = {"subscription": subscription_id} if subscription_id else {}
        url = f"{self.urls.notification}/v1/deliveries"
        result: dict[str, Any] = self._call("GET", url, params=params)
        return result
