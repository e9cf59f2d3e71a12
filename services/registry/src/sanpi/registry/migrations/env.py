"""Alembic's entry point for the registry's history; the kit does the work."""

from sanpi.kit.migrations import run_env
from sanpi.registry.migrations import MIGRATIONS

run_env(MIGRATIONS)
