"""The scale bench's replay alone: a milestone projection rebuilt from the registry's events, timed.

For iterating on the replay in seconds instead of `python -m bench --only scale` (minutes):
`prepare` imports N province projects into a registry as the scale bench's part 1 does (without
its timed reads) and saves the events it emitted, once; `run` replays them as part 3 does (a
fresh topic on a running broker, a fresh milestone database, the kit's EventConsumer with the
service's handlers) and prints events/s, CPU-s per 1,000 events (this process, consumer and
evaluation included), the evaluation passes, and digests of what the replay wrote (they must
not change with a change that only makes the replay faster).

    .venv/bin/python -m bench.replay prepare 5000 /tmp/replay5k.jsonl
    .venv/bin/python -m bench.replay run /tmp/replay5k.jsonl --bootstrap 127.0.0.1:9092
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from prometheus_client import REGISTRY

from bench.common import SQLITE_SYNCHRONOUS, BenchResult
from bench.evaluation import digests
from bench.scale import Sizes, registry_part, replay_part
from sanpi.client.demo.generator import province
from sanpi.kit.db import Database
from sanpi.kit.outbox import OutboxMessage


async def prepare(projects: int) -> list[OutboxMessage]:
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite+aiosqlite:///{Path(work) / 'registry.db'}"
        sizes = Sizes(projects=projects, runs=1, history_months=0)
        rows = await registry_part(
            BenchResult("replay"), province(projects), sizes, Path(work), url
        )
    return rows


def passes() -> tuple[float, float]:
    count = REGISTRY.get_sample_value("sanpi_rule_evaluation_batch_projects_count") or 0.0
    total = REGISTRY.get_sample_value("sanpi_rule_evaluation_batch_projects_sum") or 0.0
    return count, total


async def run(rows: list[OutboxMessage], bootstrap: str, keep: Path | None, profile: bool) -> None:
    result = BenchResult("replay")
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite+aiosqlite:///{keep or Path(work) / 'milestone.db'}"
        await replay_part(result, rows, Path(work), bootstrap, url, profile)
        count, total = passes()
        for figure in result.figures:
            print(f"  {figure.name}: {figure.value:,.3f} {figure.unit}")
        print(f"  evaluation passes: {count:.0f}, projects evaluated: {total:.0f}")
        db = Database(url, sqlite_synchronous=SQLITE_SYNCHRONOUS)
        try:
            print(f"  {await digests(db, unordered=True)}")
        finally:
            await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    prepared = commands.add_parser("prepare", help="the registry's events of N projects, once")
    prepared.add_argument("projects", type=int)
    prepared.add_argument("path", type=Path)
    timed = commands.add_parser("run", help="one timed replay of the saved events")
    timed.add_argument("path", type=Path)
    timed.add_argument("--bootstrap", required=True, help="a running broker, host:port")
    timed.add_argument("--keep", type=Path, help="the milestone database here (a new file)")
    timed.add_argument("--profile", action="store_true", help="pyinstrument (as bench --profile)")
    args = parser.parse_args()
    if args.command == "prepare":
        rows = asyncio.run(prepare(args.projects))
        args.path.write_text("".join(row.model_dump_json() + "\n" for row in rows))
        print(f"{len(rows)} events saved to {args.path}")
    else:
        rows = [OutboxMessage.model_validate_json(line) for line in args.path.open()]
        for row in rows:  # a table model is not validated: its value comes back as text
            row.value = row.value.encode() if isinstance(row.value, str) else row.value
        asyncio.run(run(rows, args.bootstrap, args.keep, args.profile))


if __name__ == "__main__":
    main()
