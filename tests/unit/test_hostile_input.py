"""Hostile input: schemathesis sends schema-valid and schema-breaking requests to every operation
of every service (real HTTP through uvicorn): never a 5xx, every answer documented (status,
content type, headers) and matching its schema. Stateful runs chain operations along the links
schemathesis infers (a created project's id into its milestones, a subscription's into its
rotation and deletion) and check what only a sequence shows (a deleted resource is gone, a
created one can be read). Each role calls with its own token: admin, an operator of one park,
a viewer.

`make test` runs the admin token statelessly on every operation and one short stateful run per
service as the operator; `make fuzz` (SANPI_FUZZ_EXAMPLES) runs every role both ways, with many
more examples."""

from __future__ import annotations

import copy
import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from sanpi.events import ProjectRegistered, Severity, build_record
from sanpi.kit import Role
from sanpi.milestone.app import create_app as milestone_app
from sanpi.milestone.settings import MilestoneSettings
from sanpi.notification.app import create_app as notification_app
from sanpi.registry.app import create_app as registry_app
from sanpi.registry.settings import RegistrySettings
from tests.conftest import Postgres
from tests.support.apps import token
from tests.support.notification import alert, as_consumed, harness_settings
from tests.support.threaded import ThreadedServer, serve_in_thread

# `make test` sends this many examples per operation and mode (about 40 s for the three services
# on SQLite); `make fuzz` sets SANPI_FUZZ_EXAMPLES to a few hundred.
FUZZING = bool(os.environ.get("SANPI_FUZZ_EXAMPLES"))
EXAMPLES = int(os.environ.get("SANPI_FUZZ_EXAMPLES", "8"))
# Stateful: scenarios per service and role, of up to STEPS calls each.
SCENARIOS = max(3, EXAMPLES // 10) if FUZZING else 3
STEPS = 20 if FUZZING else 6

# What every answer must satisfy. Left out: positive_data_acceptance (the domain refuses
# schema-valid input that breaks a cross-field rule or names an unknown park, with a 422 that
# names the field), and the checks that need a stateful run (use_after_free and the like).
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "ignored_auth",
]
# What only a sequence shows: a deleted resource answers 404 afterwards, a created one can be read.
STATEFUL_CHECKS = [*CHECKS, "use_after_free", "ensure_resource_availability"]


@dataclass(frozen=True)
class Who:
    role: Role
    subject: str
    parks: tuple[str, ...] = ()

    def token(self) -> str:
        return token(self.role, subject=self.subject, parks=self.parks)


ADMIN = Who(Role.ADMIN, "fuzzer")
OPERATOR = Who(Role.OPERATOR, "fuzzer-operator", ("梧桐",))  # the park the seeds write
VIEWER = Who(Role.VIEWER, "fuzzer-viewer")
ROLES = [ADMIN, OPERATOR, VIEWER]


def registry(data_dir: Path, database_url: str) -> FastAPI:
    settings = RegistrySettings(data_dir=data_dir, database_url=database_url, kafka_enabled=False)
    return registry_app(settings)


def milestone(data_dir: Path, database_url: str) -> FastAPI:
    settings = MilestoneSettings(
        data_dir=data_dir, database_url=database_url, kafka_enabled=False, evaluation_interval_s=0
    )
    return milestone_app(settings)


def milestone_reaching(registry_url: str) -> Callable[[Path, str], FastAPI]:
    """The milestone service whose bulletins read this registry's indicators (without it they
    answer 503, rightly, and the fuzzer calls that a server error)."""

    def make(data_dir: Path, database_url: str) -> FastAPI:
        settings = MilestoneSettings(
            data_dir=data_dir,
            database_url=database_url,
            kafka_enabled=False,
            evaluation_interval_s=0,
            registry_url=registry_url,
        )
        return milestone_app(settings)

    return make


def notification(data_dir: Path, database_url: str) -> FastAPI:
    settings = harness_settings(data_dir, database_url=database_url)
    return notification_app(settings)


APPS: dict[str, Callable[[Path, str], FastAPI]] = {
    "registry": registry,
    "milestone": milestone,
    "notification": notification,
}

