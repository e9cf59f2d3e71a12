"""Bearer-token auth: HS256 JWTs carrying a subject, a role, (for operators) their parks, and the
services they are meant for.

Audiences: each service accepts only tokens whose `aud` names it: `sanpi-registry`,
`sanpi-milestone`, `sanpi-notification` (`audience_of(service)`). A token may name several; the
default of `issue_token` (and of `sanpi token issue`) is all three, as an admin's CLI token needs.
The portal mints short-lived tokens for the logged-in user with `issue_token(secret, subject=,
role=, parks=, ttl=dt.timedelta(minutes=15))`, optionally `audience=audience_of("milestone")`.

Lifetime: a token whose `exp - iat` is above `max_ttl` (setting `jwt_max_ttl_s`, 24 h by default)
is refused by every service, whoever signed it, and `issue_token` refuses to mint one."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated

import jwt
from fastapi import Depends
from fastapi.security import HTTPBearer
from starlette.requests import HTTPConnection

from sanpi.kit.errors import Forbidden, Unauthorized
from sanpi.kit.messages import Bilingual, Message, template
from sanpi.kit.ratelimit import RateLimiter

ISSUER = "sanpi"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ALGORITHM = "HS256"
# Clocks of a few machines disagree by seconds, not minutes.
LEEWAY = dt.timedelta(seconds=30)

TOKEN_MISSING = template(
    "auth.missing", zh="缺少访问令牌（Bearer token）", en="missing bearer token"
)
TOKEN_EXPIRED = template("auth.expired", zh="访问令牌已过期，请重新签发", en="token expired")
TOKEN_NOT_YET = template("auth.not_yet", zh="访问令牌尚未生效", en="token not yet valid")
TOKEN_AUDIENCE = template(
    "auth.audience",
    zh="访问令牌不是签发给本服务的（需要 aud {audience}）",
    en="token not meant for this service (it needs aud {audience})",
)
TOKEN_INVALID = template("auth.invalid", zh="访问令牌无效：{why}", en="invalid token: {why}")
TOKEN_TOO_LONG = template(
    "auth.too_long",
    zh="访问令牌有效期 {lives}，本服务最多接受 {most}：请签发有效期更短的令牌",
    en="token lives {lives}; this service accepts at most {most}: ask for a shorter one",
)
ROLE_REFUSED = template(
    "auth.role",
    zh="角色 {role} 无权执行此操作；需要 {needs}",
    en="role {role} may not do this; needs {needs}",
)
# Every service's refusal of a write outside the caller's parks. Its code is the one batch answers
# have published for a refused row (docs/api.md), whichever service refuses.
PARK_NOT_YOURS = template(
    "project.not_your_park",
    zh="无权修改园区「{park}」的数据（可修改的园区：{parks}）",
    en="role {role} with parks [{parks}] may not change park {park}",
)
# The longest lifetime a token may have (exp - iat) unless the services' settings say otherwise:
# a leaked token is good for a day at most.
MAX_TTL = dt.timedelta(hours=24)
AUDIENCE_PREFIX = "sanpi-"
SERVICE_AUDIENCES = ("sanpi-registry", "sanpi-milestone", "sanpi-notification")


def audience_of(service: str) -> str:
    """The `aud` value a service accepts: `sanpi-<service>` (e.g. sanpi-registry)."""
    return f"{AUDIENCE_PREFIX}{service}"


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
    # When the token stops being valid (its exp, seconds since the epoch): a long-lived stream
    # ends then. Not part of who the caller is.
    expires_at: float = field(default=math.inf, compare=False)

    def can_write_park(self, park: str) -> bool:
        return self.role is Role.ADMIN or (self.role is Role.OPERATOR and park in self.parks)

    def ensure_can_write_park(self, park: str) -> None:
        """Raises 403 unless the caller may change data of `park`."""
        if not self.can_write_park(park):
            raise Forbidden(self.park_refused(park))

    def park_refused(self, park: str) -> Message:
        """Why the caller may not change data of `park`: its parks, 、-joined (无 for none) in
        Chinese, comma-joined in English."""
        parks = sorted(self.parks)
        return PARK_NOT_YOURS(
            role=str(self.role),
            parks=Bilingual(zh="、".join(parks) or "无", en=", ".join(parks)),
            park=park,
        )


def _span(ttl: dt.timedelta) -> str:
    seconds = ttl.total_seconds()
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds:g} s"


def issue_token(
    secret: str,
    *,
    subject: str,
    role: Role,
    parks: Iterable[str] = (),
    ttl: dt.timedelta = dt.timedelta(hours=12),
    now: dt.datetime | None = None,
    audience: str | Iterable[str] | None = None,
    max_ttl: dt.timedelta = MAX_TTL,
) -> str:
    """Mints a token for `audience` (one `sanpi-<service>` name or several; default: the three
    services). Only admins and the portal hold the secret (`sanpi token issue`). Raises
    ValueError for a lifetime that is not positive or above `max_ttl`, or an empty audience."""
    if ttl <= dt.timedelta(0) or ttl > max_ttl:
        raise ValueError(
            f"a token lives more than 0 s and at most {_span(max_ttl)}, not {_span(ttl)}"
        )
    wanted = SERVICE_AUDIENCES if audience is None else audience
    audiences = [wanted] if isinstance(wanted, str) else sorted(set(wanted))
    if not audiences or not all(audiences):
        raise ValueError("a token needs at least one audience, e.g. sanpi-registry")
    issued = now or dt.datetime.now(dt.UTC)
    claims = {
        "iss": ISSUER,
        "aud": audiences,
        "sub": subject,
        "role": str(role),
        "parks": sorted(set(parks)),
        "iat": int(issued.timestamp()),
        "nbf": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


# A service calling another's API (never its database) reads as a viewer, with a token that is
# stale before anyone could reuse it from a log.
SERVICE_TOKEN_TTL = dt.timedelta(minutes=1)


def service_token(
    secret: str, *, subject: str, service: str, max_ttl: dt.timedelta = MAX_TTL
) -> str:
    """The token one sanpi service shows another (`service`, e.g. "registry"): subject
    `sanpi-<caller>/<job>`, role viewer, a minute long, that service as its only audience."""
    return issue_token(
        secret,
        subject=subject,
        role=Role.VIEWER,
        ttl=SERVICE_TOKEN_TTL,
        audience=audience_of(service),
        max_ttl=max_ttl,
    )


# Tokens verified already, by what they were verified against (secret, audience, longest
# lifetime) and the token, with the instant they stop being accepted: a client sends the same
# token with every request, and decoding it and checking its HMAC was ~5 % of a progress
# report's CPU. Only verified tokens enter, so the size is bounded by the tokens really issued;
# cleared when full rather than tracking recency.
_VERIFIED: dict[tuple[str, str, float, str], tuple[Principal, float]] = {}
_VERIFIED_MAX = 4096


def _now() -> float:
    return time.time()


def verify_token(
    secret: str, token: str, *, audience: str, max_ttl: dt.timedelta = MAX_TTL
) -> Principal:
    """Returns the principal of a valid token for `audience` (e.g. sanpi-registry); raises 401
    for a bad signature, alg, time, audience, or a lifetime above `max_ttl`. A token verified
    before is accepted until its exp (plus the leeway) without decoding it again; after that it
    is decoded, and refused, as any expired token."""
    key = (secret, audience, max_ttl.total_seconds(), token)
    cached = _VERIFIED.get(key)
    if cached is not None:
        principal, expires = cached
        if _now() < expires:
            return principal
        _VERIFIED.pop(key, None)
    principal, expires = _verify(secret, token, audience=audience, max_ttl=max_ttl)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[key] = (principal, expires)
    return principal


def _verify(
    secret: str, token: str, *, audience: str, max_ttl: dt.timedelta
) -> tuple[Principal, float]:
    """The token's principal and when it expires (PyJWT refuses it once exp <= now - leeway)."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],  # a fixed list: "none" and other algorithms are refused
            issuer=ISSUER,
            audience=audience,
            leeway=LEEWAY,
            options={"require": ["exp", "iat", "nbf", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized(TOKEN_EXPIRED()) from exc
    except jwt.ImmatureSignatureError as exc:
        raise Unauthorized(TOKEN_NOT_YET()) from exc
    except jwt.InvalidAudienceError as exc:
        raise Unauthorized(TOKEN_AUDIENCE(audience=audience)) from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(TOKEN_INVALID(why=str(exc))) from exc
    lifetime = float(claims["exp"]) - float(claims["iat"])
    if lifetime > max_ttl.total_seconds():
        raise Unauthorized(
            TOKEN_TOO_LONG(lives=_span(dt.timedelta(seconds=lifetime)), most=_span(max_ttl))
        )
    try:
        role = Role(str(claims.get("role")))
    except ValueError as exc:
        raise Unauthorized(TOKEN_INVALID(why="unknown role")) from exc
    parks = claims.get("parks") or []
    if not isinstance(parks, list) or not all(isinstance(p, str) for p in parks):
        raise Unauthorized(TOKEN_INVALID(why="parks must be a list of names"))
    principal = Principal(
        subject=str(claims["sub"]),
        role=role,
        parks=frozenset(parks),
        expires_at=float(claims["exp"]),
    )
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
            raise Unauthorized(TOKEN_MISSING())
        settings = request.app.state.runtime.settings
        principal = verify_token(
            settings.jwt_secret.get_secret_value(),
            credentials.credentials,
            audience=settings.audience,
            max_ttl=settings.jwt_max_ttl,
        )
        if self.roles and principal.role not in self.roles:
            raise Forbidden(
                ROLE_REFUSED(
                    role=str(principal.role),
                    needs=Bilingual(
                        zh=" 或 ".join(sorted(self.roles)), en=" or ".join(sorted(self.roles))
                    ),
                )
            )
        if request.scope.get("method") not in SAFE_METHODS:
            # Before the route runs: a refused write had no effect (kit/ratelimit.py).
            limiter: RateLimiter | None = getattr(request.app.state, "write_limiter", None)
            if limiter is not None:
                limiter.check(
                    principal.subject,
                    what=Bilingual(
                        zh=f"{principal.subject} 的写入", en=f"writes by {principal.subject}"
                    ),
                )
        return principal


def require_roles(*roles: Role) -> PrincipalBearer:
    """A dependency that lets only the given roles through (403 otherwise)."""
    return PrincipalBearer(*roles)


Authenticated = Annotated[Principal, Depends(PrincipalBearer())]
Writer = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
