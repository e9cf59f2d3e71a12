"""Alembic's entry point for the portal's history; the kit does the work."""

from sanpi.kit.migrations import run_env
from sanpi.portal.migrations import MIGRATIONS

run_env(MIGRATIONS)
