"""Secrets are masked before anything reaches a log; logs are JSON lines that say what each
record is about (service, trace, event, project), or text when asked."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

import jwt

from sanpi.kit import Role, issue_token
from sanpi.kit.edge import EdgeMiddleware
from sanpi.kit.logs import (
    LogFormat,
    current_context,
    formatter,
    log_context,
    redact,
    trace_id_of,
)
from tests.support.registry import registry_client, stage_changed


def test_tokens_secrets_and_url_passwords_are_masked() -> None:
    token = issue_token("s" * 40, subject="x", role=Role.ADMIN)
    line = (
        f"Authorization: Bearer {token} raw={token} secret=whsec_C5IR/mD8V4R1OrSpndZ26JJg5gzaqEYT "
        "db=postgresql://sanpi:hunter2@127.0.0.1/registry"
    )
    masked = redact(line)
    assert token not in masked
    assert "C5IR/mD8V4R1" not in masked
    assert "hunter2" not in masked
    assert "postgresql://sanpi:[REDACTED]@127.0.0.1/registry" in masked


def test_an_unsigned_token_is_masked_too() -> None:
    unsigned = jwt.encode({"sub": "mallory", "role": "admin"}, key="", algorithm="none")
    assert unsigned.endswith(".")
    masked = redact(f"GET /v1/parks?access_token={unsigned} 401")
    assert unsigned.rstrip(".") not in masked
    assert "[REDACTED-JWT]" in masked


def logged(log_format: LogFormat, emit: Callable[[logging.Logger], None]) -> list[str]:
    """The lines `emit` writes through a handler set up as the services set theirs up."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(log_format, "sanpi-test"))
    logger = logging.getLogger(f"sanpi.test.{uuid.uuid4().hex[:6]}")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    emit(logger)
    return stream.getvalue().splitlines()


SECRET_LINE = (
    "Authorization: Bearer {token} secret=whsec_C5IR/mD8V4R1OrSpndZ26JJg5gzaqEYT "
    "db=postgresql://sanpi:hunter2@127.0.0.1/registry 梧桐"
)


def test_a_json_line_per_record_with_its_context_and_secrets_masked_everywhere() -> None:
    token = issue_token("s" * 40, subject="x", role=Role.ADMIN)
    message = SECRET_LINE.format(token=token)

    def emit(logger: logging.Logger) -> None:
        logger.info("plain")
        with log_context(event_id="e-1", project_id="p-1", trace_id=None):
            try:
                raise RuntimeError(message)
            except RuntimeError:
                logger.exception("failed: %s", message)

    lines = logged("json", emit)
    assert len(lines) == 2, "a traceback stays inside its record's line"
    plain, failed = (json.loads(line) for line in lines)
    assert set(plain) == {"time", "level", "logger", "message", "service"}
    assert (plain["level"], plain["message"], plain["service"]) == ("INFO", "plain", "sanpi-test")
    assert plain["time"].endswith("+00:00")
    assert (failed["event_id"], failed["project_id"]) == ("e-1", "p-1")
    assert "trace_id" not in failed, "no trace, no field"
    assert "RuntimeError" in failed["exception"]
    for field in ("message", "exception"):
        assert token not in failed[field]
        assert "C5IR/mD8V4R1" not in failed[field]
        assert "hunter2" not in failed[field]
        assert "梧桐" in failed[field]
    assert not any(s in "".join(lines) for s in (token, "C5IR/mD8V4R1", "hunter2"))


def test_text_when_asked_with_the_same_masking_and_context() -> None:
    token = issue_token("s" * 40, subject="x", role=Role.ADMIN)

    def emit(logger: logging.Logger) -> None:
        with log_context(event_id="e-2"):
            logger.warning(SECRET_LINE.format(token=token))

    (line,) = logged("text", emit)
    assert " WARNING sanpi.test." in line
    assert line.endswith("[event_id=e-2]")
    assert token not in line
    assert "hunter2" not in line


def test_the_trace_id_is_read_from_a_w3c_traceparent() -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    assert trace_id_of(f"00-{trace}-00f067aa0ba902b7-01") == trace
    assert trace_id_of(f"00-{trace}-00f067aa0ba902b7-01".encode()) == trace
    assert trace_id_of(f"00-{'0' * 32}-00f067aa0ba902b7-01") is None
    assert trace_id_of("not a traceparent") is None
    assert trace_id_of(None) is None


async def test_a_handler_logs_with_the_event_it_applies_and_its_project(tmp_path: Path) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("json", "sanpi-registry"))
    logger = logging.getLogger("sanpi.registry.projects")
    logger.addHandler(handler)
    try:
        async with registry_client(tmp_path) as registry:
            # A stage change for a project the registry does not know is logged at WARNING ...
            record = await stage_changed(registry, "p-unknown", "UNDER_CONSTRUCTION", "2023-04-02")
    finally:
        logger.removeHandler(handler)
    (line,) = [json.loads(x) for x in stream.getvalue().splitlines()]
    # ... by the consumer, with the event it was applying and the project.
    assert "p-unknown" in line["message"]
    assert (line["project_id"], line["event_type"]) == (
        "p-unknown",
        "sanpi.project.stage_changed.v1",
    )
    assert line["event_id"] == json.loads(record.value or b"")["id"]


async def test_the_request_middleware_sets_the_context() -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    seen: list[dict[str, str]] = []

    async def app(scope: MutableMapping[str, Any], _receive: Any, _send: Any) -> None:
        seen.append(dict(current_context()))

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(_message: MutableMapping[str, Any]) -> None:
        raise AssertionError("the probe answers nothing")

    middleware = EdgeMiddleware(app, max_body_bytes=1024)
    for path in ("/v1/projects/p-7/milestones", "/v1/projects/export", "/v1/parks"):
        scope = {
            "type": "http",
            "path": path,
            "headers": [(b"traceparent", f"00-{trace}-00f067aa0ba902b7-01".encode())],
        }
        await middleware(scope, receive, send)
    assert seen == [
        {"trace_id": trace, "project_id": "p-7"},
        {"trace_id": trace},
        {"trace_id": trace},
    ]
    assert dict(current_context()) == {}, "nothing left behind"
