"""Publishing events through the milestone timeline, timed, with digests of the rows it wrote.

Every domain change of the milestone service goes through `timeline.publish` (the envelope,
its serialisation, a timeline row and an outbox row, both inserted at commit); an evaluation's
first pass at province scale publishes ~10,000 `alert.raised`. This times N of them in one
transaction on SQLite, commit included (CPU by time.process_time), and digests every stored
byte of the rows with only the event ids and times masked: a change that only makes publishing
cheaper must not change the digests.

    .venv/bin/python -m bench.publish --events 10000 --repeat 3 --digest
    .venv/bin/python -m bench.publish --profile        # pyinstrument, one round
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import re
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.common import SQLITE_SYNCHRONOUS
from bench.evaluation import settings_for
from sanpi.events import AlertRaised, AlertRule, Category, ChainTag, Severity
from sanpi.kit.db import Database
from sanpi.milestone.app import create_app
from sanpi.milestone.timeline import service as timeline

RULES = list(AlertRule)
SEVERITIES = list(Severity)
CHAINS = list(ChainTag)
CATEGORIES = list(Category)
AS_OF = dt.date(2026, 5, 10)
RAISED_AT = dt.datetime(2026, 5, 10, 8, 30, 1, 250_000, tzinfo=dt.UTC)


def events(n: int) -> list[AlertRaised]:
    """N alerts as an evaluation raises them: Chinese text, some fields missing, floats."""
    found = []
    for i in range(n):
        project_id = f"{i:08d}-0000-4000-8000-{i * 7919 % 10**12:012d}"
        rule = RULES[i % len(RULES)]
        found.append(
            AlertRaised(
                alert_key=f"{rule}:{project_id}",
                rule=rule,
                severity=SEVERITIES[i % len(SEVERITIES)],
                scope="project",
                project_id=project_id,
                project_name=f"郑州高新区第{i}号智能制造产业园项目",
                park=["梧桐", "石佛", "沟赵", "须水"][i % 4],
                chain_tag=CHAINS[i % len(CHAINS)] if i % 5 else None,
                category=CATEGORIES[i % len(CATEGORIES)] if i % 3 else None,
                total_investment=50_000 + i if i % 7 else None,
                periods=[1 + i % 9, 2 + i % 9] if i % 2 else [],
                responsible_person="张三" if i % 4 else None,
                responsible_unit="高新区发改委" if i % 6 else None,
                sponsor_leader='李四 "副主任"' if i % 8 else None,
                title=f"{rule} 签约后 {i % 400} 天未开工",
                message="计划开工 2026-01-15，已逾期 115 天" if i % 9 else "",
                metric_value=[115.0, 0.1 + i / 3, 1e-7 * i, 12345678.9][i % 4] if i % 10 else None,
                threshold=[90.0, 0.5, 30.0][i % 3] if i % 11 else None,
                as_of=AS_OF,
                evaluation_id="eval-0001",
                first_raised_at=RAISED_AT + dt.timedelta(microseconds=i * 37),
            )
        )
    return found


async def publish_all(db: Database, batch: list[AlertRaised]) -> tuple[float, float]:
    """Wall and CPU seconds of publishing `batch` in one transaction, commit included."""
    wall, cpu = time.perf_counter(), time.process_time()
    async with db.transaction() as uow:
        for event in batch:
            timeline.publish(
                uow,
                event,
                project_id=event.project_id or "",
                by="rules",
                summary=f"预警 {event.rule} {event.severity}: {event.title}",
            )
    return time.perf_counter() - wall, time.process_time() - cpu


_DIGITS = re.compile(rb"[0-9]")


def _mask(value: bytes | str) -> bytes:
    """A timestamp's shape (its format), not its value."""
    return _DIGITS.sub(b"9", value.encode() if isinstance(value, str) else value)


def digests(path: Path) -> dict[str, str]:
    """Every stored byte of the outbox and timeline rows, event ids and times masked."""
    # sqlite3, not SQLAlchemy: the bytes as stored, not as a type decodes them.
    with sqlite3.connect(path) as c:
        outbox = c.execute(
            "SELECT id, event_id, event_type, topic, key, value, headers, created_at,"
            " typeof(value), typeof(headers), typeof(created_at) FROM outbox ORDER BY id"
        ).fetchall()
        entries = c.execute("SELECT * FROM timeline_entry ORDER BY id").fetchall()
        columns = [r[1] for r in c.execute("PRAGMA table_info(timeline_entry)")]
    ids: dict[str, int] = {}
    o = hashlib.sha256()
    for row in outbox:
        event_id = row[1]
        ids[event_id] = len(ids)
        value = bytes(row[5]) if isinstance(row[5], bytes) else row[5].encode()
        found = re.search(rb'"time":"([^"]+)"', value)
        assert found is not None, value
        value = value.replace(event_id.encode(), b"<ID>").replace(
            found.group(0), b'"time":"' + _mask(found.group(1)) + b'"'
        )
        headers = str(row[6]).replace(event_id, "<ID>")
        o.update(repr((row[0], row[2:5], value, headers, _mask(row[7]), row[8:])).encode())
    t = hashlib.sha256()
    for entry in entries:
        masked = dict(zip(columns, entry, strict=True))
        masked["event_id"] = ids.get(masked["event_id"], masked["event_id"])
        masked["at"] = _mask(masked["at"])
        t.update(repr(sorted(masked.items())).encode())
    return {
        "outbox": f"{len(outbox)}:{o.hexdigest()[:16]}",
        "timeline": f"{len(entries)}:{t.hexdigest()[:16]}",
    }


async def schema(path: Path) -> None:
    """A milestone database at head (the app's start-up migrates it)."""
    app = create_app(settings_for(f"sqlite+aiosqlite:///{path}", path.parent))
    async with app.router.lifespan_context(app):
        pass


async def run(n: int, repeat: int, with_digests: bool, profile: bool) -> None:
    batch = events(n)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "milestone.db"
        await schema(path)
        url = f"sqlite+aiosqlite:///{path}"
        for round_ in range(repeat):
            db = Database(url, sqlite_synchronous=SQLITE_SYNCHRONOUS)
            try:
                async with db.engine.begin() as c:  # each round on empty tables
                    await c.exec_driver_sql("DELETE FROM outbox")
                    await c.exec_driver_sql("DELETE FROM timeline_entry")
                if profile:
                    from pyinstrument import Profiler

                    profiler = Profiler(interval=0.0005)
                    profiler.start()
                wall, cpu = await publish_all(db, batch)
                if profile:
                    profiler.stop()
                    print(profiler.output_text(unicode=True, show_all=False))
                per = 10_000 / n
                print(
                    f"round {round_}: {n} events: wall {wall:.3f}s cpu {cpu:.3f}s"
                    f" (cpu {cpu * per:.3f}s per 10k)",
                    flush=True,
                )
            finally:
                await db.dispose()
            if with_digests:
                print(f"  {digests(path)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.publish", description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--digest", action="store_true", help="digests after each round")
    parser.add_argument("--profile", action="store_true", help="pyinstrument each round")
    args = parser.parse_args()
    asyncio.run(run(args.events, args.repeat, args.digest, args.profile))


if __name__ == "__main__":
    main()
