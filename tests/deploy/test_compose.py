"""docker-compose.yml and the Dockerfile, checked without a Docker engine (none runs here): the
official Compose Specification schema, and every environment variable, port and mounted path
against the code and the repository."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from sanpi.kit.settings import SHARED_FIELDS, ServiceSettings
from sanpi.milestone.settings import MilestoneSettings
from sanpi.notification.settings import NotificationSettings
from sanpi.registry.settings import RegistrySettings

# Nothing here touches a service database: the SQLite pass of make test covers it.
pytestmark = pytest.mark.db_independent

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / ".run" / "tools" / "compose-spec.json"
SETTINGS: dict[str, type[ServiceSettings]] = {
    "registry": RegistrySettings,
    "milestone": MilestoneSettings,
    "notification": NotificationSettings,
}
# Read by the Dockerfile's HEALTHCHECK, not by the settings.
NOT_SETTINGS = {"SANPI_HEALTH_PORT"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_compose_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    assert SCHEMA.exists(), "run `make tools` (fetches the Compose Specification schema)"
    jsonschema.validate(compose, json.loads(SCHEMA.read_text()))


def test_a_broken_compose_file_is_caught_by_the_same_check(compose: dict[str, Any]) -> None:
    broken = {
        **compose,
        "services": {
            **compose["services"],
            "registry": {**compose["services"]["registry"], "ports": 8001},
        },
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, json.loads(SCHEMA.read_text()))


def test_the_whole_stack_is_there(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {
        "kafka",
        "postgres",
        "registry",
        "milestone",
        "notification",
        "prometheus",
        "grafana",
    }
    pom = (ROOT / "deploy" / "kafka" / "pom.xml").read_text()
    kafka_version = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    assert kafka_version is not None
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{kafka_version.group(1)}"


@pytest.mark.parametrize("name", ["registry", "milestone", "notification"])
def test_every_service_variable_is_a_real_setting_and_ports_match(
    compose: dict[str, Any], name: str
) -> None:
    service = compose["services"][name]
    settings = SETTINGS[name]
    prefix = f"SANPI_{name.upper()}_"
    fields = set(settings.model_fields)
    for variable in service["environment"]:
        if variable in NOT_SETTINGS or not variable.startswith("SANPI_"):
            continue
        if variable.startswith(prefix):
            assert variable.removeprefix(prefix).lower() in fields, (
                f"{name}: {variable} is no setting"
            )
        else:
            assert variable.removeprefix("SANPI_").lower() in SHARED_FIELDS, (
                f"{name}: {variable} is not shared"
            )
    port = settings.model_fields["port"].default
    assert service["environment"][f"{prefix}PORT"] == str(port)
    assert service["environment"]["SANPI_HEALTH_PORT"] == str(port)
    assert service["ports"] == [f"{port}:{port}"]
    assert service["command"] == ["python", "-m", f"sanpi.{name}"]
    assert f"/sanpi_{name}" in service["environment"][f"{prefix}DATABASE_URL"]


def test_start_order_is_health_gated_and_volumes_are_named(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert rule["condition"] == "service_healthy", f"{name} → {dependency}"
            has_check = (
                "healthcheck" in services[dependency] or services[dependency].get("build") == "."
            )
            assert has_check, f"{dependency} has no healthcheck"
    declared = set(compose["volumes"])
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"mounted path {source} is not in the repository"
            else:
                assert source in declared, f"volume {source} is not declared"


def test_grafana_gets_the_provisioning_and_the_dashboards(compose: dict[str, Any]) -> None:
    mounts = dict(
        v.split(":")[:2] for v in compose["services"]["grafana"]["volumes"] if v.startswith("./")
    )
    provider = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/dashboards/sanpi.yml").read_text()
    )
    assert mounts["./deploy/grafana/dashboards"] == provider["providers"][0]["options"]["path"]
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    assert compose["services"]["grafana"]["image"].startswith("grafana/grafana:11.")
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/compose/prometheus.yml").read_text())
    targets = {
        c["job_name"]: c["static_configs"][0]["targets"][0] for c in prometheus["scrape_configs"]
    }
    assert targets == {n: f"{n}:{s.model_fields['port'].default}" for n, s in SETTINGS.items()}


def test_the_image_runs_as_non_root_with_a_healthcheck() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile
    assert "/healthz" in dockerfile
    assert "uv sync --locked --no-dev" in dockerfile
