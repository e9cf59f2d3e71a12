"""Secrets are masked before anything reaches a log."""

from __future__ import annotations

import jwt

from sanpi.kit import Role, issue_token
from sanpi.kit.logs import redact


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
