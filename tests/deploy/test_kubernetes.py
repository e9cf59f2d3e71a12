"""deploy/k8s rendered by the real kustomize, then checked: kinds, labels and selectors that match,
ports that match the services' settings, probes, resources, Secret references; what a security
review asks for (Pod Security restricted, seccomp, NetworkPolicies that open only the paths the
system needs, an Ingress with TLS that keeps /metrics inside, spread over nodes); the monitoring
generated from deploy/prometheus, deploy/grafana and deploy/alertmanager; and the Strimzi and
CloudNativePG examples."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sanpi.events import Topic
from sanpi.kit.settings import SHARED_FIELDS
from tests.deploy.test_compose import DEPLOYED, port_of

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
    assert kinds.count("Deployment") == kinds.count("Service") == len(DEPLOYED)
    assert kinds.count("PodDisruptionBudget") == kinds.count("HorizontalPodAutoscaler") == 4
    assert {
        "Namespace",
        "ConfigMap",
        "ServiceMonitor",
        "NetworkPolicy",
        "Ingress",
        "PrometheusRule",
        "Alertmanager",
        "Secret",
    } <= set(kinds)
    assert {d["metadata"]["name"] for d in of_kind(docs, "Deployment")} == {
        f"sanpi-{n}" for n in DEPLOYED
    }
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
        port = port_of(name)
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
            assert port["port"] == port_of(targets[0].removeprefix("sanpi-"))
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
    assert databases == {f"sanpi_{n}" for n in DEPLOYED}
    secret = (K8S / "base/secret.example.yaml").read_text()
    assert all(re.search(rf"sanpi-pg-rw\.sanpi\.svc:5432/sanpi_{n}", secret) for n in DEPLOYED)
    # The database pods accept the services, the portal and their own replicas only.
    (policy,) = (d for d in docs if d["kind"] == "NetworkPolicy")
    assert policy["spec"]["podSelector"] == {"matchLabels": {"cnpg.io/cluster": "sanpi-pg"}}
    peers = policy["spec"]["ingress"][0]["from"]
    assert peers[0]["podSelector"]["matchExpressions"][0]["values"] == [
        f"sanpi-{n}" for n in DEPLOYED
    ]


# --- what a security review asks for ---------------------------------------------------------------


def pod_specs(docs: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, pod spec) of every pod the manifests make: Deployments, and the operator's
    Alertmanager (whose spec carries the pod-level fields the operator copies)."""
    for deployment in of_kind(docs, "Deployment"):
        yield deployment["metadata"]["name"], deployment["spec"]["template"]["spec"]
    for alertmanager in of_kind(docs, "Alertmanager"):
        yield f"alertmanager-{alertmanager['metadata']['name']}", alertmanager["spec"]


