"""Full rule evaluations on a prepared milestone database, timed, with digests of what they wrote.

For iterating on the evaluation in seconds instead of `python -m bench --only scale` (minutes,
Kafka included): `prepare` seeds a milestone SQLite database as the scale bench does, once;
`run` copies it and times passes in this process (wall and CPU, commit included), each as of
the day given by an offset from the data set's day. The digests (firing alerts, every alert
row, timeline and outbox rows, without ids and times) must not change with a change that only
makes the pass faster.

    .venv/bin/python -m bench.evaluation prepare 20000 /tmp/m20k.db
    .venv/bin/python -m bench.evaluation run /tmp/m20k.db /tmp/work.db --days 0 0 12 --digest
    .venv/bin/python -m bench.evaluation run /tmp/m20k.db /tmp/work.db --profile /tmp/eval

On PostgreSQL, name databases by URL (a cluster of deploy/postgres/pg.sh; its user may create
databases): `prepare` seeds the database of the URL (created if missing) and analyses it as the
scale bench does, `run` copies it to the second URL's database (CREATE DATABASE … TEMPLATE, the
copy dropped first) and times the passes there. The data set's day goes to
.run/bench-evaluation/<database>.asof.

    .venv/bin/python -m bench.evaluation prepare 20000 "$(deploy/postgres/pg.sh url ev20k)"
    .venv/bin/python -m bench.evaluation run "$(pg.sh url ev20k)" "$(pg.sh url ev_work)" --days 0 0

`--profile` writes a pyinstrument report of each pass (`<path>.pass<N>.txt`), sampled as the
scale bench's `--profile` samples its extra pass, so the two can be read side by side; the
figures of a profiled pass carry the profiler's overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import multiprocessing
import shutil
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.common import SQLITE_SYNCHRONOUS, machine_speed
from bench.scale import Seeder, profiled_to, runtime_of, seed
from sanpi.client.demo.generator import province
from sanpi.kit.db import Database
from sanpi.milestone.app import create_app
from sanpi.milestone.judged import JUDGED
from sanpi.milestone.rules import service as rules
from sanpi.milestone.rules import workers
from sanpi.milestone.settings import MilestoneSettings

# Event data that differ from one run to the next.
VOLATILE = frozenset({"evaluation_id", "first_raised_at", "resolved_at"})


def settings_for(url: str, data_dir: Path, processes: int = 0) -> MilestoneSettings:
    return MilestoneSettings(
        data_dir=data_dir,
        database_url=url,
        evaluation_workers=processes,
        kafka_enabled=False,
        evaluation_interval_s=0,
        metrics_refresh_s=86_400,
    )


RUN_DIR = Path(__file__).resolve().parent.parent / ".run" / "bench-evaluation"


def is_url(target: str) -> bool:
    return target.startswith("postgresql")


def url_of(target: str) -> str:
    """A PostgreSQL URL as given; a path as its SQLite URL."""
    return target if is_url(target) else f"sqlite+aiosqlite:///{target}"


def day_file(target: str) -> Path:
    """Where the data set's day of a prepared database is kept."""
    if is_url(target):
        return RUN_DIR / f"{make_url(target).database}.asof"
    return Path(target).with_suffix(".asof")


async def _server(url: str, *statements: str) -> None:
    """Runs statements on the server of `url`, outside any database's transaction."""
    admin = make_url(url).set(database="postgres")
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as c:
            for statement in statements:
                await c.execute(text(statement))
    finally:
        await engine.dispose()


