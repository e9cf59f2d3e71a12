"""The milestone service behind uvicorn: CPU and SQL statements per progress-report POST.

The real app (its lifespan, migrations and workers; Kafka off, SQLite unless a database URL is
given) tracks 50 started projects with a 2023 plan, then serves uvicorn (uvloop, httptools, as
`serve` does) on 127.0.0.1; a client in its own process (aiohttp, one admin token) sends the
POSTs of 8 旬 of every project, `--group` at a time, so that the figures are the server's alone.
Measured in the server from the client's start to its last answer: CPU (time.process_time) per
POST and, with `--statements`, statements per POST (an executemany counts once; counting them
takes a connection event listener, which makes SQLAlchemy dispatch events around every
statement, so the CPU figure of such a run is not the service's). `--profile` writes a
pyinstrument report of that window. `--otlp-endpoint URL` turns tracing on (every request, its
statements and its outbox row traced, the spans exported to URL by the SDK's batch processor in
a thread of this process, whose CPU counts): the price of tracing against the same run without.

python -m bench.progress_posts [--group 25] [--rounds 3] [--profile /tmp/posts] [--statements]
                               [--otlp-endpoint http://127.0.0.1:4318]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvicorn
import uvloop
from sqlalchemy import event as sa_event

from bench.common import measured
from scripts import stack
from tests.support.apps import token
from tests.support.milestone import milestone_service
from tests.support.waiting import eventually
from tests.unit.test_milestone_alerts import started_with_plan

PROJECTS = 50
PERIODS = 8

CLIENT = """
import asyncio, collections, sys
import aiohttp

port, auth, projects, periods, group = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
keys = [f"2023-{3 + k // 3:02d}-X{k % 3 + 1}" for k in range(periods)]

async def main():
    jobs = [(f"p{p}", k) for k in range(periods) for p in range(projects)]
    statuses = collections.Counter()
    headers = {"Authorization": f"Bearer {auth}"}
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", headers=headers) as http:
        async def post(p, k):
            body = {
                "period_key": keys[k],
                "completed_investment_cum": 1000 * (k + 1),
                "completed_investment_ytd": 1000 * (k + 1),
                "physical_progress_pct": 2.0 * (k + 1),
            }
            async with http.post(f"/v1/projects/{p}/progress", json=body) as r:
                await r.read()
                statuses[r.status] += 1
        await post("warm-up-unknown", 0)
        statuses.clear()
        sys.stdout.write("ready\\n"); sys.stdout.flush()
        sys.stdin.readline()
        for s in range(0, len(jobs), group):
            await asyncio.gather(*(post(p, k) for p, k in jobs[s : s + group]))
    sys.stdout.write(f"done {dict(statuses)}\\n"); sys.stdout.flush()

asyncio.run(main())
"""


async def run(
    *, group: int, url: str, profile: bool, count_statements: bool, otlp_endpoint: str = ""
) -> tuple[dict[str, float], str, Counter[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        settings: dict[str, Any] = {"log_level": "WARNING", "otlp_endpoint": otlp_endpoint}
        if url:
            settings["database_url"] = url
        async with milestone_service(Path(tmp), today=dt.date(2023, 11, 3), **settings) as svc:
            for p in range(PROJECTS):
                await started_with_plan(svc, f"p{p}")
            app = svc.client._transport.app  # type: ignore[attr-defined]
            port = stack.free_port()
            server = uvicorn.Server(
                uvicorn.Config(
                    app,
                    host="127.0.0.1",
                    port=port,
                    http="httptools",
                    lifespan="off",
                    log_config=None,
                    access_log=False,
                )
            )
            serving = asyncio.create_task(server.serve())
            await eventually(lambda: server.started, timeout=10, what="uvicorn serving")
            client = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                CLIENT,
                str(port),
                token(subject="bench"),
                str(PROJECTS),
                str(PERIODS),
                str(group),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            assert client.stdin is not None
            assert client.stdout is not None
            statements: Counter[str] = Counter()

            def seen(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
                statements[" ".join(sql.split())[:150]] += 1

            try:
                assert (await client.stdout.readline()).strip() == b"ready"
                engine = svc.runtime.db.engine.sync_engine
                if count_statements:
                    sa_event.listen(engine, "before_cursor_execute", seen)
                with measured(profile=profile) as window:
                    client.stdin.write(b"go\n")
                    await client.stdin.drain()
                    done = (await asyncio.wait_for(client.stdout.readline(), 300)).decode().strip()
                if count_statements:
                    sa_event.remove(engine, "before_cursor_execute", seen)
                await client.wait()
            finally:
                if client.returncode is None:
                    client.kill()
                    await client.wait()
                server.should_exit = True
                await serving
    posts = PROJECTS * PERIODS
    expected = f"done {{201: {posts}}}"
    assert done == expected, done
    return (
        {
            "cpu_ms_per_post": window.cpu * 1000 / posts,
            "statements_per_post": statements.total() / posts,
            "wall_s": window.wall,
        },
        window.report,
        statements,
    )


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--group", type=int, default=25, help="POSTs in flight together")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--profile", type=Path, default=None, help="pyinstrument reports here")
    parser.add_argument(
        "--statements",
        action="store_true",
        help="count and list the statements run, most frequent first (costs CPU: a listener)",
    )
    parser.add_argument(
        "--otlp-endpoint",
        default="",
        help="trace to this OTLP/HTTP receiver (e.g. Jaeger's http://127.0.0.1:4318); default off",
    )
    args = parser.parse_args(argv)
    for n in range(args.rounds):
        figures, report, statements = uvloop.run(
            run(
                group=args.group,
                url=args.database_url,
                profile=args.profile is not None,
                count_statements=args.statements,
                otlp_endpoint=args.otlp_endpoint,
            )
        )
        if args.profile is not None:
            args.profile.with_suffix(f".r{n}.txt").write_text(report)
        counted = (
            f"{figures['statements_per_post']:.2f} statements a POST (listened to), "
            if args.statements
            else ""
        )
        traced = f", traced to {args.otlp_endpoint}" if args.otlp_endpoint else ", tracing off"
        print(
            f"group {args.group}{traced}: {figures['cpu_ms_per_post']:.2f} CPU-ms a POST, "
            f"{counted}{figures['wall_s']:.1f}s",
            flush=True,
        )
        if args.statements:
            for sql, count in statements.most_common():
                print(f"  {count / (PROJECTS * PERIODS):5.2f}  {sql}")


if __name__ == "__main__":
    main(sys.argv[1:])
