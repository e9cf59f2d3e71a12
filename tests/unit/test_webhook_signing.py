"""Standard Webhooks signing (checked by the reference package), Retry-After, backoff."""

from __future__ import annotations

import email.utils
import random
import time

import pytest
from standardwebhooks import Webhook

from sanpi.notification.channels.webhook import new_secret, parse_retry_after, sign
from sanpi.notification.delivery.timing import retry_delay

# Pure code, no database: the PostgreSQL pass of make test would repeat these to the letter.
pytestmark = pytest.mark.db_independent


def test_signature_verifies_with_the_standardwebhooks_package() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    body = '{"type":"sanpi.project.stage_changed.v1","data":{"name":"石佛 项目"}}'.encode()
    timestamp = int(time.time())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, "msg_1", timestamp, body),
    }
    assert Webhook(secret).verify(body, headers)["type"] == "sanpi.project.stage_changed.v1"


def test_signature_with_another_secret_fails_verification() -> None:
    body = b"{}"
    timestamp = int(time.time())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(new_secret(), "msg_1", timestamp, body),
    }
    with pytest.raises(Exception, match=r"(?i)signature"):
        Webhook(new_secret()).verify(body, headers)


def test_retry_after_in_seconds_and_as_a_date() -> None:
    assert parse_retry_after("120") == 120.0
    in_a_minute = email.utils.formatdate(time.time() + 60, usegmt=True)
    value = parse_retry_after(in_a_minute)
    assert value is not None
    assert 55 <= value <= 61
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    rng = random.Random(7)
    delays = [
        retry_delay(n, base_s=2, max_s=3600, retry_after_s=None, rng=rng) for n in range(1, 8)
    ]
    for n, delay in enumerate(delays, start=1):
        assert 2 * 2 ** (n - 1) * 0.5 <= delay <= 2 * 2 ** (n - 1)
    assert retry_delay(1, base_s=2, max_s=3600, retry_after_s=90, rng=rng) == 90
    assert retry_delay(20, base_s=2, max_s=3600, retry_after_s=None, rng=rng) <= 3600