def test_the_namespace_enforces_the_restricted_pod_security_standard(
    docs: list[dict[str, Any]],
) -> None:
    (namespace,) = of_kind(docs, "Namespace")
    labels = namespace["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"


def test_every_pod_meets_the_restricted_profile(docs: list[dict[str, Any]]) -> None:
    """The checks of the restricted Pod Security Standard, container by container."""
    specs = dict(pod_specs(docs))
    assert len(specs) == len(DEPLOYED) + 1
    for name, pod in specs.items():
        context = pod["securityContext"]
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert context["runAsNonRoot"] is True, name
        assert context["runAsUser"] > 0, name
        for forbidden in ("hostNetwork", "hostPID", "hostIPC"):
            assert not pod.get(forbidden), f"{name}: {forbidden}"
        assert all("hostPath" not in v for v in pod.get("volumes", [])), name
        if name.startswith("alertmanager"):
            continue  # its containers are the operator's (restricted-ready since v0.59)
        assert pod["automountServiceAccountToken"] is False, name
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            security = container["securityContext"]
            where = f"{name}/{container['name']}"
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"] == {"drop": ["ALL"]}, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert not security.get("privileged"), where


def test_replicas_spread_over_nodes_and_zones(docs: list[dict[str, Any]]) -> None:
    for deployment in of_kind(docs, "Deployment"):
        pod = deployment["spec"]["template"]
        constraints = {c["topologyKey"]: c for c in pod["spec"]["topologySpreadConstraints"]}
        node = constraints["kubernetes.io/hostname"]
        zone = constraints["topology.kubernetes.io/zone"]
        assert node["whenUnsatisfiable"] == "DoNotSchedule"
        assert zone["whenUnsatisfiable"] == "ScheduleAnyway"
        for constraint in (node, zone):
            assert constraint["maxSkew"] == 1
            assert matches(constraint["labelSelector"]["matchLabels"], pod["metadata"]["labels"])


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels and In/NotIn/Exists expressions)."""
    if not matches(selector.get("matchLabels", {}), labels):
        return False
    for expression in selector.get("matchExpressions", []):
        value = labels.get(expression["key"])
        operator = expression["operator"]
        if operator == "In" and value not in expression["values"]:
            return False
        if operator == "NotIn" and value in expression["values"]:
            return False
        if operator == "Exists" and value is None:
            return False
    return True


# The pods outside sanpi's namespace that the policies name, as their labels are.
OUTSIDE = {
    "kafka": ({"kubernetes.io/metadata.name": "kafka"}, {"strimzi.io/cluster": "sanpi-kafka"}),
    "dns": ({"kubernetes.io/metadata.name": "kube-system"}, {"k8s-app": "kube-dns"}),
    "ingress": (
        {"kubernetes.io/metadata.name": "ingress-nginx"},
        {"app.kubernetes.io/name": "ingress-nginx"},
    ),
    "prometheus": (
        {"kubernetes.io/metadata.name": "monitoring"},
        {"app.kubernetes.io/name": "prometheus"},
    ),
}
SANPI_NS = {"kubernetes.io/metadata.name": "sanpi"}
DATABASE = (SANPI_NS, {"cnpg.io/cluster": "sanpi-pg"})


def peer_matches(peer: dict[str, Any], namespace: dict[str, str], labels: dict[str, str]) -> bool:
    if "ipBlock" in peer:
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], namespace):
            return False
    elif namespace != SANPI_NS:
        return False
    return selects(peer.get("podSelector", {}), labels)


class Policies:
    """NetworkPolicy semantics over the rendered manifests: a pod selected by any policy of a
    direction allows only what one of their rules allows."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.policies = [p["spec"] for p in of_kind(docs, "NetworkPolicy")]
        self.pods = {
            d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
            for d in of_kind(docs, "Deployment")
        }
        self.pods["alertmanager"] = {
            "app.kubernetes.io/name": "alertmanager",
            "alertmanager": "sanpi",
        }
        self.ports = {
            d["metadata"]["name"]: {
                p["name"]: p["containerPort"]
                for p in d["spec"]["template"]["spec"]["containers"][0]["ports"]
            }
            for d in of_kind(docs, "Deployment")
        }

    def of(self, pod: str, direction: str) -> list[dict[str, Any]]:
        return [
            p
            for p in self.policies
            if selects(p["podSelector"], self.pods[pod]) and direction in p["policyTypes"]
        ]

    def egress(self, pod: str, to: tuple[dict[str, str], dict[str, str]], port: int) -> bool:
        rules = [r for p in self.of(pod, "Egress") for r in p.get("egress", [])]
        assert self.of(pod, "Egress"), f"{pod} has no egress policy: it may go anywhere"
        return any(
            any(peer_matches(peer, *to) for peer in rule.get("to", []))
            and any(p["port"] == port for p in rule.get("ports", []))
            for rule in rules
        )

    def egress_anywhere(self, pod: str) -> bool:
        rules = [r for p in self.of(pod, "Egress") for r in p.get("egress", [])]
        return any("ipBlock" in peer for rule in rules for peer in rule.get("to", []))

    def ingress(self, pod: str, source: tuple[dict[str, str], dict[str, str]]) -> bool:
        rules = [r for p in self.of(pod, "Ingress") for r in p.get("ingress", [])]
        assert self.of(pod, "Ingress"), f"{pod} has no ingress policy: anyone may connect"
        http = self.ports.get(pod, {}).get("http")
        return any(
            any(peer_matches(peer, *source) for peer in rule.get("from", []))
            and any(p["port"] in ("http", http, 9093) for p in rule.get("ports", []))
            for rule in rules
        )


