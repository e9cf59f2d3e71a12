"""HTTP route of project summaries: GET /v1/project-summaries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sanpi.events import ChainTag, Severity, Stage
from sanpi.kit import Authenticated, FieldProblem, InvalidInput, ReadSessionDep, RuntimeDep
from sanpi.kit.messages import template
from sanpi.milestone.rules import service as rules
from sanpi.milestone.rules.evaluation import Deadlines
from sanpi.milestone.settings import settings_of
from sanpi.milestone.summaries import service
from sanpi.milestone.summaries.repository import SummaryFilter
from sanpi.milestone.summaries.schemas import SummariesPage

AT_MOST_IDS = template("summaries.at_most_ids", zh="最多 {most} 个项目 id", en="at most {most} ids")
AT_MOST = template("summaries.at_most", zh="最多 {most} 个", en="at most {most}")

router = APIRouter(tags=["summaries"])

MAX_IDS = 200
MAX_SUMMARY_LIMIT = 100


@router.get("/project-summaries", response_model=SummariesPage)
async def project_summaries(
    _principal: Authenticated,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    park: Annotated[
        list[Annotated[str, Query(min_length=1, max_length=64)]] | None,
        Query(description="any of these parks (repeat the parameter)", max_length=100),
    ] = None,
    stage: Stage | None = None,
    period: Annotated[int | None, Query(ge=1, le=1000, description="listed in this 期")] = None,
    chain_tag: ChainTag | None = None,
    colour: Annotated[
        Severity | None, Query(description="the worst firing alert (green: none)")
    ] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="in the name")] = None,
    ids: Annotated[
        list[Annotated[str, Query(min_length=1, max_length=64)]] | None,
        Query(description=f"only these projects (at most {MAX_IDS})"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_SUMMARY_LIMIT)] = 20,
    cursor: str | None = None,
) -> SummariesPage:
    """A page of projects by name, each with its colour (worst firing alert), firing alerts by
    severity, last report, earliest open milestone and the 旬 report it owes; as of the
    evaluation day (the pinned one in demos). The portal's 我的项目 list."""
    if ids is not None and len(ids) > MAX_IDS:
        raise InvalidInput(
            AT_MOST_IDS(most=MAX_IDS), errors=[FieldProblem("query.ids", AT_MOST(most=MAX_IDS))]
        )
    filters = SummaryFilter(
        parks=tuple(park or ()),
        stage=stage,
        period=period,
        chain_tag=chain_tag,
        colour=colour,
        q=q,
        ids=tuple(ids or ()),
    )
    as_of = await rules.evaluation_date(session, runtime.clock)
    items, next_cursor = await service.summaries(
        session,
        filters=filters,
        limit=limit,
        cursor=cursor,
        as_of=as_of,
        deadlines=Deadlines.of(settings_of(runtime)),
    )
    return SummariesPage(items=items, next_cursor=next_cursor, as_of=as_of)
