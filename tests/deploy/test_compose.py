"""docker-compose.yml and the Dockerfile, checked without a Docker engine (none runs here): the
official Compose Specification schema, and every environment variable, port and mounted path
against the code and the repository; ports on 127.0.0.1 unless told otherwise, no default
secrets, pinned images through an optional mirror."""

from __future__ import annotations

import contextlib
import importlib
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
# The portal (services/portal) is deployed like the services; its settings are checked the same
# way once its package is in the workspace.
PORTAL_PORT = 8000
with contextlib.suppress(ModuleNotFoundError):
    SETTINGS["portal"] = importlib.import_module("sanpi.portal.settings").PortalSettings
DEPLOYED = ("registry", "milestone", "notification", "portal")
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def with_defaults(text: str) -> str:
    """`text` as compose reads it when no variable is set: ${VAR:-default} becomes the default."""
    return INTERPOLATION.sub(lambda m: m.group(2) or "", text)


def port_of(name: str) -> int:
    if name in SETTINGS:
        return int(SETTINGS[name].model_fields["port"].default)
    assert name == "portal"
    return PORTAL_PORT


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
        "portal",
        "prometheus",
        "alertmanager",
        "grafana",
        "jaeger",
    }
    pom = (ROOT / "deploy" / "kafka" / "pom.xml").read_text()
    kafka_version = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    assert kafka_version is not None
    kafka_image = with_defaults(compose["services"]["kafka"]["image"])
    assert kafka_image == f"apache/kafka:{kafka_version.group(1)}"
    # The Jaeger release of the Go module the local stack pins (v1.75.0 = v2.12.0).
    assert compose["services"]["jaeger"]["image"].endswith("jaegertracing/jaeger:2.12.0")


