"""Runs a service: `python -m sanpi.<service>` serves, `... migrate` upgrades its database and exits."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import uvicorn
from fastapi import FastAPI

from sanpi.kit.logs import configure_logging
from sanpi.kit.migrations import Migrations, alembic_command, migrate
from sanpi.kit.settings import ServiceSettings


def frozen_after(app_factory: Callable[[], FastAPI]) -> Callable[[], FastAPI]:
    """The factory, followed by moving everything alive then (modules, routes, models) out of the
    garbage collector's sight: those objects live as long as the process, and each full
    collection walked them again (0.18 → 0.05 ms of collection per progress report, measured
    in-process over 800 reports)."""

    def factory() -> FastAPI:
        app = app_factory()
        gc.collect()
        gc.freeze()
        return app

    return factory


def _logging(settings: ServiceSettings) -> None:
    configure_logging(
        settings.log_level, log_format=settings.log_format, service=f"sanpi-{settings.SERVICE}"
    )


def serve(app_factory: Callable[[], FastAPI], settings: ServiceSettings) -> None:
    """Serves until SIGTERM/SIGINT; in-flight requests get 20 s to finish before shutdown."""
    _logging(settings)
    uvicorn.run(
        frozen_after(app_factory),
        factory=True,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=20,
    )


# A command of one service's own: its settings and the arguments after its name.
Command = Callable[[Any, list[str]], None]


def main(
    app_factory: Callable[[], FastAPI],
    settings: ServiceSettings,
    migrations: Migrations,
    argv: Sequence[str] | None = None,
    commands: Mapping[str, Command] | None = None,
) -> None:
    """The service's command line.

    python -m sanpi.<service>                 serve (upgrading the database to head first)
    python -m sanpi.<service> migrate         upgrade the database to head, then exit
    python -m sanpi.<service> alembic ARGS    any Alembic command on the service's history
    python -m sanpi.<service> NAME ARGS       a command of the service's own (`commands`)
    """
    args = list(sys.argv[1:] if argv is None else argv)
    own = dict(commands or {})
    if not args:
        serve(app_factory, settings)
    elif args == ["migrate"]:
        _logging(settings)
        asyncio.run(migrate(settings.effective_database_url, migrations))
    elif args[0] == "alembic":
        _logging(settings)
        alembic_command(migrations, settings.effective_database_url, args[1:])
    elif args[0] in own:
        configure_logging(settings.log_level)
        own[args[0]](settings, args[1:])
    else:
        names = " | ".join(["migrate", "alembic ARGS", *(f"{n} ..." for n in sorted(own))])
        sys.exit(f"usage: python -m sanpi.{migrations.service} [{names}]")
