"""Runs a service under uvicorn with the settings' host and port (`python -m sanpi.<service>`)."""

from __future__ import annotations

from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from sanpi.kit.logs import configure_logging
from sanpi.kit.settings import ServiceSettings


def serve(app_factory: Callable[[], FastAPI], settings: ServiceSettings) -> None:
    """Serves until SIGTERM/SIGINT; in-flight requests get 20 s to finish before shutdown."""
    configure_logging(settings.log_level)
    uvicorn.run(
        app_factory,
        factory=True,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=20,
    )
