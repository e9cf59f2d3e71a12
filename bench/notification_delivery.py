"""The notification service in-process: CPU per delivered webhook and SQL statements per event.

The real app (its lifespan, migrations, delivery and timer workers; Kafka off, SQLite or a
database URL) is fed progress.reported events through its consumer the way a fetched Kafka batch
arrives (`EventConsumer.process_many`), with one webhook subscription for them (as the e2e bench
has) and two that match nothing; the webhooks go to a sink in its own process on 127.0.0.1, so
that the figures are this process's alone. Measured from the first record consumed to the last
delivery recorded: CPU (time.process_time) per delivered webhook and statements per event (an
executemany counts once). `--rate` paces the batches (events per second) instead of feeding
them as fast as they are taken, so that the workers' wake-ups and idle loops count too.

python -m bench.notification_delivery --events 2000 --batch 1,10,50 [--rate 100] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event as sa_event

from bench.common import measured
from sanpi.events import ProgressReported, ProjectRegistered, ReportPeriodKind, Stage
from sanpi.kit import SystemClock
from sanpi.notification.app import create_app
from sanpi.notification.delivery import service
from sanpi.notification.settings import NotificationSettings
from scripts import stack
from tests.support.apps import auth, serve_in_process
from tests.support.notification import as_consumed, record

SINK = """
import sys
from aiohttp import web
async def hook(request):
    await request.read()
    return web.Response(status=204)
app = web.Application()
app.router.add_post("/hook", hook)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def progress(project_id: str, n: int) -> ProgressReported:
    return ProgressReported(
        project_id=project_id,
        report_id=str(uuid.uuid4()),
        period_kind=ReportPeriodKind.MONTH,
        period_key=f"{2023 + n // 12}-{n % 12 + 1:02d}",
        completed_investment_cum=1_000 + n,
        completed_investment_ytd=100 + n,
        reported_by="bench",
    )


class Counter:
    """Statements run on the engine, and deliveries recorded by the worker."""

    def __init__(self, wanted: int) -> None:
        self.statements = 0
        self.delivered = 0
        self.wanted = wanted
        self.done = asyncio.Event()

    def on_statement(self, *_args: Any) -> None:
        self.statements += 1


async def run(
    *, events: int, batch: int, rate: float | None, url: str, port: int, profile: bool
) -> tuple[dict[str, float], str]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = NotificationSettings(
            data_dir=Path(tmp),
            database_url=url,
            kafka_enabled=False,
            allow_loopback_targets=True,
            log_level="WARNING",
        )
        app = create_app(settings, SystemClock())
        async with serve_in_process(app) as client:
            client.headers.update(auth(subject="bench"))
            runtime = app.state.runtime
            for body in (
                {
                    "channel": "webhook",
                    "url": f"http://127.0.0.1:{port}/hook",
                    "event_types": [ProgressReported.TYPE],
                },
                {
                    "channel": "webhook",
                    "url": f"http://127.0.0.1:{port}/hook",
                    "min_severity": "red",
                },
                {"channel": "inbox", "parks": ["双桥"]},
            ):
                response = await client.post("/v1/subscriptions", json=body)
                assert response.status_code == 201, response.text
            consumer = runtime.consumer
            projects = [str(uuid.uuid4()) for _ in range(50)]
            await consumer.process_many(
                [
                    as_consumed(
                        record(
                            ProjectRegistered(
                                project_id=p,
                                version=1,
                                name=f"项目{i}",
                                park="梧桐",
                                total_investment=10_000,
                                stage=Stage.UNDER_CONSTRUCTION,
                            ),
                            "/sanpi/registry",
                        )[1]
                    )
                    for i, p in enumerate(projects)
                ]
            )
            records = [
                as_consumed(record(progress(projects[i % len(projects)], i))[1])
                for i in range(events)
            ]
            counter = Counter(events)
            real_record = service.record_results

            async def counting(*args: Any, **kwargs: Any) -> Any:
                statuses = await real_record(*args, **kwargs)
                counter.delivered += sum(1 for s in statuses if s == "DELIVERED")
                if counter.delivered >= counter.wanted:
                    counter.done.set()
                return statuses

            service.record_results = counting
            engine = runtime.db.engine.sync_engine
            sa_event.listen(engine, "before_cursor_execute", counter.on_statement)
            try:
                with measured(profile=profile) as window:
                    interval = batch / rate if rate else 0.0
                    for start in range(0, events, batch):
                        await consumer.process_many(records[start : start + batch])
                        if interval:
                            due = window.started + (start + batch) / rate  # type: ignore[operator]
                            await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    await asyncio.wait_for(counter.done.wait(), timeout=120)
            finally:
                sa_event.remove(engine, "before_cursor_execute", counter.on_statement)
                service.record_results = real_record
    figures = {
        "cpu_ms_per_delivery": window.cpu * 1000 / counter.delivered,
        "statements_per_event": counter.statements / events,
        "wall_s": window.wall,
    }
    return figures, window.report


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--batch", default="1,10,50")
    parser.add_argument("--rate", type=float, default=None)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--profile", type=Path, default=None, help="pyinstrument reports here")
    args = parser.parse_args(argv)
    port = stack.free_port()
    sink = subprocess.Popen([sys.executable, "-c", SINK, str(port)])
    try:
        _wait_port(port)
        for _ in range(args.rounds):
            for batch in (int(b) for b in args.batch.split(",")):
                figures, report = asyncio.run(
                    run(
                        events=args.events,
                        batch=batch,
                        rate=args.rate,
                        url=args.database_url,
                        port=port,
                        profile=args.profile is not None,
                    )
                )
                if args.profile is not None:
                    args.profile.with_suffix(f".b{batch}.txt").write_text(report)
                print(
                    f"batch {batch:>3}: {figures['cpu_ms_per_delivery']:.3f} CPU-ms a delivered "
                    f"webhook, {figures['statements_per_event']:.2f} statements an event, "
                    f"{figures['wall_s']:.1f}s",
                    flush=True,
                )
    finally:
        sink.terminate()
        sink.wait()


def _wait_port(port: int) -> None:
    import socket

    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


if __name__ == "__main__":
    main(sys.argv[1:])
