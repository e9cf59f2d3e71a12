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
    SERVICE_AUDIENCES,
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
REGISTRY, MILESTONE, NOTIFICATION = SERVICE_AUDIENCES


def claims(lifetime_s: int = 600, **changes: object) -> dict[str, object]:
    """The claims of a valid registry token made by hand, with `changes` (None drops a claim)."""
    now = int(dt.datetime.now(dt.UTC).timestamp())
    valid: dict[str, object] = {
        "iss": "sanpi",
        "aud": [REGISTRY],
        "sub": "x",
        "role": "admin",
        "iat": now,
        "nbf": now,
        "exp": now + lifetime_s,
    }
    return {k: v for k, v in {**valid, **changes}.items() if v is not None}


def signed(values: dict[str, object]) -> str:
    return jwt.encode(values, SECRET, algorithm="HS256")


def test_issued_token_verifies_to_its_principal() -> None:
    token = issue_token(SECRET, subject="li.wei", role=Role.OPERATOR, parks=["梧桐", "石佛"])
    assert verify_token(SECRET, token, audience=REGISTRY) == Principal(
        "li.wei", Role.OPERATOR, frozenset({"梧桐", "石佛"})
    )


def test_bad_signature_is_refused() -> None:
    token = issue_token(
        "another-secret-of-sufficient-length-0123456789", subject="x", role=Role.ADMIN
    )
    with pytest.raises(Unauthorized, match="invalid token"):
        verify_token(SECRET, token, audience=REGISTRY)


def test_alg_none_is_refused() -> None:
    def b64(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}."
    with pytest.raises(Unauthorized):
        verify_token(SECRET, unsigned, audience=REGISTRY)


def test_expired_token_is_refused() -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    token = issue_token(SECRET, subject="x", role=Role.ADMIN, ttl=dt.timedelta(minutes=5), now=past)
    with pytest.raises(Unauthorized, match="expired"):
        verify_token(SECRET, token, audience=REGISTRY)


def test_not_yet_valid_token_is_refused() -> None:
    future = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    token = issue_token(SECRET, subject="x", role=Role.ADMIN, now=future)
    with pytest.raises(Unauthorized, match="not yet valid"):
        verify_token(SECRET, token, audience=REGISTRY)


def test_token_without_required_claims_is_refused() -> None:
    token = jwt.encode({"iss": "sanpi", "sub": "x", "role": "admin"}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized):
        verify_token(SECRET, token, audience=REGISTRY)


def test_unknown_role_is_refused() -> None:
    with pytest.raises(Unauthorized, match="role"):
        verify_token(SECRET, signed(claims(role="root", aud=REGISTRY)), audience=REGISTRY)


def test_operator_writes_only_its_parks() -> None:
    operator = Principal("op", Role.OPERATOR, frozenset({"梧桐"}))
    operator.ensure_can_write_park("梧桐")
    with pytest.raises(Forbidden):
        operator.ensure_can_write_park("石佛")
    with pytest.raises(Forbidden):
        Principal("v", Role.VIEWER).ensure_can_write_park("梧桐")
    Principal("a", Role.ADMIN).ensure_can_write_park("石佛")


def test_a_write_outside_ones_parks_is_refused_in_the_readers_language() -> None:
    # One message for every service (the milestone service had its own, with another wording).
    operator = Principal("op", Role.OPERATOR, frozenset({"梧桐", "枫杨"}))
    with pytest.raises(Forbidden) as refused:
        operator.ensure_can_write_park("石佛")
    assert refused.value.detail_in("zh") == "无权修改园区「石佛」的数据（可修改的园区：枫杨、梧桐）"
    assert refused.value.detail_in("en") == (
        "role operator with parks [枫杨, 梧桐] may not change park 石佛"
    )
    viewer = Principal("v", Role.VIEWER).park_refused("梧桐")
    assert viewer.code == "project.not_your_park"
    assert viewer.render("zh") == "无权修改园区「梧桐」的数据（可修改的园区：无）"


