"""What the 交办事项 pages show, read from the milestone service as the visitor: a page of issues
with their projects' names and parks, limited to the parks the visitor works on, open ones first
and due first, each with its feedback."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sanpi.portal.issues.schemas import IssueFilters
from sanpi.portal.upstream import Apis, call

# The ledger cannot filter by park or by closure: the portal reads on until the page is full,
# but no more than this many of the ledger's pages for one of its own (a short page then ends
# with a "next" link, never a wait).
MAX_READS = 8


@dataclass
class IssuesPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def _query(filters: IssueFilters, limit: int, cursor: str | None) -> dict[str, Any]:
    query: dict[str, Any] = {"limit": limit}
    if filters.state == "open":
        query["open"] = "true"
        if filters.overdue:
            query["overdue"] = "true"
    if filters.unit:
        query["unit"] = filters.unit
    if cursor:
        query["cursor"] = cursor
    return query


def _wanted(issue: dict[str, Any], filters: IssueFilters, parks: list[str] | None) -> bool:
    if parks is not None and issue.get("park") not in parks:
        return False
    if filters.state == "closed":
        if issue.get("status") != "CLOSED":
            return False
        # Closed late: the page's "overdue" on the closed tab.
        if filters.overdue and not issue.get("overdue_days"):
            return False
    return True


async def with_projects(apis: Apis, issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issues with their project's name and park (None for a project the milestone service
    does not list)."""
    ids = sorted({str(i["project_id"]) for i in issues})
    known: dict[str, dict[str, Any]] = {}
    if ids:
        answer = await call(apis.milestone.project_summaries, ids=ids, limit=len(ids))
        known = {str(p["project_id"]): p for p in answer.get("items", [])}
    return [
        {
            **i,
            "project_name": known.get(i["project_id"], {}).get("name"),
            "park": known.get(i["project_id"], {}).get("park"),
        }
        for i in issues
    ]


def order(issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Open ones first, the earliest due first."""
    return sorted(issues, key=lambda i: (i.get("status") == "CLOSED", str(i.get("due_on"))))


async def with_feedback(apis: Apis, issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each issue with its feedback history (the ledger's rows do not carry it)."""

    async def one(issue: dict[str, Any]) -> dict[str, Any]:
        if not issue.get("first_feedback_on"):
            return {**issue, "feedback": []}
        full = await call(apis.milestone.issue, issue["id"])
        return {**issue, "feedback": full.get("feedback", [])}

    return list(await asyncio.gather(*(one(i) for i in issues)))


async def issues_page(
    apis: Apis, *, filters: IssueFilters, parks: list[str] | None, page_size: int
) -> IssuesPage:
    """One page of the ledger, filtered; `parks` None: every park."""
    chosen = [filters.park] if filters.park else parks
    found: list[dict[str, Any]] = []
    cursor = filters.cursor
    for _read in range(MAX_READS):
        # Never more than the page still holds: the ledger's cursor then stays exact.
        answer = await call(
            apis.milestone.issues, **_query(filters, page_size - len(found), cursor)
        )
        rows = await with_projects(apis, list(answer.get("items", [])))
        found += [r for r in rows if _wanted(r, filters, chosen)]
        cursor = answer.get("next_cursor")
        if cursor is None or len(found) >= page_size:
            break
    return IssuesPage(await with_feedback(apis, order(found)), cursor)
