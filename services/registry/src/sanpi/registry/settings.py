"""Registry settings: SANPI_REGISTRY_* environment variables (shared ones may be SANPI_*)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from sanpi.events import ZHENGZHOU_HIGH_TECH_PARKS
from sanpi.kit import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SANPI_REGISTRY_", extra="ignore")

    SERVICE: ClassVar[str] = "registry"

    port: int = 8001
    # The parks a project may belong to; a district deployment lists its own.
    parks: list[str] = Field(default_factory=lambda: list(ZHENGZHOU_HIGH_TECH_PARKS))
