"""SDK calls of the notification service: subscriptions and the delivery log."""

from __future__ import annotations

from typing import Any

from sanpi.client.sdk.base import Http


class NotificationApi:
    def __init__(self, http: Http, base_url: str) -> None:
        self._http = http
        self.url = f"{base_url}/v1"

    def subscribe(self, subscription: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._http.call(
            "POST", f"{self.url}/subscriptions", json=subscription
        )
        return result

    def deliveries(self, subscription_id: str | None = None) -> dict[str, Any]:
        params = {"subscription": subscription_id} if subscription_id else {}
        result: dict[str, Any] = self._http.call("GET", f"{self.url}/deliveries", params=params)
        return result
