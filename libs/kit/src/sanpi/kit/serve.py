"""Runs a service: `python -m sanpi.<service>` serves, `... migrate` upgrades its database and exits."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Callable, Mapping, Sequence

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


def serve(app_factory: Callable[[], FastAPI], settings: ServiceSettings) -> None:
    """Serves until SIGTERM/SIGINT; in-flight requests get 20 s to finish before shutdown."""
    configure_logging(settings.log_level)
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


def main(
    app_factory: Callable[[], FastAPI],
    settings: ServiceSettings,
    migrations: Migrations,
    argv: Sequence[str] | None = None,
    commands: Mapping[str, tuple[str, Callable[[list[str]], None]]] | None = None,
) -> None:
    """The service's command line.

    python -m sanpi.<service>                 serve (upgrading the database to head first)
    python -m sanpi.<service> migrate         upgrade the database to head, then exit
    python -m sanpi.<service> alembic ARGS    any Alembic command on the service's history
    python -m sanpi.<service> NAME ARGS       one of the service's own `commands`
                                              (name → (usage, function of the other args))
    """
    args = list(sys.argv[1:] if argv is None else argv)
    own = dict(commands or {})
    if not args:
        serve(app_factory, settings)
    elif args == ["migrate"]:
        configure_logging(settings.log_level)
        asyncio.run(migrate(settings.effective_database_url, migrations))
    elif args[0] == "alembic":
        configure_logging(settings.log_level)
        alembic_command(migrations, settings.effective_database_url, args[1:])
    elif args[0] in own:
        configure_logging(settings.log_level)
        own[args[0]][1](args[1:])
    else:
        usage = " | ".join(["migrate", "alembic ARGS", *(u for u, _ in own.values())])
        sys.exit(f"usage: python -m sanpi.{migrations.service} [{usage}]")
