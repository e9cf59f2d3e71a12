"""SDK calls of the registry service: projects, listings, periods, targets, sheets, indicators."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from sanpi.client.sdk.base import Http


def _key(idempotency_key: str | None) -> dict[str, str]:
    return {"Idempotency-Key": idempotency_key} if idempotency_key else {}


def _query(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


class RegistryApi:
    def __init__(self, http: Http, base_url: str) -> None:
        self._http = http
        self.url = f"{base_url}/v1"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._http.call(method, f"{self.url}{path}", **kwargs)

    # --- projects ---------------------------------------------------------------------------------

    def create_project(
        self, project: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", "/projects", json=project, headers=_key(idempotency_key)
        )
        return result

    def get_project(self, project_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/projects/{project_id}")
        return result

    def update_project(
        self, project_id: str, changes: dict[str, Any], *, version: int
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "PATCH", f"/projects/{project_id}", json=changes, headers={"If-Match": f'"{version}"'}
        )
        return result

    def cancel_project(
        self, project_id: str, reason_code: str, reason: str, effective_date: str | None = None
    ) -> dict[str, Any]:
        """终止/清退 a project; `effective_date` (YYYY-MM-DD) defaults to today in Shanghai."""
        body = {"reason_code": reason_code, "reason": reason}
        if effective_date is not None:
            body["effective_date"] = effective_date
        result: dict[str, Any] = self._call("POST", f"/projects/{project_id}/cancel", json=body)
        return result

    def list_projects(self, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/projects", params=_query(params))
        return result

    def parks(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/parks")
        return result

    # --- listings ---------------------------------------------------------------------------------

    def add_listing(
        self, project_id: str, period: int, batch: str, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST",
            f"/projects/{project_id}/listings",
            json={"period": period, "batch": batch},
            headers=_key(idempotency_key),
        )
        return result

    def project_listings(self, project_id: str) -> list[dict[str, Any]]:
        """The project's listings, by period."""
        result: list[dict[str, Any]] = self._call("GET", f"/projects/{project_id}/listings")
        return result

    def list_listings(self, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/listings", params=_query(params))
        return result

    # --- periods and targets --------------------------------------------------------------------

    def create_period(
        self, number: int, event_date: str, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST",
            "/periods",
            json={"number": number, "event_date": event_date},
            headers=_key(idempotency_key),
        )
        return result

    def get_period(self, number: int) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/periods/{number}")
        return result

    def move_period(self, number: int, action: str) -> dict[str, Any]:
        """action: hold or close."""
        result: dict[str, Any] = self._call("POST", f"/periods/{number}/{action}")
        return result

    def list_periods(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/periods")
        return result

    def set_target(self, year: int, scope: str, kind: str, value: int) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", "/targets", json={"year": year, "scope": scope, "kind": kind, "value": value}
        )
        return result

    def list_targets(self, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/targets", params=_query(params))
        return result

    def indicators(self, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/indicators", params=_query(params))
        return result

    # --- sheets -------------------------------------------------------------------------------

    def import_sheet(
        self,
        name: str,
        content: bytes | IO[bytes],
        *,
        dry_run: bool = False,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Uploads a CSV/XLSX; `content` may be a file object (read as it uploads: progress)."""
        result: dict[str, Any] = self._call(
            "POST",
            "/projects/import",
            params={"dry_run": str(dry_run).lower()},
            files={"file": (name, content)},
            headers=_key(idempotency_key),
        )
        return result

    def export_sheet(self, fmt: str = "xlsx", **params: Any) -> bytes:
        result: bytes = self._call(
            "GET", "/projects/export", params=_query({"format": fmt, **params})
        )
        return result

    def template(self, fmt: str = "xlsx", *, headers: str = "zh") -> bytes:
        """The empty ledger to fill in: notes, dropdowns, frozen header."""
        result: bytes = self._call(
            "GET", "/projects/template", params={"format": fmt, "headers": headers}
        )
        return result


class ProgressReader:
    """A binary file that reports how many bytes were read (an upload's progress bar)."""

    def __init__(self, raw: IO[bytes], on_read: Callable[[int], None]) -> None:
        self._raw = raw
        self._on_read = on_read

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self._on_read(len(chunk))
        return chunk
