"""Logging set-up for services: one line per record, and secrets masked before anything is written."""

from __future__ import annotations

import logging
import re

# Bearer tokens, JWTs, webhook signing secrets and password-bearing URLs never reach a log file.
_SECRET_PATTERNS = (
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[REDACTED]"),
    # The signature may be empty: an unsigned (alg none) token is still a token someone sent.
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), "[REDACTED-JWT]"),
    (re.compile(r"whsec_[A-Za-z0-9+/=]+"), "whsec_[REDACTED]"),
    (re.compile(r"(://[^:/@\s]+:)[^@\s]+@"), r"\1[REDACTED]@"),
)


def redact(text: str) -> str:
    """Masks anything that looks like a token, signing secret or URL password."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(level: str = "INFO") -> None:
    """Sends every logger (ours, uvicorn's, aiokafka's) through one redacting handler on stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # aiokafka logs every reconnect attempt at ERROR while the broker is away; WARNING is enough.
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
    # httpx logs each request URL at INFO, and a webhook URL may carry a token in its query.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