def test_images_are_pinned_and_can_come_from_a_mirror(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service["image"]
        if "build" in service:
            assert image == "sanpi:local"
            continue
        assert image.startswith("${SANPI_REGISTRY_MIRROR:-}"), f"{name}: no mirror prefix"
        tag = image.rsplit(":", 1)[1]
        assert re.fullmatch(r"v?\d+(\.\d+)*", tag), f"{name}: {image} is not pinned"


@pytest.mark.parametrize("name", DEPLOYED)
def test_every_service_variable_is_a_real_setting_and_ports_match(
    compose: dict[str, Any], name: str
) -> None:
    service = compose["services"][name]
    prefix = f"SANPI_{name.upper()}_"
    settings = SETTINGS.get(name)
    for variable in service["environment"]:
        if variable in NOT_SETTINGS or not variable.startswith("SANPI_") or settings is None:
            continue
        if variable.startswith(prefix):
            assert variable.removeprefix(prefix).lower() in settings.model_fields, (
                f"{name}: {variable} is no setting"
            )
        else:
            assert variable.removeprefix("SANPI_").lower() in SHARED_FIELDS, (
                f"{name}: {variable} is not shared"
            )
    port = port_of(name)
    assert service["environment"][f"{prefix}PORT"] == str(port)
    assert service["environment"]["SANPI_HEALTH_PORT"] == str(port)
    assert service["ports"] == [f"${{SANPI_BIND:-127.0.0.1}}:{port}:{port}"]
    assert service["command"] == ["python", "-m", f"sanpi.{name}"]
    assert f"/sanpi_{name}" in service["environment"][f"{prefix}DATABASE_URL"]
    init = (ROOT / "deploy" / "postgres" / "init" / "01-databases.sql").read_text()
    assert f"CREATE DATABASE sanpi_{name};" in init


def test_ports_are_published_on_loopback_unless_told_otherwise(compose: dict[str, Any]) -> None:
    published = 0
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert isinstance(port, str), f"{name}: write ports as HOST_IP:HOST:CONTAINER"
            assert port.startswith("${SANPI_BIND:-127.0.0.1}:"), f"{name}: {port} on every address"
            published += 1
    assert published >= 8
    assert "kafka" not in {n for n, s in compose["services"].items() if s.get("ports")}


def test_no_default_secrets(compose: dict[str, Any]) -> None:
    """A secret without a value stops `docker compose up` (${VAR:?message}); none has a default."""
    text = (ROOT / "docker-compose.yml").read_text()
    grafana = compose["services"]["grafana"]["environment"]
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")
    assert with_defaults(grafana["GF_AUTH_ANONYMOUS_ENABLED"]) == "false"
    for secret in ("SANPI_JWT_SECRET", "POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD"):
        assert f"${{{secret}:?" in text
        assert not re.search(rf"\$\{{{secret}:?-", text), f"{secret} has a default"


def test_alerts_go_from_prometheus_to_alertmanager(compose: dict[str, Any]) -> None:
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/compose/prometheus.yml").read_text())
    (target,) = prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    host, port = target.split(":")
    alertmanager = compose["services"][host]
    assert "--config.file=/etc/alertmanager/alertmanager.yml" in alertmanager["command"]
    mounts = dict(v.rsplit(":", 2)[:2] for v in map(with_defaults, alertmanager["volumes"]))
    assert mounts["./deploy/alertmanager/alertmanager.yml"] == "/etc/alertmanager/alertmanager.yml"
    assert alertmanager["ports"] == [f"${{SANPI_BIND:-127.0.0.1}}:9095:{port}"]
    assert "alertmanager" in compose["services"]["prometheus"]["depends_on"]


def test_the_services_trace_to_jaeger(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("registry", "milestone", "notification"):
        endpoint = with_defaults(services[name]["environment"]["SANPI_OTLP_ENDPOINT"])
        host, port = endpoint.removeprefix("http://").split(":")
        assert host in services, name
        assert port == "4318", name  # the image's OTLP/HTTP receiver
    assert services["jaeger"]["image"].endswith("jaegertracing/jaeger:2.12.0")
    assert services["jaeger"]["ports"] == ["${SANPI_BIND:-127.0.0.1}:16686:16686"]


def test_start_order_is_health_gated_and_volumes_are_named(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert rule["condition"] == "service_healthy", f"{name} → {dependency}"
            has_check = "healthcheck" in services[dependency] or "build" in services[dependency]
            assert has_check, f"{dependency} has no healthcheck"
    declared = set(compose["volumes"])
    for service in services.values():
        for volume in service.get("volumes", []):
            source = with_defaults(volume).split(":")[0]
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
    assert with_defaults(compose["services"]["grafana"]["image"]).startswith("grafana/grafana:11.")
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/compose/prometheus.yml").read_text())
    targets = {
        c["job_name"]: c["static_configs"][0]["targets"][0] for c in prometheus["scrape_configs"]
    }
    assert targets == {n: f"{n}:{s.model_fields['port'].default}" for n, s in SETTINGS.items()}


def test_the_image_builds_from_mirrors_when_told(compose: dict[str, Any]) -> None:
    """On an intranet: the base image from a registry mirror, the packages from a PyPI mirror."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^ARG REGISTRY_MIRROR=$", dockerfile, re.M)
    assert all(
        f.startswith("FROM ${REGISTRY_MIRROR}") for f in re.findall(r"^FROM .*", dockerfile, re.M)
    )
    args = compose["services"]["registry"]["build"]["args"]
    for name in ("PIP_INDEX_URL", "UV_INDEX_URL"):
        assert re.search(rf"^ARG {name}=https://pypi.org/simple$", dockerfile, re.M)
        assert args[name] == f"${{{name}:-https://pypi.org/simple}}"
    assert args["REGISTRY_MIRROR"] == "${SANPI_REGISTRY_MIRROR:-}"


def test_the_image_runs_as_non_root_with_a_healthcheck() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile
    assert "/healthz" in dockerfile
    assert "uv sync --locked --no-dev" in dockerfile


def test_robot_messages_link_to_the_portal_address_people_open(compose: dict[str, Any]) -> None:
    """The notification service's links follow SANPI_PORTAL_PUBLIC_URL (the intranet address),
    by default the portal as published on this host."""
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    url = raw["services"]["notification"]["environment"]["SANPI_NOTIFICATION_PORTAL_URL"]
    assert url == "${SANPI_PORTAL_PUBLIC_URL:-http://localhost:8000}"
    published = compose["services"]["portal"]["ports"][0].rsplit(":", 2)[-2]
    assert with_defaults(url) == f"http://localhost:{published}"
