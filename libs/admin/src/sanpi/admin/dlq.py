"""`sanpi-admin dlq …`: look at dead-letter topics and redrive them to their source after a fix."""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from sanpi.events import ALL_TOPICS, dead_letter_topic

if TYPE_CHECKING:
    from sanpi.kit.redrive import DeadLetter

console = Console()

app = typer.Typer(
    help="Dead-letter topics: what the consumers gave up on, and replaying it after a fix.\n\n"
    "Talks to Kafka directly: --bootstrap, else SANPI_KAFKA_BOOTSTRAP, else 127.0.0.1:9092.",
    no_args_is_help=True,
)

BootstrapOpt = Annotated[str | None, typer.Option(help="Kafka bootstrap server(s)")]
TopicOpt = Annotated[
    str, typer.Option("--topic", help=f"source topic ({', '.join(ALL_TOPICS)}); its .dlq is read")
]


def _bootstrap(explicit: str | None) -> str:
    return explicit or os.environ.get("SANPI_KAFKA_BOOTSTRAP", "127.0.0.1:9092")


def _dlq(topic: str) -> str:
    if topic.endswith(".dlq"):
        return topic
    return dead_letter_topic(topic)


@app.command("list")
def list_dead_letters(topic: TopicOpt, bootstrap: BootstrapOpt = None) -> None:
    """Every record of TOPIC's dead-letter topic: where it came from, the consumer group that
    gave up on it and why, and whether it was redriven for that group since."""
    from sanpi.kit.redrive import read_dead_letters, redriven_up_to

    async def read() -> list[tuple[DeadLetter, bool]]:
        letters = await read_dead_letters(_bootstrap(bootstrap), _dlq(topic))
        partitions = {letter.dlq_partition for letter in letters}
        upto = {
            consumer: await redriven_up_to(_bootstrap(bootstrap), _dlq(topic), consumer, partitions)
            for consumer in {letter.consumer for letter in letters}
        }
        return [
            (letter, letter.dlq_offset < upto[letter.consumer][letter.dlq_partition])
            for letter in letters
        ]

    rows = asyncio.run(read())
    table = Table("source", "consumer", "attempts", "redriven", "error")
    for letter, redriven in rows:
        table.add_row(
            f"{letter.topic}@{letter.partition}/{letter.offset}",
            letter.consumer,
            str(letter.attempts),
            "yes" if redriven else "no",
            letter.error[:120],
        )
    console.print(table)
    console.print(f"{len(rows)} dead letters in {_dlq(topic)}")


@app.command("redrive")
def redrive(
    topic: TopicOpt,
    consumer: Annotated[
        str | None,
        typer.Option(help="only what this consumer group gave up on, e.g. sanpi-milestone"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="show what would be replayed, replay nothing")
    ] = False,
    bootstrap: BootstrapOpt = None,
) -> None:
    """Replay the dead letters of TOPIC to their source topic and partition: those of every
    consumer group, or of --consumer only, that were not redriven for their group before.
    Consumers that had applied a record skip it (inbox); the one that failed gets another try.
    Each group's letters are replayed once, in whatever order the groups are redriven."""
    from sanpi.kit.redrive import redrive as run

    result = asyncio.run(
        run(_bootstrap(bootstrap), _dlq(topic), consumer_group=consumer, dry_run=dry_run)
    )
    verb = "would replay" if dry_run else "replayed"
    console.print(
        f"{verb} {len(result.replayed)} dead letters of {_dlq(topic)}"
        f"{f', skipped {result.skipped} of other consumers' if consumer else ''}"
        f"{f', {result.earlier} redriven before' if result.earlier else ''}"
    )
