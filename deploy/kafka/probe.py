"""Asks a Kafka broker for its metadata over the wire protocol; exit 0 once a broker is registered.

Standard library only, so the broker script can wait on "serves requests" without the project's
virtual environment. Metadata v1 is used because Kafka 4.x still serves it (apache/kafka#18716).
"""

from __future__ import annotations

import socket
import struct
import sys
import time


def metadata_broker_count(host: str, port: int, timeout: float = 2.0) -> int:
    """Sends one Metadata v1 request (all topics) and returns the number of brokers listed."""
    client_id = b"sanpi-probe"
    # api_key=3 (Metadata), api_version=1, correlation_id=7, client_id, topics=null (-1)
    body = struct.pack(">hhih", 3, 1, 7, len(client_id)) + client_id + struct.pack(">i", -1)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(struct.pack(">i", len(body)) + body)
        header = _read_exact(sock, 4)
        (size,) = struct.unpack(">i", header)
        payload = _read_exact(sock, size)
    correlation_id, brokers = struct.unpack(">ii", payload[:8])
    if correlation_id != 7:
        raise RuntimeError(f"unexpected correlation id {correlation_id}")
    return int(brokers)


def _read_exact(sock: socket.socket, n: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < n:
        chunk = sock.recv(n - len(chunks))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        chunks.extend(chunk)
    return bytes(chunks)


def main() -> int:
    if len(sys.argv) < 3:
        print("usage: probe.py HOST PORT [WAIT_SECONDS]", file=sys.stderr)
        return 2
    host, port = sys.argv[1], int(sys.argv[2])
    wait = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    deadline = time.monotonic() + wait
    last_error = "no attempt"
    while True:
        try:
            if metadata_broker_count(host, port) > 0:
                return 0
            last_error = "no broker registered yet"
        except (OSError, RuntimeError, struct.error) as exc:
            last_error = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            print(f"kafka at {host}:{port} not ready: {last_error}", file=sys.stderr)
            return 1
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
