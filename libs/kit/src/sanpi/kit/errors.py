"""RFC 9457 problem+json errors: domain exceptions carry their status; handlers never leak a trace."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from sanpi.events.labels import LABELS
from sanpi.kit.messages import Lang, field_label, from_pydantic, language, template
from sanpi.kit.security import security_headers

log = logging.getLogger("sanpi.errors")

PROBLEM_JSON = "application/problem+json"

# The body of every error answer, as JSON Schema (written out, not generated, so that it needs no
# component and reads the same in every operation of the OpenAPI document).
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `errors` names each bad field and why",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:sanpi:problem:validation-error"]},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "reason"],
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
    # Some problems add members, e.g. 409's current_version.
    "additionalProperties": True,
}

# Declared on every operation: any 4xx or 5xx answer is a problem+json body. A "4XX" entry also
# replaces FastAPI's own 422 declaration (HTTPValidationError), which is not what we answer.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "description": "The request was refused: bad input (400/422, naming the field), no or "
        "bad token (401), not allowed for this role or park (403), not found (404), conflict "
        "(409), stale version (412), body too large (413), If-Match required (428), too many "
        "writes (429, with Retry-After)",
        "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
    },
    "5XX": {
        "description": "The database is unavailable, or too many events wait for Kafka (503, "
        "with Retry-After; nothing was written), or an unexpected error (500, logged; no trace "
        "is sent)",
        "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
    },
}

# What the handlers below answer, in the reader's language.
MALFORMED_JSON = template(
    "request.malformed_json",
    zh="请求体不是有效的 JSON",
    en="request body is not valid JSON: {error}",
)
MALFORMED_JSON_FIELD = template(
    "request.malformed_json_field", zh="JSON 格式错误", en="malformed JSON"
)
WRITE_CONFLICT = template(
    "request.write_conflict",
    zh="与同时进行的另一项修改冲突；本次没有写入任何内容，请重试",
    en="a concurrent change conflicted with this one; nothing was written, retry",
)
DATABASE_DOWN = template(
    "request.database_unavailable",
    zh="暂时无法连接数据库；本次没有写入任何内容，请稍后重试",
    en="the database cannot be reached; nothing was written, retry later",
)
UNEXPECTED = template(
    "request.unexpected",
    zh="发生了意外错误，已记录在日志中",
    en="an unexpected error occurred; it has been logged",
)

# A client told to come back in 5 s will find a restarted PostgreSQL (a few seconds) or a released
# SQLite lock; the transaction was rolled back, so retrying the same request is safe.
DB_RETRY_AFTER_S = 5

# What "the database is not there right now" looks like from SQLAlchemy, asyncpg and the OS. A
# programming error (bad SQL, constraint) is none of these and stays a 500/409.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    ConnectionError,
)


class Renders(Protocol):
    """Text that reads differently per language (a catalogued kit.messages.Message)."""

    def render(self, lang: Lang) -> str: ...


# What a problem says: a catalogued Message is answered in the reader's language (Chinese unless
# the request asks for English); a plain string is answered as written.
Said = str | Renders


def said_in(said: Said, lang: Lang) -> str:
    return said if isinstance(said, str) else said.render(lang)


@dataclass(frozen=True)
class FieldProblem:
    """One invalid input: where (`field`, dotted) and why (`reason`)."""

    field: str
    reason: Said

    def as_dict(self, lang: Lang = "zh") -> dict[str, str]:
        return {"field": self.field, "reason": said_in(self.reason, lang)}


class Problem(Exception):
    """A domain error with its HTTP status. Raise a subclass; the handler renders problem+json."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: Said,
        *,
        errors: Sequence[FieldProblem] = (),
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        # The handler renders `said` in the request's language; `detail` is the Chinese a
        # caller outside a request shows, str(exc) the English a log line carries.
        self.said = detail
        self.detail = said_in(detail, "zh")
        super().__init__(said_in(detail, "en"))
        self.errors = list(errors)
        self.headers = headers or {}
        self.extra = extra

    def detail_in(self, lang: Lang) -> str:
        return said_in(self.said, lang)


@dataclass(frozen=True)
class Listed:
    """Every field problem in one sentence: 「签约额」：…；「计划开工日期」：… (field: … in English)."""

    problems: tuple[FieldProblem, ...]

    def render(self, lang: Lang) -> str:
        if lang == "zh":
            return "；".join(
                f"「{_named(p.field)}」：{said_in(p.reason, lang)}" for p in self.problems
            )
        return "; ".join(f"{p.field}: {said_in(p.reason, lang)}" for p in self.problems)


def _named(field: str) -> str:
    # A field people have a Chinese name for reads by it (计划开工日期); any other (a channel's
    # url, digest.daily_at) stays as the API spells it, not half-translated.
    parts = field.split(".")
    if all(part.isdigit() or part in LABELS for part in parts):
        return field_label(field, "zh")
    return field


