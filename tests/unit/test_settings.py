"""Settings: service prefixes, shared fallbacks, and the production guard on secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from sanpi.milestone.settings import MilestoneSettings
from sanpi.registry.settings import RegistrySettings


def test_service_prefix_wins_over_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANPI_KAFKA_BOOTSTRAP", "shared:9092")
    monkeypatch.setenv("SANPI_REGISTRY_KAFKA_BOOTSTRAP", "own:9092")
    assert RegistrySettings().kafka_bootstrap == "own:9092"
    assert MilestoneSettings().kafka_bootstrap == "shared:9092"


def test_database_url_is_never_shared(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SANPI_REGISTRY_DATABASE_URL", raising=False)
    monkeypatch.setenv("SANPI_DATABASE_URL", "postgresql+asyncpg://one/for-all")
    monkeypatch.setenv("SANPI_DATA_DIR", str(tmp_path))
    settings = RegistrySettings()
    assert (
        settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/registry.db"
    )
    monkeypatch.setenv("SANPI_REGISTRY_DATABASE_URL", "postgresql+asyncpg://db/registry")
    assert RegistrySettings().effective_database_url == "postgresql+asyncpg://db/registry"


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANPI_ENV", "production")
    with pytest.raises(ValidationError, match="jwt_secret"):
        RegistrySettings()
    monkeypatch.setenv("SANPI_JWT_SECRET", "a-real-secret-from-the-vault-0123456789")
    assert RegistrySettings().env == "production"


def test_production_refuses_a_jwt_secret_shorter_than_32_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SANPI_ENV", "production")
    monkeypatch.setenv("SANPI_JWT_SECRET", "s" * 31)
    with pytest.raises(ValidationError, match="at least 32 bytes in production"):
        RegistrySettings()
    monkeypatch.setenv("SANPI_JWT_SECRET", "密" * 11)  # 33 bytes of UTF-8
    assert RegistrySettings().env == "production"
    monkeypatch.setenv("SANPI_ENV", "development")
    monkeypatch.setenv("SANPI_JWT_SECRET", "short")
    assert RegistrySettings().jwt_secret.get_secret_value() == "short"


def test_each_service_accepts_tokens_for_its_own_audience() -> None:
    assert RegistrySettings().audience == "sanpi-registry"
    assert MilestoneSettings().audience == "sanpi-milestone"
