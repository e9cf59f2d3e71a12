"""Milestone settings: SANPI_MILESTONE_* environment variables (shared ones may be SANPI_*)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from sanpi.kit import ServiceSettings


class MilestoneSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SANPI_MILESTONE_", extra="ignore")

    SERVICE: ClassVar[str] = "milestone"

    port: int = 8002