def test_a_verified_token_is_not_decoded_again(monkeypatch: pytest.MonkeyPatch) -> None:
    token = issue_token(SECRET, subject="cached", role=Role.ADMIN)
    decoded: list[str] = []
    real_decode = jwt.decode

    def counting(*args: object, **kwargs: object) -> object:
        decoded.append(str(args[0]))
        return real_decode(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", counting)
    first = verify_token(SECRET, token, audience=REGISTRY)
    assert (
        verify_token(SECRET, token, audience=REGISTRY) == first == Principal("cached", Role.ADMIN)
    )
    assert decoded == [token]
    # Another secret is another verification (and fails: the signature does not match).
    with pytest.raises(Unauthorized, match="invalid token"):
        verify_token("another-secret-of-sufficient-length-0123456789", token, audience=REGISTRY)


def test_a_cached_token_expires_with_its_exp(monkeypatch: pytest.MonkeyPatch) -> None:
    now = dt.datetime.now(dt.UTC)
    token = issue_token(
        SECRET, subject="brief", role=Role.ADMIN, ttl=dt.timedelta(minutes=5), now=now
    )
    assert verify_token(SECRET, token, audience=REGISTRY) == Principal("brief", Role.ADMIN)
    later = now + dt.timedelta(minutes=5, seconds=31)  # past exp and the 30 s leeway

    class Later(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> Later:
            return cls.fromtimestamp(later.timestamp(), tz)

    monkeypatch.setattr(jwt.api_jwt, "datetime", Later)
    monkeypatch.setattr("sanpi.kit.auth._now", later.timestamp)
    with pytest.raises(Unauthorized, match="token expired"):
        verify_token(SECRET, token, audience=REGISTRY)


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


def test_a_token_for_one_service_is_refused_by_another() -> None:
    registry_only = issue_token(SECRET, subject="x", role=Role.ADMIN, audience=REGISTRY)
    assert verify_token(SECRET, registry_only, audience=REGISTRY).subject == "x"
    # Verified (and cached) for the registry: the cache must not let it into the milestone.
    with pytest.raises(Unauthorized, match=r"not meant for this service.*sanpi-milestone"):
        verify_token(SECRET, registry_only, audience=MILESTONE)
    two = issue_token(SECRET, subject="x", role=Role.ADMIN, audience=[REGISTRY, NOTIFICATION])
    assert verify_token(SECRET, two, audience=NOTIFICATION).subject == "x"
    with pytest.raises(Unauthorized, match="not meant"):
        verify_token(SECRET, two, audience=MILESTONE)
    every = issue_token(SECRET, subject="admin", role=Role.ADMIN)
    assert all(verify_token(SECRET, every, audience=a) for a in SERVICE_AUDIENCES)


def test_a_token_without_an_audience_is_refused() -> None:
    with pytest.raises(Unauthorized, match="aud"):
        verify_token(SECRET, signed(claims(aud=None)), audience=REGISTRY)


def test_a_token_living_longer_than_the_maximum_is_neither_minted_nor_accepted() -> None:
    with pytest.raises(ValueError, match="at most 24 h, not 48 h"):
        issue_token(SECRET, subject="x", role=Role.ADMIN, ttl=dt.timedelta(hours=48))
    with pytest.raises(ValueError, match="more than 0 s"):
        issue_token(SECRET, subject="x", role=Role.ADMIN, ttl=dt.timedelta(0))
    # Signed with the secret by hand, as anyone holding it could: the services still refuse it.
    month = signed(claims(lifetime_s=30 * 86400))
    with pytest.raises(Unauthorized, match="lives 720 h; this service accepts at most 24 h"):
        verify_token(SECRET, month, audience=REGISTRY)
    # A service configured for shorter tokens refuses a 12 h one, even one verified before.
    twelve = issue_token(SECRET, subject="x", role=Role.ADMIN)
    verify_token(SECRET, twelve, audience=REGISTRY)
    with pytest.raises(Unauthorized, match="at most 1 h"):
        verify_token(SECRET, twelve, audience=REGISTRY, max_ttl=dt.timedelta(hours=1))


def test_the_principal_knows_when_its_token_expires() -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    token = issue_token(SECRET, subject="x", role=Role.ADMIN, ttl=dt.timedelta(minutes=15), now=now)
    principal = verify_token(SECRET, token, audience=REGISTRY)
    assert principal.expires_at == (now + dt.timedelta(minutes=15)).timestamp()
