"""A real HTTP webhook receiver on 127.0.0.1 that records every request and answers as scripted."""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float


class WebhookSink:
    """Records requests; answers with `script` statuses first (e.g. [500, 500, 500]), then `default`.

    Each sink listens on its own random path. The OS may hand a closed sink's port to a new one;
    deliveries still aimed at the old sink's path are then answered 410 Gone and not recorded.
    """

    def __init__(self, default: int = 204) -> None:
        self.default = default
        self.path = f"/hook/{uuid.uuid4().hex}"
        self.script: deque[int] = deque()
        self.retry_after: str | None = None
        # Seconds an answer is held after the request is recorded (a slow receiver).
        self.delay_s = 0.0
        self.received: list[Received] = []
        self._lock = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                if self.path != sink.path:
                    self.send_response(410)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                with sink._lock:
                    status = sink.script.popleft() if sink.script else sink.default
                    sink.received.append(
                        Received(
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            status,
                            time.time(),
                        )
                    )
                    sink._lock.notify_all()
                if sink.delay_s:
                    time.sleep(sink.delay_s)
                self.send_response(status)
                if sink.retry_after and status >= 400:
                    self.send_header("Retry-After", sink.retry_after)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.path}"

    def start(self) -> WebhookSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def accepted(self) -> list[Received]:
        return [r for r in self.snapshot() if 200 <= r.status < 300]
