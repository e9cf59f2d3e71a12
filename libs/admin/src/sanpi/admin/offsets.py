"""`sanpi-admin offsets …`: save where the consumer groups and topics stand (with a database backup),
and set the groups back there after a restore, from anywhere that reaches Kafka (a service's
container in docker compose or Kubernetes included)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from sanpi.events import ALL_TOPICS

console = Console()

app = typer.Typer(
    help="Kafka positions of a backup: `save` before the databases are dumped, `restore` after "
    "they are restored (services stopped), then `python -m sanpi.notification recover-deliveries`."
    "\n\nTalks to Kafka directly: --bootstrap, else SANPI_KAFKA_BOOTSTRAP, else 127.0.0.1:9092.",
    no_args_is_help=True,
)

DEFAULT_GROUPS = ["sanpi-registry", "sanpi-milestone", "sanpi-notification"]
BootstrapOpt = Annotated[str | None, typer.Option(help="Kafka bootstrap server(s)")]
GroupsOpt = Annotated[
    list[str] | None,
    typer.Option("--group", help="a consumer group (repeat it); default: the three services'"),
]
FileArg = Annotated[Path, typer.Argument(help="the positions file (kafka.json of a backup)")]


def _bootstrap(explicit: str | None) -> str:
    return explicit or os.environ.get("SANPI_KAFKA_BOOTSTRAP", "127.0.0.1:9092")


@app.command("save")
def save(file: FileArg, group: GroupsOpt = None, bootstrap: BootstrapOpt = None) -> None:
    """Write the groups' committed offsets and every sanpi topic's end offsets to FILE, and
    FILE's offsets-<group>.csv beside it (for kafka-consumer-groups.sh --from-file)."""
    from sanpi.kit.offsets import save_positions

    groups = group or DEFAULT_GROUPS
    positions = asyncio.run(save_positions(_bootstrap(bootstrap), groups, ALL_TOPICS))
    positions.write(file)
    console.print(f"saved the positions of {', '.join(positions.groups)} to {file}")


@app.command("restore")
def restore(file: FileArg, group: GroupsOpt = None, bootstrap: BootstrapOpt = None) -> None:
    """Set each group back to its offsets in FILE (every consumer of it stopped): the events
    published since are applied again when the services start."""
    from sanpi.kit.offsets import GroupBusy, KafkaPositions, restore_groups

    positions = KafkaPositions.load(file)
    try:
        replayed = asyncio.run(
            restore_groups(
                positions, group or list(positions.groups), bootstrap=_bootstrap(bootstrap)
            )
        )
    except GroupBusy as exc:
        console.print(f"[red]{exc}: stop every replica first[/red]")
        raise typer.Exit(1) from None
    for name, counts in replayed.items():
        topics = ", ".join(f"{n} of {t}" for t, n in sorted(counts.items())) or "nothing"
        console.print(f"{name}: set back; applies again {topics}")
