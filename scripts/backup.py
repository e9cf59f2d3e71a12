"""Backs up a sanpi stack and restores it: every service's database, and where each consumer group
and topic stood in Kafka, so that a restore knows what to replay (make backup, make restore).

    .venv/bin/python -m scripts.backup backup [--db sqlite|postgres] [--to DIR]
    .venv/bin/python -m scripts.backup restore DIR [--db sqlite|postgres]
    .venv/bin/python -m scripts.backup replay DIR [--db sqlite|postgres]
    .venv/bin/python -m scripts.backup list

backup   While everything runs. First the Kafka positions (each service's consumer group's
         committed offsets, every topic's end offsets: kafka.json, and offsets-<group>.csv for
         kafka-consumer-groups.sh --reset-offsets --from-file), then each database: SQLite by
         its online backup API (a consistent copy of a database being written), PostgreSQL by
         pg_dump (custom format). Into .run/backups/<UTC time>/ unless --to says where.
restore  With the services stopped (every replica: the consumer groups must have no member).
         Puts each database back (SQLite: the file; the one it replaces is kept beside it;
         PostgreSQL: pg_restore --clean), then does what `replay` does.
replay   The Kafka side of a restore, for a database restored by other means (docker compose,
         Kubernetes): sets each consumer group back to the offsets saved with the backup, so that
         the events since are applied again (the restored inboxes skip what the backup held), and
         records the notifications delivered since the backup as delivered (sanpi.notifications
         says which), so that nobody is notified twice. Then says what was replayed and which
         events the services published after the backup: their own changes behind those events
         are not in the restored databases (re-enter them; read_topic.py --after DIR lists them).

Each service's database and Kafka come from the same settings the services read
(SANPI_<SERVICE>_DATABASE_URL, SANPI_DATA_DIR, SANPI_KAFKA_BOOTSTRAP, SANPI_<SERVICE>_CONSUMER_GROUP);
with --db postgres a service without a DATABASE_URL uses the local cluster (deploy/postgres/pg.sh).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import importlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from sanpi.events import Topic
from sanpi.kit.offsets import (
    GroupBusy,
    KafkaPositions,
    group_members,
    restore_groups,
    save_positions,
    topic_ends,
)
from sanpi.kit.settings import ServiceSettings
from scripts import stack

ROOT = stack.ROOT
BACKUPS = stack.RUN / "backups"


@dataclass(frozen=True)
class Part:
    """One service as the backup sees it: where its database is, whether it consumes."""

    name: str
    settings: ServiceSettings

    @property
    def url(self) -> str:
        return self.settings.effective_database_url

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path:
        return Path(make_url(self.url).database or "")

    @property
    def consumes(self) -> bool:
        return bool(self.settings.kafka_enabled) and self.name != "portal"

    @property
    def group(self) -> str:
        return self.settings.group_id

    @property
    def file(self) -> str:
        return f"{self.name}.db" if self.is_sqlite else f"{self.name}.dump"


def settings_of(name: str) -> ServiceSettings:
    """The service's settings from this environment, as the service itself would read them."""
    module = importlib.import_module(f"sanpi.{name}.settings")
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, ServiceSettings)
            and getattr(value, "SERVICE", None) == name
        ):
            settings: ServiceSettings = value()
            return settings
    raise SystemExit(f"sanpi.{name}.settings defines no settings of the {name} service")


def parts(db: str) -> list[Part]:
    """The services as `make up` runs them: its broker (KAFKA_PORT moves it, as for make up)
    unless SANPI_KAFKA_BOOTSTRAP says otherwise, its databases."""
    if not os.environ.get("SANPI_KAFKA_BOOTSTRAP"):
        port = stack.stack_ports(db)["kafka"]
        os.environ["SANPI_KAFKA_BOOTSTRAP"] = f"127.0.0.1:{port}"
    if db == "postgres":
        for name in stack.SERVICES:
            variable = f"SANPI_{name.upper()}_DATABASE_URL"
            if not os.environ.get(variable):
                os.environ[variable] = pg("url", name)
    return [Part(name, settings_of(name)) for name in stack.SERVICES]


