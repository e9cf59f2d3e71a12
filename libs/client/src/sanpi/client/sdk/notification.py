"""SDK calls of the notification service: subscriptions, deliveries, dead letters, inbox, acks,
the contact book and 督办 items, and why a subscription was (not) notified of an event."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sanpi.client.sdk.base import Http


class NotificationApi:
    def __init__(self, http: Http, base_url: str) -> None:
        self._http = http
        self.url = f"{base_url}/v1"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._http.call(method, f"{self.url}{path}", **kwargs)

    def subscribe(self, subscription: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/subscriptions", json=subscription)
        return result

    def subscriptions(self, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        result: dict[str, Any] = self._call("GET", "/subscriptions", params=params)
        return result

    def subscription(self, subscription_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/subscriptions/{subscription_id}")
        return result

    def update_subscription(self, subscription_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "PATCH", f"/subscriptions/{subscription_id}", json=changes
        )
        return result

    def rotate_secret(self, subscription_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", f"/subscriptions/{subscription_id}/rotate-secret"
        )
        return result

    def digests(
        self, subscription_id: str, limit: int = 50, cursor: str | None = None
    ) -> dict[str, Any]:
        """The digests queued for a subscription (one per day or 旬), oldest first, a page."""
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        result: dict[str, Any] = self._call(
            "GET", f"/subscriptions/{subscription_id}/digests", params=params
        )
        return result

    def send_test(self, subscription_id: str) -> dict[str, Any]:
        """Queues a test notification through the subscription's channel; names its delivery."""
        result: dict[str, Any] = self._call("POST", f"/subscriptions/{subscription_id}/test")
        return result

    def unsubscribe(self, subscription_id: str) -> None:
        self._call("DELETE", f"/subscriptions/{subscription_id}")

    def deliveries(
        self,
        subscription_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        params = {
            "subscription": subscription_id,
            "status": status,
            "limit": limit,
            "cursor": cursor,
        }
        result: dict[str, Any] = self._call(
            "GET", "/deliveries", params={k: v for k, v in params.items() if v}
        )
        return result

    def replay_dead_letters(
        self, subscription_id: str | None = None, delivery_ids: list[str] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"delivery_ids": delivery_ids or []}
        if subscription_id:
            body["subscription_id"] = subscription_id
        result: dict[str, Any] = self._call("POST", "/dead-letters/replay", json=body)
        return result

    def inbox(self, unacknowledged: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "GET", "/inbox", params={"unacknowledged": unacknowledged}
        )
        return result

    def acknowledge_item(self, item_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/inbox/{item_id}/ack")
        return result

    def acknowledge_alert(self, alert_key: str, note: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST",
            f"/alerts/{quote(alert_key, safe=':')}/ack",
            json={"note": note} if note else None,
        )
        return result

    def explain(
        self, subscription_id: str, event_id: str, language: str | None = None
    ) -> dict[str, Any]:
        """Why the subscription was (not) notified of the event: the verdict, a summary, every
        step of the decision and the deliveries with their attempts. Chinese unless `language`
        is "en"."""
        headers = {"Accept-Language": language} if language else None
        result: dict[str, Any] = self._call(
            "GET",
            "/explain",
            params={"subscription": subscription_id, "event": event_id},
            headers=headers,
        )
        return result

    def alert_states(self, **filters: Any) -> dict[str, Any]:
        """One page of alerts as the service keeps them, with acknowledgements and `counts` by
        severity; filters: firing, acknowledged, park (a list for several), severity, rule,
        project_id, limit, cursor."""
        params = {k: v for k, v in filters.items() if v is not None and v != []}
        result: dict[str, Any] = self._call("GET", "/alert-states", params=params)
        return result

    # --- the contact book and 督办 items ---------------------------------------------------

    def add_contact(self, contact: dict[str, Any]) -> dict[str, Any]:
        """Adds a contact (admin): name, unit, optional park, and at least one address."""
        result: dict[str, Any] = self._call("POST", "/contacts", json=contact)
        return result

    def contacts(self, **filters: Any) -> dict[str, Any]:
        """One page of the contact book; filters: unit, park, limit, cursor."""
        params = {k: v for k, v in filters.items() if v is not None}
        result: dict[str, Any] = self._call("GET", "/contacts", params=params)
        return result

    def update_contact(self, contact_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PATCH", f"/contacts/{contact_id}", json=changes)
        return result

    def remove_contact(self, contact_id: str) -> None:
        self._call("DELETE", f"/contacts/{contact_id}")

    def supervision_items(self, **filters: Any) -> dict[str, Any]:
        """One page of 督办 items, soonest due first; filters: status (active, open, responded,
        closed, all), unit, park (a list for several), limit, cursor."""
        params = {k: v for k, v in filters.items() if v is not None and v != []}
        result: dict[str, Any] = self._call("GET", "/supervision", params=params)
        return result

    def supervision_item(self, item_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/supervision/{item_id}")
        return result

    def respond_supervision(self, item_id: str, response: str) -> dict[str, Any]:
        """The responsible unit's 整改说明."""
        result: dict[str, Any] = self._call(
            "POST", f"/supervision/{item_id}/respond", json={"response": response}
        )
        return result

    def close_supervision(self, item_id: str, note: str | None = None) -> dict[str, Any]:
        """办结 by an official, with an optional note."""
        result: dict[str, Any] = self._call(
            "POST", f"/supervision/{item_id}/close", json={"note": note} if note else None
        )
        return result