async def prepare(projects: int, target: str, months: int) -> None:
    """The scale bench's milestone rows for `projects` province projects; the data set's day
    goes to day_file(target)."""
    data = province(projects)
    url = url_of(target)
    if is_url(target):
        name = make_url(url).database
        await _server(url, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
        RUN_DIR.mkdir(parents=True, exist_ok=True)
    app = create_app(settings_for(url, RUN_DIR if is_url(target) else Path(target).parent))
    async with app.router.lifespan_context(app):
        counts = await seed(runtime_of(app), Seeder(data, months))
    day_file(target).write_text(data.as_of.isoformat())
    print(counts)


async def copy(source: str, work: str) -> None:
    """The prepared database copied to `work` (which is overwritten)."""
    if not is_url(source):
        shutil.copyfile(source, work)
        return
    name, template = make_url(work).database, make_url(source).database
    await _server(
        source,
        f'DROP DATABASE IF EXISTS "{name}"',
        f'CREATE DATABASE "{name}" TEMPLATE "{template}"',
    )


def digest(rows: Iterable[Any], *, unordered: bool = False) -> str:
    """Count and hash of the rows; `unordered`: of the rows in any order (sorted first)."""
    lines = [json.dumps(row, sort_keys=True, default=str, ensure_ascii=False) for row in rows]
    h = hashlib.sha256()
    for line in sorted(lines) if unordered else lines:
        h.update(line.encode())
    return f"{len(lines)}:{h.hexdigest()[:16]}"


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


async def digests(db: Database, *, unordered: bool = False) -> dict[str, str]:
    """Digests of the alerts, timeline and outbox. `unordered`: the timeline's and outbox's rows
    in any order, for a replay: the records of several partitions share a transaction in the
    order their fetches arrived, which differs from run to run."""
    async with db.engine.connect() as c:
        firing = await c.execute(
            text(
                "SELECT alert_key, rule, severity, title, message, metric_value, threshold, as_of,"
                " state, project_id, park, project_name FROM alert WHERE state = 'FIRING'"
                " ORDER BY alert_key"
            )
        )
        alerts = await c.execute(
            text(
                "SELECT alert_key, rule, severity, state, title, message, metric_value, threshold,"
                " as_of, project_id, park, project_name, first_raised_at = updated_at,"
                " resolved_at IS NULL, length(id), length(evaluation_id) FROM alert"
                " ORDER BY alert_key, created_at"
            )
        )
        timeline = await c.execute(
            text(
                'SELECT event_type, "by", summary, project_id, data FROM timeline_entry ORDER BY id'
            )
        )
        outbox = await c.execute(
            text("SELECT event_type, topic, key, headers, value FROM outbox ORDER BY id")
        )
        found = {
            "firing": digest(list(r) for r in firing),
            "alerts": digest(list(r) for r in alerts),
            "timeline": digest(
                (
                    [*r[:4], {k: v for k, v in _json(r[4]).items() if k not in VOLATILE}]
                    for r in timeline
                ),
                unordered=unordered,
            ),
            "outbox": digest(
                (
                    [
                        *r[:3],
                        sorted(_json(r[3])),
                        {k: v for k, v in _json(r[4])["data"].items() if k not in VOLATILE},
                    ]
                    for r in outbox
                ),
                unordered=unordered,
            ),
        }
    return found


async def run(
    source: str,
    work: str,
    offsets: Sequence[int],
    with_digests: bool,
    profile: Path | None = None,
    processes: int = 0,
) -> None:
    await copy(source, work)
    as_of = dt.date.fromisoformat(day_file(source).read_text())
    url = url_of(work)
    settings = settings_for(url, RUN_DIR if is_url(work) else Path(work).parent, processes)
    db = Database(url, sqlite_synchronous=SQLITE_SYNCHRONOUS)
    pool = workers.pool_for(settings)
    if pool is not None:
        await pool.warm()  # as the service does at start-up (rules.jobs.evaluation_workers)
    try:
        for n, offset in enumerate(offsets):
            day = as_of + dt.timedelta(days=offset)
            speed = machine_speed()
            with profiled_to(profile and profile.with_suffix(f".pass{n}.txt")):
                wall, cpu = time.perf_counter(), time.process_time()
                async with db.transaction() as uow:
                    result = await rules.evaluate(uow, JUDGED, settings=settings, as_of=day)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(
                f"{day}: wall {wall:.2f}s cpu {cpu:.2f}s raised {len(result.raised)} "
                f"updated {len(result.updated)} resolved {len(result.resolved)} "
                f"(machine speed {speed:.3f}s{_workers_seen()})",
                flush=True,
            )
            if with_digests:
                print(f"  {await digests(db)}", flush=True)
    finally:
        workers.close_pools()
        await db.dispose()


def _workers_seen() -> str:
    """The evaluation workers' peak RSS (this process's multiprocessing children)."""
    peaks: list[int] = []
    for child in multiprocessing.active_children():
        status = Path(f"/proc/{child.pid}/status").read_text()
        peaks.extend(
            int(line.split()[1]) // 1024
            for line in status.splitlines()
            if line.startswith("VmHWM:")
        )
    return f"; worker peak RSS {', '.join(f'{p} MiB' for p in peaks)}" if peaks else ""


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.evaluation", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    prep = commands.add_parser("prepare", help="seed a milestone database")
    prep.add_argument("projects", type=int)
    prep.add_argument("path", help="a SQLite file, or a PostgreSQL URL")
    prep.add_argument("--months", type=int, default=24, help="months of reports per project")
    timed = commands.add_parser("run", help="time full passes on a copy of a prepared database")
    timed.add_argument("source", help="a prepared SQLite file or PostgreSQL URL")
    timed.add_argument("work", help="the copy the passes write (overwritten): a file, or a URL")
    timed.add_argument(
        "--days", type=int, nargs="+", default=[0, 0], help="each pass's day, from the data's"
    )
    timed.add_argument("--digest", action="store_true", help="digests after each pass")
    timed.add_argument(
        "--profile", type=Path, default=None, help="pyinstrument reports: <path>.pass<N>.txt"
    )
    timed.add_argument(
        "--workers",
        type=int,
        default=0,
        help="evaluation worker processes beside this one (SANPI_MILESTONE_EVALUATION_WORKERS)",
    )
    args = parser.parse_args()
    if args.command == "prepare":
        asyncio.run(prepare(args.projects, args.path, args.months))
    else:
        asyncio.run(run(args.source, args.work, args.days, args.digest, args.profile, args.workers))


if __name__ == "__main__":
    main()
