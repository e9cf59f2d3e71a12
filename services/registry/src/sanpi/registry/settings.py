"""Registry settings: SANPI_REGISTRY_* environment variables (shared ones may be SANPI_*)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from sanpi.events import ZHENGZHOU_HIGH_TECH_PARKS
from sanpi.kit import Runtime, ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SANPI_REGISTRY_", extra="ignore")

    SERVICE: ClassVar[str] = "registry"

    port: int = 8001
    # The parks a project may belong to; a district deployment lists its own.
    parks: list[str] = Field(default_factory=lambda: list(ZHENGZHOU_HIGH_TECH_PARKS))
    # The scope of district-wide targets and indicators (郑州高新区 by default).
    district: str = "郑州高新区"
    # The campaign gauges are recomputed from the whole ledger this often: twice a Prometheus
    # scrape interval (15 s) keeps dashboards fresh; a district's ledger reads in milliseconds.
    metrics_refresh_s: float = 30.0
    # An import is one transaction: 50,000 rows (a province's 2.5 years of listings,
    # docs/domain.md#province-benchmark) fit; a bigger sheet is split by the client.
    import_max_rows: int = 50_000
    import_max_bytes: int = 32 * 1024 * 1024


def settings_of(runtime: Runtime) -> RegistrySettings:
    """The registry's settings from the running app."""
    settings = runtime.settings
    assert isinstance(settings, RegistrySettings)
    return settings