def test_network_policies_open_only_the_paths_the_system_needs(
    docs: list[dict[str, Any]],
) -> None:
    policies = Policies(docs)
    deny = [p for p in policies.policies if p.get("ingress") is None and p.get("egress") is None]
    assert len(deny) == 1
    assert set(deny[0]["policyTypes"]) == {"Ingress", "Egress"}

    def pod(name: str) -> tuple[dict[str, str], dict[str, str]]:
        return SANPI_NS, policies.pods[name]

    apis = ["sanpi-registry", "sanpi-milestone", "sanpi-notification"]
    everyone = [*apis, "sanpi-portal", "alertmanager"]
    for name in everyone:
        assert selects(deny[0]["podSelector"], policies.pods[name]), f"{name} not denied first"
        assert policies.egress(name, OUTSIDE["dns"], 53)
    for name in apis:
        assert policies.egress(name, OUTSIDE["kafka"], 9092)
        assert policies.egress(name, DATABASE, 5432)
        # In: the ingress controller, the portal and Prometheus; not each other.
        assert policies.ingress(name, OUTSIDE["ingress"])
        assert policies.ingress(name, pod("sanpi-portal"))
        assert policies.ingress(name, OUTSIDE["prometheus"])
        assert not any(policies.ingress(name, pod(other)) for other in apis)
        assert policies.egress("sanpi-portal", pod(name), port_of(name.removeprefix("sanpi-")))
    # Only the notification service (webhooks, robots, e-mail) and Alertmanager leave the cluster.
    assert [n for n in everyone if policies.egress_anywhere(n)] == [
        "sanpi-notification",
        "alertmanager",
    ]
    assert policies.egress("sanpi-portal", DATABASE, 5432)
    assert not policies.egress("sanpi-portal", OUTSIDE["kafka"], 9092)
    assert policies.ingress("sanpi-portal", OUTSIDE["ingress"])
    assert not policies.ingress("sanpi-portal", pod("sanpi-registry"))
    assert policies.ingress("alertmanager", OUTSIDE["prometheus"])
    assert not policies.ingress("alertmanager", OUTSIDE["ingress"])


