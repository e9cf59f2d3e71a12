"""Notification settings: SANPI_NOTIFICATION_* environment variables (shared ones may be SANPI_*)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from sanpi.kit import ServiceSettings


class NotificationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SANPI_NOTIFICATION_", extra="ignore")

    SERVICE: ClassVar[str] = "notification"

    port: int = 8003
    # SSRF guard: webhook targets in loopback, private, link-local or reserved ranges are refused
    # unless this is on. `make up` and the tests turn it on so a local receiver works.
    allow_private_targets: bool = False
    webhook_timeout_s: float = 10.0
    # 8 attempts with exponential backoff from 2 s (capped at 1 h) span about 4 minutes before a
    # delivery becomes a dead letter; Retry-After from the receiver can stretch each wait.
    delivery_max_attempts: int = 8
    delivery_backoff_base_s: float = 2.0
    delivery_backoff_max_s: float = 3600.0
    # A claimed delivery is retried by any worker if its sender died before recording the result.
    delivery_lease_s: float = 60.0
    delivery_concurrency: int = 16
