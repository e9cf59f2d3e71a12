"""Bearer-token auth: HS256 JWTs carrying a subject, a role and (for operators) their parks."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import jwt
from fastapi import Depends
from fastapi.security import HTTPBearer
from starlette.requests import HTTPConnection

from sanpi.kit.errors import Forbidden, Unauthorized

ISSUER = "sanpi"
ALGORITHM = "HS256"
# Clocks of a few machines disagree by seconds, not minutes.
LEEWAY = dt.timedelta(seconds=30)


class Role(StrEnum):
    ADMIN = "admin"  # everything
    OPERATOR = "operator"  # writes for the parks named in the token
    VIEWER = "viewer"  # reads


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject, role and parks."""

    subject: str
    role: Role
    parks: frozenset[str] = frozenset()

    def can_write_park(self, park: str) -> bool:
        return self.role is Role.ADMIN or (self.role is Role.OPERATOR and park in self.parks)

    def ensure_can_write_park(self, park: str) -> None:
        """Raises 403 unless the caller may change data of `park`."""
        if not self.can_write_park(park):
            raise Forbidden(
                f"role {self.role} with parks {sorted(self.parks)} may not change park {park}"
            )


def issue_token(
    secret: str,
    *,
    subject: str,
    role: Role,
    parks: Iterable[str] = (),
    ttl: dt.timedelta = dt.timedelta(hours=12),
    now: dt.datetime | None = None,
) -> str:
    """Mints a token. Only admins should hold the secret (`sanpi token issue`)."""
    issued = now or dt.datetime.now(dt.UTC)
    claims = {
        "iss": ISSUER,
        "sub": subject,
        "role": str(role),
        "parks": sorted(set(parks)),
        "iat": int(issued.timestamp()),
        "nbf": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


# Tokens verified already, by (secret, token), with the instant they stop being accepted: a
# client sends the same token with every request, and decoding it and checking its HMAC was
# ~5 % of a progress report's CPU. Only verified tokens enter, so the size is bounded by the
# tokens really issued; cleared when full rather than tracking recency.
_VERIFIED: dict[tuple[str, str], tuple[Principal, float]] = {}
_VERIFIED_MAX = 4096


def _now() -> float:
    return time.time()


def verify_token(secret: str, token: str) -> Principal:
    """Returns the principal of a valid token; raises 401 for a bad signature, alg, or time.
    A token verified before is accepted until its exp (plus the leeway) without decoding it
    again; after that it is decoded, and refused, as any expired token."""
    cached = _VERIFIED.get((secret, token))
    if cached is not None:
        principal, expires = cached
        if _now() < expires:
            return principal
        _VERIFIED.pop((secret, token), None)
    principal, expires = _verify(secret, token)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[(secret, token)] = (principal, expires)
    return principal


def _verify(secret: str, token: str) -> tuple[Principal, float]:
    """The token's principal and when it expires (PyJWT refuses it once exp <= now - leeway)."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],  # a fixed list: "none" and other algorithms are refused
            issuer=ISSUER,
            leeway=LEEWAY,
            options={"require": ["exp", "iat", "nbf", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("token expired") from exc
    except jwt.ImmatureSignatureError as exc:
        raise Unauthorized("token not yet valid") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(f"invalid token: {exc}") from exc
    try:
        role = Role(str(claims.get("role")))
    except ValueError as exc:
        raise Unauthorized("invalid token: unknown role") from exc
    parks = claims.get("parks") or []
    if not isinstance(parks, list) or not all(isinstance(p, str) for p in parks):
        raise Unauthorized("invalid token: parks must be a list of names")
    principal = Principal(subject=str(claims["sub"]), role=role, parks=frozenset(parks))
    return principal, float(claims["exp"]) + LEEWAY.total_seconds()


class PrincipalBearer(HTTPBearer):
    """The dependency that gives the caller of a request, from `Authorization: Bearer <token>`,
    and lets only `roles` through (403 otherwise; any role without). One dependency, not a
    role check over a principal over HTTPBearer: FastAPI solves each one for every request,
    and the two more cost a progress report ~90 of its ~3,100 Python calls. The OpenAPI
    security scheme stays HTTPBearer's."""

    def __init__(self, *roles: Role) -> None:
        super().__init__(
            auto_error=False,
            description="JWT issued by `sanpi token issue`",
            scheme_name="HTTPBearer",
        )
        self.roles = frozenset(roles)

    async def __call__(self, request: HTTPConnection) -> Principal:  # type: ignore[override]
        credentials = await super().__call__(request)
        if credentials is None:
            raise Unauthorized("missing bearer token")
        secret: str = request.app.state.runtime.settings.jwt_secret.get_secret_value()
        principal = verify_token(secret, credentials.credentials)
        if self.roles and principal.role not in self.roles:
            raise Forbidden(
                f"role {principal.role} may not do this; needs {' or '.join(sorted(self.roles))}"
            )
        return principal


def require_roles(*roles: Role) -> PrincipalBearer:
    """A dependency that lets only the given roles through (403 otherwise)."""
    return PrincipalBearer(*roles)


Authenticated = Annotated[Principal, Depends(PrincipalBearer())]
Writer = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
