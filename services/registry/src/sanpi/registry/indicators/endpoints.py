"""HTTP route of /v1/indicators: batches, conversion rates and target attainment per year/park."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sanpi.kit import (
    AsOfDay,
    Authenticated,
    FieldProblem,
    InvalidInput,
    ReadSessionDep,
    RuntimeDep,
    today,
)
from sanpi.kit.messages import quoted
from sanpi.registry.indicators import service
from sanpi.registry.indicators.schemas import Indicators
from sanpi.registry.periods import messages as refusals
from sanpi.registry.settings import settings_of

router = APIRouter(prefix="/indicators", tags=["indicators"])


@router.get("", response_model=Indicators)
async def indicators(
    _principal: Authenticated,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="default: as_of's")] = None,
    park: Annotated[str | None, Query(description="one park; default: the whole district")] = None,
    as_of: Annotated[
        AsOfDay | None, Query(description="YYYY-MM-DD; default: today (Asia/Shanghai)")
    ] = None,
) -> Indicators:
    """Per period of `year` held by `as_of`, and for the year: count and 亿元 of each batch; 签约项目开工率,
    开工项目投产率, 投产项目达效率 (cumulative and by cohort); 签约项目履约率, 履约项目开工率 and
    计划开工率; targets against 序时进度. Percentages are rounded half up; 调出 projects leave the
    denominators from their effective day on."""
    settings = settings_of(runtime)
    if park is not None and park not in settings.parks:
        raise InvalidInput(
            refusals.UNKNOWN_PARK(park=quoted(park)),
            errors=[FieldProblem("query.park", refusals.ONE_OF(choices=", ".join(settings.parks)))],
        )
    day = as_of or today(runtime.clock)
    return await service.compute(
        session, year=year or day.year, as_of=day, park=park, district=settings.district
    )
