"""A tiny webhook receiver for trying sanpi: prints each delivery and checks its signature, and
each ops alert Alertmanager posts to it.

    python3 scripts/webhook_receiver.py [--port 9999] [--secret whsec_...]

Standard library only, so it runs with any Python 3.11. Each POST prints one line: the event
type, its subject (the project id) and whether the Standard Webhooks signature verified against
--secret (or $SANPI_WEBHOOK_SECRET). It answers 204, so sanpi counts the delivery as done.
Stop it with Ctrl-C.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Standard Webhooks' reference verifiers refuse messages more than 5 minutes off their clock.
TOLERANCE_S = 5 * 60


def verify(secret: str, headers: dict[str, str], body: bytes) -> str:
    """'ok', or why the signature does not verify (`webhook-signature` may hold several)."""
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    if not (msg_id and timestamp.isdigit()):
        return "missing webhook-id or webhook-timestamp"
    if abs(time.time() - int(timestamp)) > TOLERANCE_S:
        return "timestamp too far from this clock"
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    for candidate in headers.get("webhook-signature", "").split():
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return "ok"
    return "BAD (no signature matches this secret)"


def describe(body: bytes) -> str:
    """`type subject` of a CloudEvent, or of a digest/reminder message; `alertmanager STATUS
    NAME job=…` of each alert Alertmanager posts (the ops alerts of deploy/prometheus)."""
    try:
        message = json.loads(body)
    except ValueError:
        return f"(not JSON: {len(body)} bytes)"
    if "alerts" in message and "receiver" in message:
        return "; ".join(
            f"alertmanager {a.get('status')} {a['labels'].get('alertname')} "
            f"job={a['labels'].get('job', '-')} runbook={a.get('annotations', {}).get('runbook_url', '-')}"
            for a in message["alerts"]
        )
    subject = message.get("subject") or message.get("alert_key") or ""
    return f"{message.get('type', '?')} {subject}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=9999)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--secret",
        default=os.environ.get("SANPI_WEBHOOK_SECRET", ""),
        help="the subscription's whsec_ secret (default: $SANPI_WEBHOOK_SECRET)",
    )
    args = parser.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            what = describe(body)
            if what.startswith("alertmanager "):  # Alertmanager signs nothing
                print(what, flush=True)
            else:
                check = verify(args.secret, headers, body) if args.secret else "not checked"
                print(f"webhook {what}  signature: {check}", flush=True)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *values: object) -> None:
            """Quiet: the line printed per delivery says it all."""

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"listening on http://{args.host}:{args.port}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