class InvalidInput(Problem):
    status, slug, title = 422, "validation-error", "Invalid input"

    @classmethod
    def naming(cls, problems: Sequence[FieldProblem]) -> InvalidInput:
        """The 422 of several bad fields, its detail listing each."""
        return cls(Listed(tuple(problems)), errors=problems)


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: Said) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="sanpi"'})


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict"


class PreconditionFailed(Problem):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class ServiceUnavailable(Problem):
    status, slug, title = 503, "unavailable", "Service unavailable"


def problem_response(
    *,
    status: int,
    title: str,
    detail: str,
    slug: str,
    instance: str,
    errors: Sequence[FieldProblem] = (),
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    lang: Lang = "zh",
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:sanpi:problem:{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors:
        body["errors"] = [e.as_dict(lang) for e in errors]
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_name(loc: Sequence[int | str]) -> str:
    # FastAPI prefixes the location with where it came from ("body", "query", "path", "header").
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_problems(exc: RequestValidationError, lang: Lang = "en") -> list[FieldProblem]:
    """The request's invalid fields, each reason in `lang`: a validator's catalogued message
    (MessageError), else pydantic's error by its type in the catalogue's words (必须填写, 应为整数…;
    in English pydantic's own)."""
    problems = []
    for err in exc.errors():
        field = _field_name(err.get("loc", ()))
        problems.append(FieldProblem(field, from_pydantic(err, field).message.render(lang)))
    return problems


def install_problem_handlers(app: FastAPI) -> None:
    """Makes every error of `app` an RFC 9457 problem+json response, and declares it in the
    OpenAPI document of every route added afterwards (routers merge the app router's responses)."""
    app.router.responses = {**PROBLEM_RESPONSES, **app.router.responses}

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        lang = language(request.headers.get("accept-language"))
        return problem_response(
            status=exc.status,
            title=exc.title,
            detail=exc.detail_in(lang),
            slug=exc.slug,
            instance=request.url.path,
            errors=exc.errors,
            headers=exc.headers,
            extra=exc.extra,
            lang=lang,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        raw = exc.errors()
        if any(e.get("type") == "json_invalid" for e in raw):
            err = next(e for e in raw if e.get("type") == "json_invalid")
            ctx = err.get("ctx") or {}
            lang = language(request.headers.get("accept-language"))
            return problem_response(
                status=400,
                title="Malformed JSON",
                detail=MALFORMED_JSON(error=ctx.get("error", "parse error")).render(lang),
                slug="malformed-json",
                instance=request.url.path,
                errors=[FieldProblem("body", MALFORMED_JSON_FIELD())],
                lang=lang,
            )
        problems = validation_problems(exc, language(request.headers.get("accept-language")))
        detail = "; ".join(f"{p.field}: {said_in(p.reason, 'zh')}" for p in problems)
        return problem_response(
            status=422,
            title="Invalid input",
            detail=detail,
            slug="validation-error",
            instance=request.url.path,
            errors=problems,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(
            status=exc.status_code,
            title=str(exc.detail) if exc.status_code < 500 else "Server error",
            detail=str(exc.detail),
            slug="http-error",
            instance=request.url.path,
            headers=dict(exc.headers) if exc.headers else None,
        )

    async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning(
            "database unavailable on %s %s: %s",
            request.method,
            request.url.path,
            type(exc).__name__,
        )
        return problem_response(
            status=503,
            title="Database unavailable",
            detail=DATABASE_DOWN().render(language(request.headers.get("accept-language"))),
            slug="database-unavailable",
            instance=request.url.path,
            headers={"Retry-After": str(DB_RETRY_AFTER_S)},
        )

    @app.exception_handler(sa_exc.IntegrityError)
    async def _conflicting_write(request: Request, exc: sa_exc.IntegrityError) -> JSONResponse:
        # A uniqueness race with a concurrent request (the rules of the services check first;
        # only two writers at the same instant get here): nothing was written, retry.
        log.warning("write conflict on %s %s: %s", request.method, request.url.path, exc.orig)
        return problem_response(
            status=409,
            title="Conflict",
            detail=WRITE_CONFLICT().render(language(request.headers.get("accept-language"))),
            slug="write-conflict",
            instance=request.url.path,
        )

    for error_type in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error_type, _database_unavailable)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The trace goes to the log, never to the client.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        # Answered by Starlette's outermost middleware, outside the edge layer (kit/edge.py).
        return problem_response(
            status=500,
            title="Server error",
            detail=UNEXPECTED().render(language(request.headers.get("accept-language"))),
            slug="server-error",
            instance=request.url.path,
            headers=security_headers(),
        )
