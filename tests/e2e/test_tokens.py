"""Tokens against the running services: `sanpi token issue` through the real CLI mints tokens the
services accept (and refuses an unknown role or a missing secret clearly), and every kind of bad
token is a 401 problem+json from each service."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import httpx
import jwt
import pytest

from sanpi.kit import Role, issue_token
from tests.conftest import Stack

pytestmark = pytest.mark.e2e

SANPI = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "sanpi"


def token_issue(*args: str, secret: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SANPI_JWT_SECRET"}
    if secret is not None:
        env["SANPI_JWT_SECRET"] = secret
    env["COLUMNS"] = "200"
    return subprocess.run(
        [str(SANPI), "token", "issue", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def project(park: str) -> dict[str, object]:
    return {"name": f"{park}令牌测试项目", "park": park, "total_investment": 1000}


async def test_a_minted_token_is_accepted_with_its_role_and_parks(services: Stack) -> None:
    admin = token_issue("--role", "admin", "--subject", "zhang.wei", secret=services.secret)
    assert admin.returncode == 0, admin.stderr
    operator = token_issue(
        "--role", "operator", "--subject", "li.na", "--park", "梧桐", secret=services.secret
    )
    assert operator.returncode == 0, operator.stderr
    viewer = token_issue("--role", "viewer", secret=services.secret)
    assert viewer.returncode == 0, viewer.stderr
    bearer = {
        name: {"Authorization": f"Bearer {result.stdout.strip()}"}
        for name, result in (("admin", admin), ("operator", operator), ("viewer", viewer))
    }
    async with httpx.AsyncClient(base_url=services.urls["registry"], timeout=10) as registry:
        created = await registry.post("/v1/projects", json=project("石佛"), headers=bearer["admin"])
        assert created.status_code == 201, created.text
        assert created.json()["created_by"] == "zhang.wei"
        own = await registry.post("/v1/projects", json=project("梧桐"), headers=bearer["operator"])
        assert own.status_code == 201, own.text
        other = await registry.post(
            "/v1/projects", json=project("石佛"), headers=bearer["operator"]
        )
        assert other.status_code == 403
        assert (await registry.get("/v1/parks", headers=bearer["viewer"])).status_code == 200
        read_only = await registry.post(
            "/v1/projects", json=project("梧桐"), headers=bearer["viewer"]
        )
        assert read_only.status_code == 403


# Only the CLI, no database: the PostgreSQL pass of make test would repeat it to the letter.
@pytest.mark.db_independent
def test_the_secret_can_come_from_a_file(services: Stack, tmp_path: Path) -> None:
    secret_file = tmp_path / "jwt.secret"
    secret_file.write_text(services.secret + "\n")
    minted = token_issue("--role", "viewer", "--secret-file", str(secret_file), secret=None)
    assert minted.returncode == 0, minted.stderr
    claims = jwt.decode(
        minted.stdout.strip(), services.secret, algorithms=["HS256"], audience="sanpi-registry"
    )
    assert claims["role"] == "viewer"
    assert claims["aud"] == ["sanpi-milestone", "sanpi-notification", "sanpi-registry"]


# Only the CLI, no database: the PostgreSQL pass of make test would repeat it to the letter.
@pytest.mark.db_independent
def test_an_unknown_role_is_refused_clearly(services: Stack) -> None:
    refused = token_issue("--role", "root", secret=services.secret)
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert "unknown role 'root'" in refused.stderr
    assert "admin, operator or viewer" in refused.stderr


# Only the CLI, no database: the PostgreSQL pass of make test would repeat it to the letter.
@pytest.mark.db_independent
def test_no_secret_is_refused_clearly() -> None:
    refused = token_issue("--role", "admin", secret=None)
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert "no secret" in refused.stderr
    assert "SANPI_JWT_SECRET" in refused.stderr


# Only the CLI, no database: the PostgreSQL pass of make test would repeat it to the letter.
@pytest.mark.db_independent
def test_a_lifetime_above_the_maximum_or_an_unknown_audience_is_refused_clearly() -> None:
    secret = "cli-test-secret-of-sufficient-length-0123456789"
    too_long = token_issue("--role", "admin", "--ttl-hours", "48", secret=secret)
    assert (too_long.returncode, too_long.stdout) == (2, "")
    assert "at most 24 h, not 48 h" in too_long.stderr
    unknown = token_issue("--role", "admin", "--audience", "portal", secret=secret)
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert "unknown audience sanpi-portal" in unknown.stderr


async def test_a_token_for_one_service_is_refused_by_the_others(services: Stack) -> None:
    minted = token_issue("--role", "viewer", "--audience", "registry", secret=services.secret)
    assert minted.returncode == 0, minted.stderr
    bearer = {"Authorization": f"Bearer {minted.stdout.strip()}"}
    async with httpx.AsyncClient(timeout=10) as client:
        registry = await client.get(f"{services.urls['registry']}/v1/parks", headers=bearer)
        assert registry.status_code == 200, registry.text
        milestone = await client.get(f"{services.urls['milestone']}/v1/alerts", headers=bearer)
        assert milestone.status_code == 401
        assert "不是签发给本服务的" in milestone.json()["detail"]
        inbox = await client.get(f"{services.urls['notification']}/v1/inbox", headers=bearer)
        assert inbox.status_code == 401


def bad_tokens(secret: str) -> dict[str, tuple[str, str]]:
    """name → (Authorization header, what the problem's detail says)."""
    now = dt.datetime.now(dt.UTC)
    claims = {
        "iss": "sanpi",
        "aud": ["sanpi-registry", "sanpi-milestone", "sanpi-notification"],
        "sub": "mallory",
        "role": "admin",
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int(now.timestamp()) + 600,
    }
    another = issue_token(
        "another-secret-of-sufficient-length-0123456789", subject="m", role=Role.ADMIN
    )
    expired = issue_token(secret, subject="m", role=Role.ADMIN, now=now - dt.timedelta(days=1))
    # Beyond the 30 s leeway for clock skew.
    early = issue_token(secret, subject="m", role=Role.ADMIN, now=now + dt.timedelta(minutes=5))
    unsigned = jwt.encode(claims, key="", algorithm="none")
    no_audience = jwt.encode({k: v for k, v in claims.items() if k != "aud"}, secret, "HS256")
    # Signed with the right secret by hand: no service takes a token that lives a month.
    month = jwt.encode({**claims, "exp": int(now.timestamp()) + 30 * 86400}, secret, "HS256")
    elsewhere = issue_token(secret, subject="m", role=Role.ADMIN, audience="sanpi-portal")
    return {
        "no audience": (f"Bearer {no_audience}", "invalid token"),
        "for another audience": (f"Bearer {elsewhere}", "not meant for this service"),
        "living a month": (f"Bearer {month}", "accepts at most 24 h"),
        "signed with another secret": (f"Bearer {another}", "invalid token"),
        "alg none": (f"Bearer {unsigned}", "invalid token"),
        "expired": (f"Bearer {expired}", "token expired"),
        "not yet valid (nbf)": (f"Bearer {early}", "not yet valid"),
        "not a JWT": ("Bearer not-a-token", "invalid token"),
        "no bearer scheme": (
            f"Basic {issue_token(secret, subject='m', role=Role.ADMIN)}",
            "missing",
        ),
    }


@pytest.mark.parametrize("service", ["registry", "milestone", "notification"])
async def test_bad_tokens_are_401_problems(services: Stack, service: str) -> None:
    path = {"registry": "/v1/parks", "milestone": "/v1/alerts", "notification": "/v1/inbox"}[
        service
    ]
    async with httpx.AsyncClient(base_url=services.urls[service], timeout=10) as client:
        accepted = await client.get(path, headers=services.headers("viewer"))
        assert accepted.status_code == 200, accepted.text
        for name, (header, detail) in bad_tokens(services.secret).items():
            refused = await client.get(
                path, headers={"Authorization": header, "Accept-Language": "en"}
            )
            assert refused.status_code == 401, name
            assert refused.headers["content-type"] == "application/problem+json", name
            assert refused.headers["www-authenticate"] == 'Bearer realm="sanpi"', name
            assert detail in refused.json()["detail"], (name, refused.json())
