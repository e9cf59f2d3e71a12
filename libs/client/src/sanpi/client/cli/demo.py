"""`sanpi demo …`: load the 郑州高新区 demo or the province benchmark set through the public API."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from sanpi.client.cli.common import TokenOpt, client, console, err, fail
from sanpi.client.demo import generator
from sanpi.client.demo.loader import load_district, load_province
from sanpi.client.sdk import ApiError

app = typer.Typer(
    help="Demo data sets (docs/domain.md#demo-and-benchmark-data), loaded over the services' APIs.",
    no_args_is_help=True,
)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    )


@app.command("load")
def load(
    seed: Annotated[
        int, typer.Option(help="the RNG seed; the same seed gives the same data")
    ] = 2023,
    milestones: Annotated[
        bool, typer.Option(help="post milestones to the milestone service")
    ] = True,
    wait: Annotated[
        float, typer.Option(help="seconds to wait for the milestone service per project")
    ] = 60.0,
    token: TokenOpt = None,
) -> None:
    """Load the 郑州高新区 district demo: its periods on their days on record, 4 parks, the
    projects of the cited lists and generated ones around them, the 2023 targets, milestones and
    旬/月 reports, evaluated as of the demo's day (pinned). Safe to run again: nothing is
    duplicated."""
    data = generator.district(seed)
    started = time.monotonic()
    with client(token) as sanpi, _progress() as bar:
        tasks: dict[str, TaskID] = {}

        def progress(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done)

        try:
            summary = load_district(
                sanpi, data, progress=progress, milestones=milestones, wait_timeout=wait
            )
        except ApiError as exc:
            fail(exc)
        except RuntimeError as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
    console.print(
        f"district demo (seed {seed}): {summary.projects} projects, {summary.listings} listings, "
        f"{summary.periods} periods, {summary.milestones} milestones posted "
        f"({summary.skipped_milestones} already there), {summary.progress_calls} progress calls "
        f"(plans, 旬/月 reports, replans), {summary.cancelled} cancelled "
        f"in {time.monotonic() - started:.1f}s"
    )


@app.command("province")
def province(
    projects: Annotated[
        int, typer.Option(help="unique projects (docs/domain.md#province-benchmark: ~20,000)")
    ] = 20_000,
    seed: Annotated[int, typer.Option()] = 15,
    chunk: Annotated[int, typer.Option(help="rows per bulk import request")] = 2_000,
    token: TokenOpt = None,
) -> None:
    """Load the province benchmark set by bulk import. The registry must know the province's parks:
    start it with SANPI_REGISTRY_PARKS=$(sanpi demo parks --province)."""
    data = generator.province(projects, seed)
    started = time.monotonic()
    with client(token) as sanpi, _progress() as bar:
        task = bar.add_task("projects", total=len(data.projects))
        try:
            summary = load_province(
                sanpi,
                data,
                chunk=chunk,
                progress=lambda _s, done, _t: bar.update(task, completed=done),
            )
        except ApiError as exc:
            fail(exc)
        except RuntimeError as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
    console.print(
        f"province set (seed {seed}): {summary.projects} projects imported now, "
        f"{summary.listings} listings in the set, in {time.monotonic() - started:.1f}s"
    )


@app.command("parks")
def parks(
    province_parks: Annotated[
        bool, typer.Option("--province", help="the province set's parks")
    ] = False,
    seed: Annotated[int, typer.Option()] = 15,
) -> None:
    """Print a data set's parks as JSON, the value SANPI_REGISTRY_PARKS takes."""
    names = generator.province_parks(seed) if province_parks else list(generator.PARK_WEIGHTS)
    print(json.dumps(names, ensure_ascii=False))