def test_the_ingress_serves_the_portal_and_the_apis_over_tls_and_keeps_metrics_inside(
    docs: list[dict[str, Any]],
) -> None:
    services = {s["metadata"]["name"]: s for s in of_kind(docs, "Service")}
    routed: dict[str, list[str]] = {}
    for ingress in of_kind(docs, "Ingress"):
        spec = ingress["spec"]
        annotations = ingress["metadata"]["annotations"]
        assert annotations["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"
        tls_hosts = {h for t in spec["tls"] for h in t["hosts"]}
        for rule in spec["rules"]:
            assert rule["host"] in tls_hosts, f"{rule['host']} without TLS"
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                service = services[backend["name"]]
                assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
                routed.setdefault(backend["name"], []).append(path["path"])
    assert routed == {
        "sanpi-portal": ["/"],
        "sanpi-registry": ["/v1"],
        "sanpi-milestone": ["/v1"],
        "sanpi-notification": ["/v1"],
    }
    (stream,) = (
        i for i in of_kind(docs, "Ingress") if i["metadata"]["name"] == "sanpi-notification"
    )
    assert stream["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"


# --- monitoring, generated from the files the local stack uses ----------------------------------


def test_the_monitoring_manifests_are_what_the_generator_writes() -> None:
    result = subprocess.run(
        [sys.executable, str(K8S / "monitoring.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_prometheus_rule_dashboards_and_alertmanager_equal_their_sources(
    docs: list[dict[str, Any]],
) -> None:
    (rule,) = of_kind(docs, "PrometheusRule")
    sources = sorted((ROOT / "deploy/prometheus/rules").glob("*.yml"))
    groups = [g for path in sources for g in yaml.safe_load(path.read_text())["groups"]]
    assert rule["spec"]["groups"] == groups
    dashboards = {
        d["metadata"]["name"]: d["data"]
        for d in of_kind(docs, "ConfigMap")
        if d["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
    }
    files = sorted((ROOT / "deploy/grafana/dashboards").glob("*.json"))
    assert len(dashboards) == len(files) == 5
    for path in files:
        data = dashboards[f"sanpi-dashboard-{path.stem}"]
        assert data == {path.name: path.read_text()}
        json.loads(data[path.name])
    (alertmanager,) = of_kind(docs, "Alertmanager")
    secrets = {s["metadata"]["name"]: s for s in of_kind(docs, "Secret")}
    config = secrets[alertmanager["spec"]["configSecret"]]["stringData"]["alertmanager.yaml"]
    assert config == (ROOT / "deploy/alertmanager/alertmanager.yml").read_text()
    assert alertmanager["spec"]["replicas"] >= 2


def test_the_jaeger_example_receives_the_services_traces_and_nothing_else() -> None:
    """examples/jaeger: the base, one restricted Jaeger pod, the services pointed at it, and the
    one network path the spans take (the services out on 4318 to Jaeger, Jaeger in from them)."""
    docs = render("examples/jaeger")
    (config,) = (c for c in of_kind(docs, "ConfigMap") if c["metadata"]["name"] == "sanpi-config")
    endpoint = config["data"]["SANPI_OTLP_ENDPOINT"]
    (service,) = (s for s in of_kind(docs, "Service") if s["metadata"]["name"] == "jaeger")
    assert endpoint == f"http://jaeger.{service['metadata']['namespace']}.svc:4318"
    assert {p["port"] for p in service["spec"]["ports"]} == {4318, 16686}
    (pod,) = (p for n, p in pod_specs(docs) if n == "jaeger")
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["image"] == "jaegertracing/jaeger:2.12.0"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    policies = Policies(docs)
    jaeger = (SANPI_NS, policies.pods["jaeger"])
    apis = ["sanpi-registry", "sanpi-milestone", "sanpi-notification"]
    for api in apis:
        assert policies.egress(api, jaeger, 4318), api
    assert not policies.egress("sanpi-portal", jaeger, 4318)
    ingress = [r for p in policies.of("jaeger", "Ingress") for r in p.get("ingress", [])]
    assert ingress, "Jaeger has no ingress policy: anyone may send it spans"
    for api in ["sanpi-portal", *apis]:
        allowed = any(
            any(peer_matches(peer, SANPI_NS, policies.pods[api]) for peer in rule["from"])
            for rule in ingress
        )
        assert allowed == (api in apis), api


def test_robot_messages_link_to_the_portals_host_in_the_ingress(
    docs: list[dict[str, Any]],
) -> None:
    """Not the service's default (127.0.0.1:8000, the laptop's): a link in a robot message is
    opened on an official's phone, through the Ingress."""
    (portal_host,) = [
        rule["host"]
        for ingress in of_kind(docs, "Ingress")
        for rule in ingress["spec"]["rules"]
        if any(p["backend"]["service"]["name"] == "sanpi-portal" for p in rule["http"]["paths"])
    ]
    (notification,) = [
        d for d in of_kind(docs, "Deployment") if d["metadata"]["name"] == "sanpi-notification"
    ]
    env = {
        e["name"]: e.get("value")
        for c in notification["spec"]["template"]["spec"]["containers"]
        for e in c.get("env", [])
    }
    assert env["SANPI_NOTIFICATION_PORTAL_URL"] == f"https://{portal_host}"
