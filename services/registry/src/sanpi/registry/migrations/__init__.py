"""The registry's schema history (Alembic): its tables and the folder of its revisions."""

from pathlib import Path

from sanpi.kit.migrations import Migrations
from sanpi.registry.indicators.models import FundsReport
from sanpi.registry.listings.models import Listing
from sanpi.registry.periods.models import Period
from sanpi.registry.projects.models import Project
from sanpi.registry.targets.models import Target

MIGRATIONS = Migrations(
    service="registry",
    directory=Path(__file__).parent,
    tables=(Project, Listing, Period, Target, FundsReport),
)
