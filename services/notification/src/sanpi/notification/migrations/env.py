"""Alembic's entry point for the notification's history; the kit does the work."""

from sanpi.kit.migrations import run_env
from sanpi.notification.migrations import MIGRATIONS

run_env(MIGRATIONS)
