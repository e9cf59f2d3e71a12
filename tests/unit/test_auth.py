"""Bearer tokens: what is accepted, and every way a token is refused."""

from __future__ import annotations

import base64
import datetime as dt
import json
from unittest.mock import ANY

import jwt
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from sanpi.kit import (
    Authenticated,
    Forbidden,
    Principal,
    Role,
    Unauthorized,
    Writer,
    issue_token,
    verify_token,
)

# Pure code, no database: the PostgreSQL pass of make test would repeat these to the letter.
pytestmark = pytest.mark.db_independent

SECRET = "unit-test-secret-of-sufficient-length-0123456789"


def test_issued_token_verifies_to_its_principal() -> None:
    token = issue_token(SECRET, subject="li.wei", role=Role.OPERATOR, parks=["梧桐", "石佛"])
    assert verify_token(SECRET, token) == Principal(
        "li.wei", Role.OPERATOR, frozenset({"梧桐", "石佛"})
    )


def test_bad_signature_is_refused() -> None:
    token = issue_token(
        "another-secret-of-sufficient-length-0123456789", subject="x", role=Role.ADMIN
    )
    with pytest.raises(Unauthorized, match="invalid token"):
        verify_token(SECRET, token)


def test_alg_none_is_refused() -> None:
    def b64(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims = {"iss": "sanpi", "sub": "x", "role": "admin", "iat": now, "nbf": now, "exp": now + 600}
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    with pytest.raises(Unauthorized):
        verify_token(SECRET, unsigned)


def test_expired_token_is_refused() -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    token = issue_token(SECRET, subject="x", role=Role.ADMIN, ttl=dt.timedelta(minutes=5), now=past)
    with pytest.raises(Unauthorized, match="expired"):
        verify_token(SECRET, token)


def test_not_yet_valid_token_is_refused() -> None:
    future = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    token = issue_token(SECRET, subject="x", role=Role.ADMIN, now=future)
    with pytest.raises(Unauthorized, match="not yet valid"):
        verify_token(SECRET, token)


def test_token_without_required_claims_is_refused() -> None:
    token = jwt.encode({"iss": "sanpi", "sub": "x", "role": "admin"}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized):
        verify_token(SECRET, token)


def test_unknown_role_is_refused() -> None:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims = {"iss": "sanpi", "sub": "x", "role": "root", "iat": now, "nbf": now, "exp": now + 600}
    with pytest.raises(Unauthorized, match="role"):
        verify_token(SECRET, jwt.encode(claims, SECRET, algorithm="HS256"))


def test_operator_writes_only_its_parks() -> None:
    operator = Principal("op", Role.OPERATOR, frozenset({"梧桐"}))
    operator.ensure_can_write_park("梧桐")
    with pytest.raises(Forbidden):
        operator.ensure_can_write_park("石佛")
    with pytest.raises(Forbidden):
        Principal("v", Role.VIEWER).ensure_can_write_park("梧桐")
    Principal("a", Role.ADMIN).ensure_can_write_park("石佛")


def test_a_verified_token_is_not_decoded_again(monkeypatch: pytest.MonkeyPatch) -> None:
    token = issue_token(SECRET, subject="cached", role=Role.ADMIN)
    decoded: list[str] = []
    real_decode = jwt.decode

    def counting(*args: object, **kwargs: object) -> object:
        decoded.append(str(args[0]))
        return real_decode(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", counting)
    first = verify_token(SECRET, token)
    assert verify_token(SECRET, token) == first == Principal("cached", Role.ADMIN)
    assert decoded == [token]
    # Another secret is another verification (and fails: the signature does not match).
    with pytest.raises(Unauthorized, match="invalid token"):
        verify_token("another-secret-of-sufficient-length-0123456789", token)


def test_a_cached_token_expires_with_its_exp(monkeypatch: pytest.MonkeyPatch) -> None:
    now = dt.datetime.now(dt.UTC)
    token = issue_token(
        SECRET, subject="brief", role=Role.ADMIN, ttl=dt.timedelta(minutes=5), now=now
    )
    assert verify_token(SECRET, token) == Principal("brief", Role.ADMIN)
    later = now + dt.timedelta(minutes=5, seconds=31)  # past exp and the 30 s leeway

    class Later(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> Later:
            return cls.fromtimestamp(later.timestamp(), tz)

    monkeypatch.setattr(jwt.api_jwt, "datetime", Later)
    monkeypatch.setattr("sanpi.kit.auth._now", later.timestamp)
    with pytest.raises(Unauthorized, match="token expired"):
        verify_token(SECRET, token)


def test_a_principal_is_one_dependency_under_the_http_bearer_scheme() -> None:
    app = FastAPI()

    @app.get("/writes")
    async def writes(principal: Writer) -> str:
        return principal.subject

    @app.get("/reads")
    async def reads(principal: Authenticated) -> str:
        return principal.subject

    for route in app.routes:
        if isinstance(route, APIRoute):
            (principal,) = route.dependant.dependencies
            # FastAPI solves every dependency for every request: no chain behind this one.
            assert principal.dependencies == []
    schemes = app.openapi()["components"]["securitySchemes"]
    assert schemes == {"HTTPBearer": {"type": "http", "scheme": "bearer", "description": ANY}}
