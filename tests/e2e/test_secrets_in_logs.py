"""Secrets never reach a log file: service processes are driven through every flow that carries
one (bearer tokens, good and bad, even in a query string; webhook whsec_ secrets and their
rotation; a webhook URL with a password; an SMTP login; a PostgreSQL URL with its password), then
every log file is searched for the exact strings."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import jwt
import pytest

from sanpi.events import Severity, build_record
from sanpi.kit import Role, issue_token
from scripts import stack
from tests.conftest import Broker, Postgres, Stack, free_port
from tests.support.kafka import produce
from tests.support.notification import MILESTONE_SOURCE, SmtpServer, SmtpSink, alert
from tests.support.sink import WebhookSink
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


@dataclass
class Process:
    """A notification service of its own, configured with every kind of secret."""

    url: str
    run_dir: Path
    jwt_secret: str
    smtp_password: str
    database_url: str


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpSink]:
    server = SmtpServer(free_port())  # without AUTH: every login attempt fails, and is logged
    yield server.start()
    server.stop()


@pytest.fixture(scope="module")
async def own_database(
    run_dir: Path, postgres: Postgres | None, _postgres_admin: asyncpg.Connection | None
) -> str:
    """On PostgreSQL a database of its own, reached with a password; else a SQLite file."""
    if postgres is None or _postgres_admin is None:
        return f"sqlite+aiosqlite:///{run_dir}/secrets/notification.db"
    name = f"secrets_{uuid.uuid4().hex[:8]}"
    await _postgres_admin.execute(f'CREATE DATABASE "{name}"')
    return postgres.url(name)


@pytest.fixture(scope="module")
def process(
    kafka_broker: Broker, run_dir: Path, smtp: SmtpSink, own_database: str
) -> Iterator[Process]:
    directory = run_dir / "secrets"
    secret = stack.jwt_secret(directory)
    password = f"smtp-{secrets.token_urlsafe(16)}"
    env = stack.service_env(secret, kafka_broker.bootstrap, directory)
    env.update(
        {
            "SANPI_ENV": "test",
            "SANPI_LOG_LEVEL": "DEBUG",  # the most a log file can ever say
            "SANPI_NOTIFICATION_DATABASE_URL": own_database,
            "SANPI_NOTIFICATION_CONSUMER_GROUP": f"sanpi-notification-secrets-{uuid.uuid4().hex[:6]}",
            "SANPI_NOTIFICATION_DELIVERY_BACKOFF_BASE_S": "0.2",
            "SANPI_NOTIFICATION_DELIVERY_MAX_ATTEMPTS": "3",
            "SANPI_NOTIFICATION_SMTP_PORT": str(smtp.port),
            "SANPI_NOTIFICATION_SMTP_USERNAME": "sanpi-mailer",
            "SANPI_NOTIFICATION_SMTP_PASSWORD": password,
        }
    )
    port = free_port()
    pid = stack.start_service("notification", port=port, env=env, run_dir=directory)
    url = f"http://127.0.0.1:{port}"
    try:
        stack.wait_ready(url, timeout=60, pid=pid, marker="sanpi.notification")
        yield Process(url, directory, secret, password, own_database)
    finally:
        stack.stop_pidfile(directory / "pids" / "notification.pid", "sanpi.notification")


@pytest.fixture
async def webhook_with_password() -> AsyncIterator[tuple[WebhookSink, str, str]]:
    sink = WebhookSink().start()
    password = f"hook-{secrets.token_urlsafe(12)}"
    url = sink.url.replace("http://", f"http://receiver:{password}@")
    try:
        yield sink, url, password
    finally:
        sink.stop()


def forged_tokens(secret: str) -> dict[str, str]:
    """Tokens a service must refuse: each is a secret too, and must not be logged either."""
    now = dt.datetime.now(dt.UTC)
    claims = {"iss": "sanpi", "sub": "mallory", "role": "admin", "parks": []}
    return {
        "another secret": issue_token("x" * 48, subject="mallory", role=Role.ADMIN),
        "expired": issue_token(
            secret, subject="mallory", role=Role.ADMIN, now=now - dt.timedelta(days=2)
        ),
        "alg none": jwt.encode(
            {**claims, "iat": int(now.timestamp()), "exp": int(now.timestamp()) + 600},
            key="",
            algorithm="none",
        ),
    }


async def test_no_secret_appears_in_any_log_file(
    process: Process,
    services: Stack,
    kafka_broker: Broker,
    smtp: SmtpSink,
    webhook_with_password: tuple[WebhookSink, str, str],
) -> None:
    sink, hook_url, hook_password = webhook_with_password
    token = issue_token(process.jwt_secret, subject="official", role=Role.ADMIN)
    forged = forged_tokens(process.jwt_secret)
    bearer = {"Authorization": f"Bearer {token}"}
    whsec: list[str] = []
    async with httpx.AsyncClient(base_url=process.url, timeout=10) as http:
        for name, bad in forged.items():
            refused = await http.get(
                "/v1/subscriptions",
                params={"access_token": bad},
                headers={"Authorization": f"Bearer {bad}"},
            )
            assert refused.status_code == 401, name
        # Someone pastes a token into a URL: the access log writes URLs.
        pasted = await http.get("/v1/subscriptions", params={"access_token": token}, headers=bearer)
        assert pasted.status_code == 200
        webhook = await http.post(
            "/v1/subscriptions", json={"channel": "webhook", "url": hook_url}, headers=bearer
        )
        assert webhook.status_code == 201, webhook.text
        whsec.append(webhook.json()["secret"])
        rotated = await http.post(
            f"/v1/subscriptions/{webhook.json()['id']}/rotate-secret", headers=bearer
        )
        whsec.append(rotated.json()["secret"])
        email = await http.post(
            "/v1/subscriptions",
            json={"channel": "email", "email": "zhang@example.cn"},
            headers=bearer,
        )
        assert email.status_code == 201, email.text

        _event, record = build_record(alert(Severity.RED), source=MILESTONE_SOURCE)
        await produce(
            kafka_broker.bootstrap,
            record.topic,
            [record.value],
            key=record.key,
            headers=record.headers,
        )
        # The webhook went out signed with both secrets; the e-mail tried its SMTP login.
        await eventually(sink.snapshot, what="the signed webhook", timeout=60)

        async def login_failed() -> bool:
            listed = await http.get(
                "/v1/deliveries", params={"subscription": email.json()["id"]}, headers=bearer
            )
            return any(d["attempts"] >= 1 for d in listed.json()["items"])

        await eventually(login_failed, what="an SMTP attempt", timeout=60)

    # The registry of the shared stack sees tokens too, good and bad.
    good = services.token()
    async with httpx.AsyncClient(base_url=services.urls["registry"], timeout=10) as registry:
        assert (
            await registry.get("/v1/parks", headers={"Authorization": f"Bearer {good}"})
        ).status_code == 200
        forged_for_stack = forged_tokens(services.secret)
        for bad in forged_for_stack.values():
            response = await registry.get("/v1/parks", headers={"Authorization": f"Bearer {bad}"})
            assert response.status_code == 401

    stack.stop_pidfile(process.run_dir / "pids" / "notification.pid", "sanpi.notification")
    logs = {
        path: path.read_text(errors="replace")
        for directory in (process.run_dir, services.run_dir)
        for path in (directory / "logs").glob("*.log")
    }
    own_log = logs[process.run_dir / "logs" / "notification.log"]
    assert "(webhook) attempt 1: 204" in own_log, "the webhook flow did not run"
    assert "(email) attempt 1: SMTP" in own_log, "the SMTP login did not run"
    # The log is JSON lines (the default format), each saying which service wrote it.
    lines = [json.loads(line) for line in own_log.splitlines() if line.startswith("{")]
    assert {line["service"] for line in lines} == {"sanpi-notification"}
    assert any("(webhook) attempt 1: 204" in line["message"] for line in lines)
    named = {
        "JWT secret (own)": process.jwt_secret,
        "JWT secret (stack)": services.secret,
        "bearer token": token,
        "stack token": good,
        "SMTP password": process.smtp_password,
        "webhook URL password": hook_password,
        **{f"whsec {i}": value for i, value in enumerate(whsec)},
        **{f"forged token ({name})": value for name, value in forged.items()},
        **{f"forged stack token ({n})": v for n, v in forged_for_stack.items()},
    }
    if process.database_url.startswith("postgresql"):
        named["PostgreSQL password"] = process.database_url.split(":")[2].split("@")[0]
    assert all(len(value) >= 12 for value in named.values())
    leaks = [
        f"{what} in {path.name}"
        for what, value in named.items()
        for path, text in logs.items()
        if value in text
    ]
    assert leaks == []
