"""`sanpi dlq …`: look at dead-letter topics and redrive them to their source after a fix."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer
from rich.table import Table

from sanpi.client.cli.common import console
from sanpi.events import ALL_TOPICS, dead_letter_topic

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
    """Every record of TOPIC's dead-letter topic, with the consumer and the error."""
    from sanpi.kit.redrive import read_dead_letters

    letters = asyncio.run(read_dead_letters(_bootstrap(bootstrap), _dlq(topic)))
    table = Table("source", "consumer", "attempts", "error")
    for letter in letters:
        table.add_row(
            f"{letter.topic}@{letter.partition}/{letter.offset}",
            letter.consumer,
            str(letter.attempts),
            letter.error[:120],
        )
    console.print(table)
    console.print(f"{len(letters)} dead letters in {_dlq(topic)}")


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
    """Replay the dead letters of TOPIC (not redriven before) to their source topic and partition.
    Consumers that had applied a record skip it (inbox); the one that failed gets another try."""
    from sanpi.kit.redrive import redrive as run

    result = asyncio.run(
        run(_bootstrap(bootstrap), _dlq(topic), consumer_group=consumer, dry_run=dry_run)
    )
    verb = "would replay" if dry_run else "replayed"
    console.print(
        f"{verb} {len(result.replayed)} dead letters of {_dlq(topic)}"
        f"{f', skipped {result.skipped} of other consumers' if consumer else ''}"
    )
