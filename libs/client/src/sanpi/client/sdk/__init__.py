"""The SDK: `SanpiClient(token).registry / .milestone / .notification`, one module per service."""

from __future__ import annotations

from sanpi.client.sdk.base import ApiError, Http, ServiceUrls
from sanpi.client.sdk.milestone import MilestoneApi
from sanpi.client.sdk.notification import NotificationApi
from sanpi.client.sdk.registry import RegistryApi


class SanpiClient:
    """Synchronous client over the three services (the CLI's engine; scripts may use it too)."""

    def __init__(self, token: str, urls: ServiceUrls | None = None, timeout: float = 30.0) -> None:
        self.urls = urls or ServiceUrls.from_env()
        self._http = Http(token, timeout)
        self.registry = RegistryApi(self._http, self.urls.registry)
        self.milestone = MilestoneApi(self._http, self.urls.milestone)
        self.notification = NotificationApi(self._http, self.urls.notification)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SanpiClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


__all__ = [
    "ApiError",
    "MilestoneApi",
    "NotificationApi",
    "RegistryApi",
    "SanpiClient",
    "ServiceUrls",
]
