"""Reading the registry's answers for the administrator: the names of the projects on a period's
lists. (An import's problems need no reading: the registry words them in the visitor's language.)"""

from __future__ import annotations

from typing import Any

from sanpi.portal.upstream import Apis, call


async def names_of(apis: Apis, ids: list[str]) -> dict[str, str]:
    """Project names by id, from the milestone service's summaries (one call per 100)."""
    found: dict[str, str] = {}
    for start in range(0, len(ids), 100):
        chunk = ids[start : start + 100]
        page = await call(apis.milestone.project_summaries, ids=chunk, limit=100)
        found.update({p["project_id"]: p["name"] for p in page.get("items", [])})
    return found


def listing_rows(listings: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    return [{**x, "name": names.get(x["project_id"], x["project_id"])} for x in listings]
