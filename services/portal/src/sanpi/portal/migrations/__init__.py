"""The portal's schema history (Alembic): the account tables and the folder of its revisions."""

from pathlib import Path

from sanpi.kit.migrations import Migrations
from sanpi.portal.accounts.models import Account, LoginSession

MIGRATIONS = Migrations(
    service="portal",
    directory=Path(__file__).parent,
    tables=(Account, LoginSession),
)
