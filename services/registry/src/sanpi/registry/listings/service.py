"""Listing rules with I/O: put a project on a period's list and emit project.listed. Never commits."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import BatchType, ProjectListed, Stage
from sanpi.kit import (
    Conflict,
    FieldProblem,
    InvalidInput,
    Page,
    Principal,
    UnitOfWork,
    decode_cursor,
    encode_cursor,
    pagination,
)
from sanpi.registry.listings import repository
from sanpi.registry.listings.models import Listing
from sanpi.registry.listings.rules import ListingRefused, check_listing
from sanpi.registry.listings.schemas import ListingCreate, ListingPublic
from sanpi.registry.periods import repository as periods
from sanpi.registry.periods.models import Period
from sanpi.registry.projects import service as projects
from sanpi.registry.projects.models import Project


def emit_listed(uow: UnitOfWork, listing: Listing, period: Period) -> None:
    """Adds the listing and its project.listed event to the transaction."""
    repository.add(uow.session, listing)
    uow.publish(
        ProjectListed(
            project_id=listing.project_id,
            period=listing.period,
            batch=listing.batch,
            event_date=period.event_date,
            listed_total_investment=listing.listed_total_investment,
            listed_annual_plan=listing.listed_annual_plan,
            source_period=listing.source_period,
            listed_by=listing.listed_by,
        ),
    )


async def add_listing(
    uow: UnitOfWork, *, project_id: str, body: ListingCreate, principal: Principal
) -> Listing:
    """Puts the project on period N's list; 422 for an unknown period, 409 when the rules refuse."""
    project: Project = await projects.get(uow.session, project_id=project_id)
    principal.ensure_can_write_park(project.park)
    period = await periods.get(uow.session, body.period)
    existing = {
        row.batch: row.period for row in await repository.of_project(uow.session, project.id)
    }
    try:
        source_period = check_listing(
            batch=body.batch,
            period=body.period,
            period_status=None if period is None else period.status,
            existing=existing,
            started=projects.reached(project, Stage.UNDER_CONSTRUCTION),
            cancelled=project.cancelled_on is not None,
        )
    except ListingRefused as exc:
        if period is None:
            raise InvalidInput(exc.said, errors=[FieldProblem("period", exc.said)]) from exc
        raise Conflict(exc.said, batch=str(body.batch), period=body.period) from exc
    assert period is not None
    listing = Listing(
        project_id=project.id,
        batch=body.batch,
        period=body.period,
        listed_total_investment=body.listed_total_investment or project.total_investment,
        listed_annual_plan=(
            body.listed_annual_plan
            if body.listed_annual_plan is not None
            else project.annual_plan_investment
        ),
        source_period=source_period,
        listed_by=principal.subject,
    )
    emit_listed(uow, listing, period)
    return listing


async def list_page(
    session: AsyncSession,
    *,
    period: int | None,
    batch: BatchType | None,
    park: str | None,
    limit: int,
    cursor: str | None,
) -> Page[ListingPublic]:
    after = None
    if cursor:
        position = decode_cursor(cursor)
        try:
            after = (int(position["p"]), str(position["b"]), str(position["id"]))
        except (KeyError, ValueError, TypeError) as exc:
            raise pagination.bad_cursor() from exc
    rows = await repository.page(
        session, period=period, batch=batch, park=park, after=after, limit=limit + 1
    )
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor({"p": last.period, "b": str(last.batch), "id": last.project_id})
    return Page[ListingPublic](
        items=[ListingPublic.model_validate(r) for r in rows[:limit]], next_cursor=next_cursor
    )
