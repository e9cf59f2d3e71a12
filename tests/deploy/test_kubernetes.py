"""deploy/k8s rendered by the real kustomize, then checked: kinds, labels and selectors that match,
ports that match the services' settings, probes, resources, Secret references; and the Strimzi and
CloudNativePG examples."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sanpi.events import Topic
from sanpi.kit.settings import SHARED_FIELDS
from tests.deploy.test_compose import SETTINGS

# Nothing here touches a service database: the SQLite pass of make test covers it.
pytestmark = pytest.mark.db_independent

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUSTOMIZE = ROOT / ".run" / "tools" / "bin" / "kustomize"


def render(overlay: str) -> list[dict[str, Any]]:
    assert KUSTOMIZE.exists(), "run `make tools` (builds kustomize)"
    result = subprocess.run(
        [str(KUSTOMIZE), "build", str(K8S / overlay)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def of_kind(docs: list[dict[str, Any]], kind: str) -> Iterator[dict[str, Any]]:
    return (d for d in docs if d["kind"] == kind)


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


@pytest.fixture(scope="module", params=["base", "overlays/production"])
def docs(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(request.param)


def test_every_kind_is_there(docs: list[dict[str, Any]]) -> None:
    kinds = sorted(d["kind"] for d in docs)
    assert kinds.count("Deployment") == kinds.count("Service") == 3
    assert kinds.count("PodDisruptionBudget") == kinds.count("HorizontalPodAutoscaler") == 3
    assert {"Namespace", "ConfigMap", "ServiceMonitor"} <= set(kinds)
    assert all(d["metadata"].get("namespace") == "sanpi" for d in docs if d["kind"] != "Namespace")


def test_deployments_are_replicated_probed_bounded_and_on_their_ports(
    docs: list[dict[str, Any]],
) -> None:
    secret = yaml.safe_load((K8S / "base" / "secret.example.yaml").read_text())
    configmaps = {c["metadata"]["name"]: c for c in of_kind(docs, "ConfigMap")}
    for deployment in of_kind(docs, "Deployment"):
        spec = deployment["spec"]
        name = deployment["metadata"]["name"].removeprefix("sanpi-")
        assert spec["replicas"] >= 2
        assert matches(spec["selector"]["matchLabels"], spec["template"]["metadata"]["labels"])
        container = spec["template"]["spec"]["containers"][0]
        port = SETTINGS[name].model_fields["port"].default
        assert container["ports"] == [{"name": "http", "containerPort": port}]
        assert container["command"] == ["python", "-m", f"sanpi.{name}"]
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert set(container["resources"]) == {"requests", "limits"}
        env = {e["name"]: e for e in container["env"]}
        assert env[f"SANPI_{name.upper()}_PORT"]["value"] == str(port)
        for variable in env.values():
            ref = variable.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["name"] == secret["metadata"]["name"]
                assert ref["key"] in secret["stringData"], f"{ref['key']} missing from the Secret"
        for source in container["envFrom"]:
            configmap = configmaps[source["configMapRef"]["name"]]
            for key in configmap["data"]:
                assert key.removeprefix("SANPI_").lower() in SHARED_FIELDS
        assert spec["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def test_each_deployment_migrates_its_database_before_the_service_starts(
    docs: list[dict[str, Any]],
) -> None:
    for deployment in of_kind(docs, "Deployment"):
        name = deployment["metadata"]["name"].removeprefix("sanpi-")
        pod = deployment["spec"]["template"]["spec"]
        (migrate,) = pod["initContainers"]
        (service,) = pod["containers"]
        assert migrate["command"] == ["python", "-m", f"sanpi.{name}", "migrate"]
        assert migrate["image"] == service["image"]
        # The same database, secrets and shared settings as the service it prepares (production
        # settings refuse to load without their secrets, even to migrate).
        assert migrate["env"] == [
            e
            for e in service["env"]
            if e["name"].endswith(("_DATABASE_URL", "JWT_SECRET", "_SECRET_KEYS"))
        ]
        assert migrate["envFrom"] == service["envFrom"]
        assert migrate["securityContext"] == service["securityContext"]
        assert set(migrate["resources"]) == {"requests", "limits"}


def test_services_pdbs_hpas_and_the_servicemonitor_point_at_real_pods(
    docs: list[dict[str, Any]],
) -> None:
    deployments = {d["metadata"]["name"]: d for d in of_kind(docs, "Deployment")}
    pods = {n: d["spec"]["template"]["metadata"]["labels"] for n, d in deployments.items()}
    services = list(of_kind(docs, "Service"))
    for service in services:
        targets = [n for n, labels in pods.items() if matches(service["spec"]["selector"], labels)]
        assert len(targets) == 1, service["metadata"]["name"]
        container_ports = {
            p["name"]
            for p in deployments[targets[0]]["spec"]["template"]["spec"]["containers"][0]["ports"]
        }
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in container_ports
            assert (
                port["port"]
                == SETTINGS[targets[0].removeprefix("sanpi-")].model_fields["port"].default
            )
    for pdb in of_kind(docs, "PodDisruptionBudget"):
        assert (
            sum(matches(pdb["spec"]["selector"]["matchLabels"], labels) for labels in pods.values())
            == 1
        )
        assert pdb["spec"]["minAvailable"] >= 1
    for hpa in of_kind(docs, "HorizontalPodAutoscaler"):
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
        assert hpa["spec"]["minReplicas"] >= 2
        assert hpa["spec"]["maxReplicas"] <= 6, "more consumers than partitions sit idle"
        assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    monitor = next(of_kind(docs, "ServiceMonitor"))
    wanted = set(monitor["spec"]["selector"]["matchExpressions"][0]["values"])
    assert wanted == {s["metadata"]["labels"]["app.kubernetes.io/name"] for s in services}
    assert all(e["port"] == "http" for e in monitor["spec"]["endpoints"])


def test_production_overlay_scales_up() -> None:
    docs = render("overlays/production")
    assert {d["spec"]["replicas"] for d in of_kind(docs, "Deployment")} == {3}
    images = {
        d["spec"]["template"]["spec"]["containers"][0]["image"] for d in of_kind(docs, "Deployment")
    }
    assert images == {"ghcr.io/sanpi/sanpi:0.1.0"}


def test_strimzi_example_has_three_brokers_rf3_and_min_isr2() -> None:
    docs = [d for d in yaml.safe_load_all((K8S / "examples/strimzi/kafka.yaml").read_text()) if d]
    pool = next(d for d in docs if d["kind"] == "KafkaNodePool")
    kafka = next(d for d in docs if d["kind"] == "Kafka")
    assert pool["spec"]["replicas"] == 3
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    pom = (ROOT / "deploy/kafka/pom.xml").read_text()
    assert f"<kafka.version>{kafka['spec']['kafka']['version']}</kafka.version>" in pom
    topics = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "KafkaTopic"}
    assert set(topics) == {t.value for t in Topic}
    assert all(t["replicas"] == 3 and t["partitions"] == 6 for t in topics.values())


def test_cloudnative_pg_example_gives_each_service_a_database() -> None:
    docs = [
        d
        for d in yaml.safe_load_all((K8S / "examples/cloudnative-pg/cluster.yaml").read_text())
        if d
    ]
    cluster = next(d for d in docs if d["kind"] == "Cluster")
    assert cluster["spec"]["instances"] == 3
    databases = {cluster["spec"]["bootstrap"]["initdb"]["database"]}
    databases |= {d["spec"]["name"] for d in docs if d["kind"] == "Database"}
    assert databases == {f"sanpi_{n}" for n in SETTINGS}
    secret = (K8S / "base/secret.example.yaml").read_text()
    assert all(re.search(rf"sanpi-pg-rw\.sanpi\.svc:5432/sanpi_{n}", secret) for n in SETTINGS)
