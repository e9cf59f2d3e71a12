"""Idempotency-Key on creates: a retried request gets the first answer back, not a second effect."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from sanpi.kit.auth import Principal
from sanpi.kit.db import UTCDateTime, utcnow
from sanpi.kit.errors import FieldProblem, InvalidInput
from sanpi.kit.messages import template
from sanpi.kit.unit_of_work import UnitOfWork

REPLAYED_HEADER = "Idempotent-Replayed"
KEY_REUSED = template(
    "idempotency.key_reused",
    zh="这个 Idempotency-Key 已用于另一个不同内容的请求",
    en="this Idempotency-Key was already used with a different request body",
)
KEY_REUSED_FIELD = template(
    "idempotency.key_reused_field", zh="已用于另一份请求内容", en="reused with another body"
)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="any unique string; a retry with the same key and body returns the first answer",
    ),
]


class IdempotentRequest(SQLModel, table=True):
    """The answer given to (subject, scope, key), stored in the transaction that made the effect."""

    __tablename__ = "idempotent_request"

    subject: str = Field(primary_key=True, max_length=128)
    scope: str = Field(primary_key=True, max_length=128)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int
    response_body: str = Field(sa_type=Text)
    headers: str = Field(default="{}", sa_type=Text)
    # Indexed for the pruner (idempotency_retention_hours), which takes the oldest first.
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


def _fingerprint(payload: Any) -> str:
    if isinstance(payload, BaseModel):
        payload = payload.model_dump(mode="json")
    raw = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


async def run_idempotent(
    uow: UnitOfWork,
    *,
    key: str | None,
    principal: Principal,
    scope: str,
    payload: Any,
    action: Callable[[], Awaitable[tuple[BaseModel, dict[str, str]]]],
    status_code: int = 201,
    replay_body: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> JSONResponse:
    """Runs `action` once per (caller, scope, key). `action` returns the response model and
    headers; a replay answers the stored response with `Idempotent-Replayed: true`. The same key
    with a different body is a 422. `replay_body` makes the body kept for replays from the answer's
    (default: all of it): an answer that shows a secret keeps the secret out of the table."""
    if key is not None:
        fingerprint = _fingerprint(payload)
        stored = await uow.session.get(IdempotentRequest, (principal.subject, scope, key))
        if stored is not None:
            if stored.request_hash != fingerprint:
                raise InvalidInput(
                    KEY_REUSED(),
                    errors=[FieldProblem("header.Idempotency-Key", KEY_REUSED_FIELD())],
                )
            headers = {**json.loads(stored.headers), REPLAYED_HEADER: "true"}
            return JSONResponse(
                json.loads(stored.response_body), stored.status_code, headers=headers
            )
    model, headers = await action()
    body = model.model_dump(mode="json")
    if key is not None:
        uow.session.add(
            IdempotentRequest(
                subject=principal.subject,
                scope=scope,
                key=key,
                request_hash=fingerprint,
                status_code=status_code,
                response_body=json.dumps(
                    replay_body(body) if replay_body else body, ensure_ascii=False
                ),
                headers=json.dumps(headers),
            )
        )
        # Surfaces a concurrent twin (same key, other connection) now, as an error, not at commit.
        await uow.session.flush()
    return JSONResponse(body, status_code, headers=headers)
