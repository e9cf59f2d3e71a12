"""Prints one trace from Jaeger's query API as a tree: each span's service, operation and time.

    .venv/bin/python scripts/trace.py TRACE_ID [--jaeger http://127.0.0.1:16686] [--wait 10]

TRACE_ID is the 32 hex digits of a `traceparent` (its second field) or of a log line's
`trace_id`. Spans arrive at Jaeger a moment after their work ends: --wait retries that long
while the trace is not there yet. The same trace in the UI: <jaeger>/trace/TRACE_ID.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict
from typing import Any


def fetch(jaeger: str, trace_id: str) -> dict[str, Any] | None:
    """The trace as Jaeger's query API gives it, or None when Jaeger does not know it (yet)."""
    try:
        with urllib.request.urlopen(f"{jaeger}/api/traces/{trace_id}", timeout=10) as answer:  # noqa: S310 - the operator's Jaeger
            data = json.load(answer).get("data") or []
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise
    return data[0] if data else None


def tree(trace: dict[str, Any]) -> list[str]:
    """One line per span, children below their parent, each level by start time."""
    spans = {span["spanID"]: span for span in trace["spans"]}
    children: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for span in spans.values():
        parents = [r["spanID"] for r in span.get("references", []) if r["refType"] == "CHILD_OF"]
        parent = parents[0] if parents and parents[0] in spans else None
        children[parent].append(span)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for span in sorted(children[parent], key=lambda s: s["startTime"]):
            service = trace["processes"][span["processID"]]["serviceName"]
            lines.append(
                f"{span['duration'] / 1000:9.1f} ms  {'  ' * depth}{span['operationName']}"
                f"  [{service}]"
            )
            walk(span["spanID"], depth + 1)

    walk(None, 0)
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("trace_id", help="32 hex digits")
    parser.add_argument("--jaeger", default="http://127.0.0.1:16686", help="Jaeger's query API")
    parser.add_argument("--wait", type=float, default=10.0, help="seconds to wait for the trace")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.wait
    while (trace := fetch(args.jaeger.rstrip("/"), args.trace_id.lower())) is None:
        if time.monotonic() >= deadline:
            print(f"Jaeger at {args.jaeger} has no trace {args.trace_id}", file=sys.stderr)
            return 1
        time.sleep(0.5)
    print("\n".join(tree(trace)))
    services = sorted({p["serviceName"] for p in trace["processes"].values()})
    print(f"\n{len(trace['spans'])} spans in {', '.join(services)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
