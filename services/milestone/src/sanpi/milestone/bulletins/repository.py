"""Every SQL statement of the bulletin: the stage changes of a period (new starts, production)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import Stage
from sanpi.milestone.lifecycle.models import StageChange

# A stage reached (not a resume to it): by its milestone, at registration (a project registered
# already under construction) or by a correction of the record.
REACHING = ("MILESTONE", "REGISTERED", "CORRECTION")


async def reached_between(
    session: AsyncSession, stages: Sequence[Stage], start: dt.date, end: dt.date
) -> list[StageChange]:
    """The changes into `stages` effective from `start` to `end` (inclusive), in time order."""
    stmt = (
        select(StageChange)
        .where(
            col(StageChange.to_stage).in_(list(stages)),
            col(StageChange.effective_date) >= start,
            col(StageChange.effective_date) <= end,
            col(StageChange.reason).in_(REACHING),
        )
        .order_by(col(StageChange.effective_date), col(StageChange.id))
    )
    return list((await session.exec(stmt)).all())