OPERATIONS = [
    pytest.param(service, method.upper(), path, id=f"{service} {method.upper()} {path}")
    for service, factory in APPS.items()
    for path, methods in factory(Path(".run"), "sqlite+aiosqlite://").openapi()["paths"].items()
    for method in methods
]


@dataclass
class Target:
    """A running service and the ids of what was put in it, for path parameters."""

    server: ThreadedServer
    known: dict[str, Any]


def seed_registry(server: ThreadedServer) -> dict[str, Any]:
    with httpx.Client(base_url=server.url, headers=admin_headers()) as client:
        project = client.post(
            "/v1/projects",
            json={"name": "雄韬氢能产业园", "park": "梧桐", "total_investment": 150_000},
        )
        assert project.status_code == 201, project.text
        period = client.post("/v1/periods", json={"number": 7, "event_date": "2023-01-28"})
        assert period.status_code == 201, period.text
    return {"project_id": project.json()["id"], "number": 7}


def seed_milestone(server: ThreadedServer) -> dict[str, Any]:
    registered = ProjectRegistered(
        project_id="0b6f3d4e-4b6c-4f43-9a52-6c1f1d2f7a11",
        version=1,
        name="雄韬氢能产业园",
        park="梧桐",
        total_investment=150_000,
        stage="SIGNED",
        signed_date=dt.date(2023, 1, 28),
    )
    _event, kafka = build_record(registered, source="/sanpi/registry")
    consumer = server.runtime.consumer
    assert consumer is not None
    server.run(consumer.process(as_consumed(kafka)))
    return {"project_id": registered.project_id, "year": 2023}


def seed_notification(server: ThreadedServer) -> dict[str, Any]:
    with httpx.Client(base_url=server.url, headers=admin_headers()) as client:
        subscription = client.post("/v1/subscriptions", json={"channel": "inbox"})
        assert subscription.status_code == 201, subscription.text
        raised = alert(Severity.RED)
        _event, kafka = build_record(raised, source="/sanpi/milestone")
        consumer = server.runtime.consumer
        assert consumer is not None
        server.run(consumer.process(as_consumed(kafka)))

        # The delivery worker files the alert in the inbox moments after it was consumed.
        deadline = time.monotonic() + 30
        while not (items := client.get("/v1/inbox").json()["items"]):
            assert time.monotonic() < deadline, "the alert never reached the inbox"
            time.sleep(0.05)
        [item] = items
    return {
        "subscription_id": subscription.json()["id"],
        "alert_key": raised.alert_key,
        "item_id": item["id"],
    }


SEEDS: dict[str, Callable[[ThreadedServer], dict[str, Any]]] = {
    "registry": seed_registry,
    "milestone": seed_milestone,
    "notification": seed_notification,
}


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN.token()}"}


@pytest.fixture(scope="module")
async def databases(
    tmp_path_factory: pytest.TempPathFactory,
    postgres: Postgres | None,
    _postgres_admin: asyncpg.Connection | None,
) -> dict[str, str]:
    """Module-wide databases (one per service), so that each service starts once for all its
    operations: SQLite files, or new PostgreSQL databases on the session's cluster."""
    directory = tmp_path_factory.mktemp("fuzz")
    if postgres is None or _postgres_admin is None:
        return {service: f"sqlite+aiosqlite:///{directory}/{service}.db" for service in APPS}
    urls = {}
    for service in APPS:
        name = f"fuzz_{os.getpid()}_{service}"
        await _postgres_admin.execute(f'CREATE DATABASE "{name}"')
        urls[service] = postgres.url(name)
    return urls


@pytest.fixture(scope="module")
def targets(
    databases: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Target]]:
    """Starts each service on first use, seeded, and stops them all at the end of the module."""
    running: dict[str, Target] = {}
    stops: list[Any] = []

    def get(service: str) -> Target:
        if service not in running:
            factory = APPS[service]
            if service == "milestone":
                factory = milestone_reaching(get("registry").server.url)
            app = factory(tmp_path_factory.mktemp(service), databases[service])
            context = serve_in_thread(app)
            server = context.__enter__()
            stops.append(context)
            running[service] = Target(server, SEEDS[service](server))
        return running[service]

    try:
        yield get
    finally:
        for context in reversed(stops):
            context.__exit__(None, None, None)


