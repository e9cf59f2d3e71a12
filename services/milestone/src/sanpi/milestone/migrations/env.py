"""Alembic's entry point for the milestone's history; the kit does the work."""

from sanpi.kit.migrations import run_env
from sanpi.milestone.migrations import MIGRATIONS

run_env(MIGRATIONS)
