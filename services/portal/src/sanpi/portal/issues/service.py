"""What the 交办事项 pages show, read from the milestone service as the visitor: a page of issues
with their projects' names and parks, limited to the parks the visitor works on, due first, each
with its feedback, in one filtered call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sanpi.portal.issues.schemas import IssueFilters
from sanpi.portal.upstream import Apis, call


@dataclass
class IssuesPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def _query(
    filters: IssueFilters, parks: list[str] | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    # The tab is the status: open ones (the earliest due first) or closed ones; "overdue" on the
    # closed tab keeps the ones closed after their due day.
    query: dict[str, Any] = {
        "status": filters.state,
        "order": "due",
        "feedback": "true",
        "limit": limit,
    }
    if parks is not None:
        query["park"] = parks
    if filters.overdue:
        query["overdue"] = "true"
    if filters.unit:
        query["unit"] = filters.unit
    if cursor:
        query["cursor"] = cursor
    return query


async def issues_page(
    apis: Apis, *, filters: IssueFilters, parks: list[str] | None, page_size: int
) -> IssuesPage:
    """One page of the ledger, filtered; `parks` None: every park."""
    chosen = [filters.park] if filters.park else parks
    if chosen is not None and not chosen:
        return IssuesPage([], None)  # an operator of no park sees none (no park= means all)
    answer = await call(apis.milestone.issues, **_query(filters, chosen, page_size, filters.cursor))
    return IssuesPage(list(answer.get("items", [])), answer.get("next_cursor"))
