"""`sanpi-admin rebuild <service>`: rebuild a service's projections from its topics (bulk replay
into shadow tables, one swap, the consumer group set to resume after the replay)."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sanpi.kit.rebuild import Progress, Projection, Rebuilt

console = Console()
err = Console(stderr=True)

# The rebuildable projections, by service: what each rebuilds (its module sanpi.<service>.rebuild
# holds the bulk code; a test checks the two agree).
PROJECTIONS: dict[str, dict[str, str]] = {
    "registry": {
        "stage": "项目阶段及各阶段达成日 (project.stage…effective_date) ← sanpi.milestones",
        "funds": "到位资金 (funds_report) ← sanpi.milestones progress.reported",
    },
    "milestone": {
        "tracked": "跟踪项目的主数据、制造业、期次 (tracked_project) ← sanpi.projects",
        "targets": "年度目标 (portfolio_target) ← sanpi.projects target.set",
    },
    "notification": {
        "project_view": "项目视图 (notification_project_view) ← sanpi.projects",
    },
}

HELP = (
    "从主题重建服务的投影 (rebuild a service's projections from the topics it consumes).\n\n"
    "Reads each topic from its first record to the end it has now, folds the events in batches "
    "of thousands into shadow tables (rebuild__*) of the service's database, then, in one "
    "transaction, copies them over the live rows, and sets the service's consumer group to "
    "resume where the replay ended. Nothing is notified, no inbox row is written, no rule is "
    "evaluated (the milestone service's sweep evaluates the projects whose data changed when it "
    "starts). The service's own data (projects, milestones, reports, subscriptions, deliveries) "
    "is not touched.\n\n"
    "先停止该服务的全部副本 (stop EVERY replica of the service first): a consumer group with "
    "members is refused, before the replay and again before the swap.\n\n"
    "Projections (--projection):\n\n"
    + "\n\n".join(
        f"{service}: " + "; ".join(f"{name} = {what}" for name, what in names.items())
        for service, names in PROJECTIONS.items()
    )
    + "\n\nThe database, broker and group are the service's settings (SANPI_<SERVICE>_DATABASE_URL, "
    "…_KAFKA_BOOTSTRAP, …_CONSUMER_GROUP, as the service reads them), or the options below."
)

ServiceArg = Annotated[str, typer.Argument(help="registry, milestone or notification")]
ProjectionOpt = Annotated[
    list[str] | None,
    typer.Option("--projection", help="only this projection (repeat it); default: all of them"),
]
UrlOpt = Annotated[str | None, typer.Option(help="the service's database URL")]
BootstrapOpt = Annotated[str | None, typer.Option(help="Kafka bootstrap server(s)")]
GroupOpt = Annotated[str | None, typer.Option(help="the service's consumer group")]
TopicOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--topic",
        help="TOPIC=OTHER: read OTHER in place of TOPIC (a copied or renamed topic; repeat it)",
    ),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]{message}[/red]")
    return typer.Exit(code)


def chosen(service: str, names: Sequence[str] | None) -> list[Projection]:
    """The service's projections, those named only when names are given."""
    known = PROJECTIONS.get(service)
    if known is None:
        raise _fail(f"未知的服务 {service} (unknown service): 可选 {', '.join(PROJECTIONS)}")
    unknown = [n for n in names or [] if n not in known]
    if unknown:
        raise _fail(
            f"{service} 没有投影 {', '.join(unknown)} (no such projection): 可选 {', '.join(known)}"
        )
    module: Any = importlib.import_module(f"sanpi.{service}.rebuild")
    every: list[Projection] = module.projections()
    return [p for p in every if not names or p.name in names]


def _topics(pairs: Sequence[str] | None) -> dict[str, str]:
    mapped: dict[str, str] = {}
    for pair in pairs or []:
        topic, sep, other = pair.partition("=")
        if not sep or not topic or not other:
            raise _fail(f"--topic {pair}: 应为 TOPIC=OTHER (expected TOPIC=OTHER)")
        mapped[topic] = other
    return mapped


def _progress(progress: Progress) -> None:
    console.print(progress.line())


async def run(
    service: str,
    projections: Sequence[Projection],
    *,
    database_url: str,
    bootstrap: str,
    group: str,
    topics: dict[str, str],
) -> Rebuilt:
    """The rebuild itself (the command, and tests, call it)."""
    from sanpi.kit.db import Database
    from sanpi.kit.rebuild import rebuild

    db = Database(database_url, event_source=f"/sanpi/{service}")
    try:
        return await rebuild(
            db, projections, bootstrap=bootstrap, group=group, topics=topics, report=_progress
        )
    finally:
        await db.dispose()


def command(
    service: ServiceArg,
    projection: ProjectionOpt = None,
    database_url: UrlOpt = None,
    bootstrap: BootstrapOpt = None,
    group: GroupOpt = None,
    topic: TopicOpt = None,
) -> None:
    from aiokafka.errors import KafkaError

    from sanpi.kit.rebuild import ServiceRunning

    projections = chosen(service, projection)
    topics = _topics(topic)
    settings: Any = importlib.import_module(f"sanpi.{service}.rebuild").settings()
    url = database_url or settings.effective_database_url
    servers = bootstrap or settings.kafka_bootstrap
    group_id = group or settings.group_id
    names = ", ".join(p.name for p in projections)
    console.print(f"重建 {service} 的投影 {names} (rebuilding), 消费组 {group_id}, Kafka {servers}")
    try:
        done = asyncio.run(
            run(
                service,
                projections,
                database_url=url,
                bootstrap=servers,
                group=group_id,
                topics=topics,
            )
        )
    except ServiceRunning as exc:
        raise _fail(str(exc), 1) from None
    except KafkaError as exc:
        raise _fail(f"无法使用 Kafka {servers} (Kafka unavailable): {exc!r}", 1) from None
    progress = done.progress
    console.print(
        f"完成 (done): {progress.total:,} 条事件 in {progress.elapsed_s:.1f} s "
        f"({progress.total / progress.elapsed_s:,.0f} 条/s, CPU {progress.cpu_s:.1f} s)"
        + (
            f", {progress.skipped} 条无法解码已跳过 (undecodable, skipped)"
            if progress.skipped
            else ""
        )
    )
    for name, rows in done.rows.items():
        console.print(f"  {name}: {rows:,} 行 (rows)")
    for name, partitions in sorted(done.resumes_at.items()):
        where = ", ".join(f"{p}@{o}" for p, o in sorted(partitions.items()))
        console.print(f"  {group_id} 从 {name} {where} 继续 (resumes at)")