def pg(*args: str) -> str:
    return subprocess.run(
        [str(stack.PG_SH), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def pg_binary(name: str) -> str:
    """pg_dump / pg_restore of the newest installed server (Debian keeps them per version)."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob(f"[0-9]*/bin/{name}"), key=lambda p: int(p.parts[-3])
    )
    found = str(versions[-1]) if versions else shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} missing: `make postgres-server` installs Debian's PostgreSQL")
    return found


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy URL → a libpq connection URI without the password, and the environment
    that carries it (a password on a command line is readable by every user in `ps`)."""
    parsed = make_url(url).set(drivername="postgresql")
    password = parsed.password or ""
    return parsed.set(password=None).render_as_string(hide_password=False), {
        **os.environ,
        "PGPASSWORD": str(password),
    }


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- backup -------------------------------------------------------------------------------------


def copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while the service writes (the WAL included)."""
    if not source.exists():
        raise SystemExit(f"no database at {source}: is this the stack's data directory?")
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    with sqlite3.connect(target) as copy:
        (verdict,) = copy.execute("pragma integrity_check").fetchone()
    if verdict != "ok":
        raise SystemExit(f"the copy of {source} fails its integrity check: {verdict}")


def backup(db: str, target: Path | None) -> int:
    services = parts(db)
    consumers = [p for p in services if p.consumes]
    bootstrap = services[0].settings.kafka_bootstrap
    started = dt.datetime.now(dt.UTC)
    directory = target or BACKUPS / started.strftime("%Y%m%dT%H%M%SZ")
    directory.mkdir(parents=True, exist_ok=False)
    # Before the databases are copied (sanpi.kit.offsets.save_positions says why).
    positions = asyncio.run(
        save_positions(bootstrap, [p.group for p in consumers], [t.value for t in Topic])
    )
    files = {}
    for part in services:
        path = directory / part.file
        if part.is_sqlite:
            copy_sqlite(part.sqlite_path, path)
        else:
            uri, env = libpq(part.url)
            dump = [pg_binary("pg_dump"), "--format=custom", f"--file={path}", uri]
            subprocess.run(dump, check=True, env=env)
        files[part.name] = {"file": part.file, "bytes": path.stat().st_size, "sha256": sha256(path)}
        print(f"  {part.name:<13} {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    positions.write(directory / "kafka.json")
    manifest = {
        "started_at": started.isoformat(),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(),
        "db": "sqlite" if all(p.is_sqlite for p in services) else "postgres",
        "services": files,
        "groups": {p.name: p.group for p in consumers},
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"backup in {directory} (databases, kafka.json, offsets-<group>.csv, manifest.json)")
    return 0


# --- restore ------------------------------------------------------------------------------------


def running_services(services: list[Part]) -> list[str]:
    """Services of this stack that still run (their pid files under the data directory)."""
    found = []
    for part in services:
        run_dir = Path(part.settings.data_dir)
        if stack.read_pid(run_dir / "pids" / f"{part.name}.pid", f"sanpi.{part.name}"):
            found.append(part.name)
    return found


def restore_sqlite(part: Part, source: Path) -> Path | None:
    """Puts the copy in place of the database; the replaced files go to <db>.replaced-<time>/."""
    target = part.sqlite_path
    target.parent.mkdir(parents=True, exist_ok=True)
    kept = None
    existing = [target.with_name(target.name + s) for s in ("", "-wal", "-shm")]
    if any(p.exists() for p in existing):
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = target.with_name(f"{target.name}.replaced-{stamp}")
        kept.mkdir()
        for path in existing:
            if path.exists():
                path.rename(kept / path.name)
    shutil.copyfile(source, target.with_name(target.name + ".restoring"))
    target.with_name(target.name + ".restoring").rename(target)
    return kept


def restore_postgres(part: Part, source: Path) -> None:
    uri, env = libpq(part.url)
    command = [
        pg_binary("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        f"--dbname={uri}",
        str(source),
    ]
    subprocess.run(command, check=True, env=env)


def restore(db: str, directory: Path) -> int:
    manifest = json.loads((directory / "manifest.json").read_text())
    services = parts(db)
    running = running_services(services)
    if running:
        raise SystemExit(f"stop the services first ({', '.join(running)} still run: make down)")
    busy = asyncio.run(busy_groups(services))
    if busy:
        # Replicas elsewhere (another host, a container) still consume: they would write into
        # the database being replaced, and commit offsets over the ones set back.
        raise SystemExit(
            f"consumer groups still have members: {', '.join(busy)}; stop every replica first"
        )
    for part in services:
        saved = manifest["services"].get(part.name)
        if saved is None:
            print(f"  {part.name:<13} not in this backup: left as it is")
            continue
        source = directory / saved["file"]
        if sha256(source) != saved["sha256"]:
            raise SystemExit(f"{source} is not the file the backup wrote (sha256 differs)")
        if part.is_sqlite != source.name.endswith(".db"):
            raise SystemExit(
                f"{source} is a {manifest['db']} backup; restore it with --db {manifest['db']}"
            )
        if part.is_sqlite:
            kept = restore_sqlite(part, source)
            note = f" (the database it replaced: {kept})" if kept else ""
            print(f"  {part.name:<13} restored {part.sqlite_path}{note}")
        else:
            restore_postgres(part, source)
            print(f"  {part.name:<13} restored {make_url(part.url).database} (pg_restore --clean)")
    return replay(db, directory, services)


async def busy_groups(services: list[Part]) -> list[str]:
    return [
        p.group
        for p in services
        if p.consumes and await group_members(p.settings.kafka_bootstrap, p.group)
    ]


def replay(db: str, directory: Path, services: list[Part] | None = None) -> int:
    services = services or parts(db)
    positions = KafkaPositions.load(directory / "kafka.json")
    groups = [p.group for p in services if p.consumes]
    bootstrap = services[0].settings.kafka_bootstrap
    try:
        replayed = asyncio.run(restore_groups(positions, groups, bootstrap=bootstrap))
    except GroupBusy as exc:
        raise SystemExit(f"{exc}: stop every replica first") from None
    for group, counts in replayed.items():
        topics = ", ".join(f"{n} of {t}" for t, n in sorted(counts.items())) or "nothing"
        print(f"  {group:<22} set back to the backup's offsets: applies again {topics}")
    if any(p.name == "notification" for p in services):
        recovered = subprocess.run(
            [
                sys.executable,
                "-m",
                "sanpi.notification",
                "recover-deliveries",
                str(directory / "kafka.json"),
            ],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        print(f"  {'notification':<22} {recovered.stdout.strip()}")
    now = asyncio.run(topic_ends(bootstrap, list(positions.ends)))
    print(
        "\npublished since the backup (the changes behind them are not in the restored databases):"
    )
    for topic, saved in sorted(positions.ends.items()):
        since = sum(max(0, now.get(topic, {}).get(p, o) - o) for p, o in saved.items())
        hint = (
            f"   .venv/bin/python scripts/read_topic.py {topic} --after {directory}"
            if since
            else ""
        )
        print(f"  {topic:<22} {since}{hint}")
    print("\nstart the services (make up): they apply the events since the backup, then carry on")
    return 0


def listing() -> int:
    for path in sorted(BACKUPS.glob("*/manifest.json")):
        manifest = json.loads(path.read_text())
        size = sum(s["bytes"] for s in manifest["services"].values())
        print(f"{path.parent}  {manifest['db']:<8} {size / 1e6:8.1f} MB  {manifest['started_at']}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add_db(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--db",
            choices=["sqlite", "postgres"],
            default="sqlite",
            help="postgres: the local cluster for services without a DATABASE_URL",
        )

    take = sub.add_parser("backup", help="back up the running stack")
    add_db(take)
    take.add_argument("--to", type=Path, help="the new backup's directory")
    back = sub.add_parser("restore", help="restore a backup (services stopped)")
    back.add_argument("directory", type=Path)
    add_db(back)
    again = sub.add_parser("replay", help="only the Kafka side of a restore")
    again.add_argument("directory", type=Path)
    add_db(again)
    sub.add_parser("list", help="the backups under .run/backups")
    args = parser.parse_args()
    if args.command == "backup":
        return backup(args.db, args.to)
    if args.command == "restore":
        return restore(args.db, args.directory)
    if args.command == "replay":
        return replay(args.db, args.directory)
    return listing()


if __name__ == "__main__":
    sys.exit(main())