def linked_to_known_project(document: dict[str, Any], project_id: str) -> dict[str, Any]:
    """The milestone service learns its projects from events, so no answer of its API creates one
    and schemathesis infers no link. The seed's project stands in: links from /healthz lead
    every project operation to it, and the scenarios go on from there."""
    document = copy.deepcopy(document)
    links = {
        operation["operationId"]: {
            "operationId": operation["operationId"],
            "parameters": {"path.project_id": project_id},
        }
        for path, methods in document["paths"].items()
        if "{project_id}" in path
        for operation in methods.values()
    }
    document["paths"]["/healthz"]["get"]["responses"]["200"]["links"] = links
    return document


def schema_of(target: Target, who: Who = ADMIN, checks: list[str] = CHECKS) -> Any:
    config = SchemathesisConfig.from_dict(
        {
            "base-url": target.server.url,
            # As the scheme the OpenAPI declares, so that ignored_auth can leave it out.
            "auth": {"openapi": {"HTTPBearer": {"bearer": who.token()}}},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in checks}},
            # The live stream never ends: read what arrives in half a second, then judge it.
            "operations": [
                {"include-path": "/v1/stream", "request-timeout": 0.5, "max-stream-events": 1},
                # A multipart file part is bytes on the wire whatever "type" the generator broke
                # (it sends `{}` as "an object"), so a negative example there is a valid upload.
                {
                    "include-path": "/v1/projects/import",
                    "checks": {"negative_data_rejection": {"enabled": False}},
                },
                # A batch answers a schema-breaking row in its 200 (that row refused, naming the
                # field), by design: one bad row of 500 must not refuse the other 499.
                {
                    "include-path": "/v1/progress/batch",
                    "checks": {"negative_data_rejection": {"enabled": False}},
                },
            ],
        }
    )
    document = target.server.app.openapi()
    if checks is STATEFUL_CHECKS and "/v1/projects/{project_id}/timeline" in document["paths"]:
        document = linked_to_known_project(document, target.known["project_id"])
    return schemathesis.openapi.from_dict(document, config=config)


@pytest.mark.parametrize("who", ROLES if FUZZING else [ADMIN], ids=lambda w: str(w.role))
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("service", "method", "path"), OPERATIONS)
def test_operation_survives_hostile_input(
    targets: Callable[[str], Target],
    service: str,
    method: str,
    path: str,
    mode: GenerationMode,
    who: Who,
) -> None:
    target = targets(service)
    operation = schema_of(target, who)[path][method]
    # Half of the examples aim at objects that exist, so that the rules behind the 404 run too.
    known = {
        name: value
        for name, value in target.known.items()
        if f"{{{name}}}" in path and mode is GenerationMode.POSITIVE
    }
    strategies = [operation.as_strategy(mode)]
    if known:
        strategies.append(operation.as_strategy(mode, path_parameters=known))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        # The same examples on every run of `make test` (no flaky suite); `make fuzz` explores.
        derandomize=not os.environ.get("SANPI_FUZZ_EXAMPLES"),
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def check(case: Any) -> None:
        case.call_and_validate()

    try:
        check()
    except Unsatisfiable:
        # Nothing in the request can be made invalid (no parameters, no body): nothing to send.
        assert mode is GenerationMode.NEGATIVE, "no positive example could be generated"


@pytest.mark.parametrize("who", ROLES if FUZZING else [OPERATOR], ids=lambda w: str(w.role))
@pytest.mark.parametrize("service", list(APPS))
def test_sequences_of_operations_survive(
    targets: Callable[[str], Target], service: str, who: Who
) -> None:
    """Scenarios that feed each answer into the next call, along the inferred links."""
    schema = schema_of(targets(service), who, STATEFUL_CHECKS)
    machine = schema.as_state_machine()
    assert machine.bundles, f"schemathesis inferred no link between {service}'s operations"
    machine.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            derandomize=not FUZZING,
            suppress_health_check=list(HealthCheck),
        )
    )
