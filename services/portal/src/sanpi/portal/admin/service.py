"""Reading the registry's answers for the administrator: import problems in words, and the names
of the projects on a period's lists."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sanpi.portal.i18n import _
from sanpi.portal.upstream import Apis, call

# The registry explains a refused cell in English; the common explanations, in the page's language.
REASONS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^empty header$"), lambda m: _("The header is empty.")),
    (re.compile(r"^unknown column$"), lambda m: _("This column is not one the ledger knows.")),
    (
        re.compile(r"^duplicate column: (.+) is the same$"),
        lambda m: _("The same column as %(other)s.", other=m.group(1)),
    ),
    (re.compile(r"^missing column \((.+)\)$"), lambda m: _("This column is required.")),
    (
        re.compile(r"^'(.*)' is not a whole number of 万元$"),
        lambda m: _("%(value)s is not a whole number of 10k yuan.", value=m.group(1)),
    ),
    (
        re.compile(r"^'(.*)' is not a whole number$"),
        lambda m: _("%(value)s is not a whole number.", value=m.group(1)),
    ),
    (
        re.compile(r"^'(.*)' is not a period number"),
        lambda m: _("%(value)s is not a period number (7 or 第7期).", value=m.group(1)),
    ),
    (
        re.compile(r"^'(.*)' is not 是 or 否$"),
        lambda m: _("%(value)s is not yes (是) or no (否).", value=m.group(1)),
    ),
    (
        re.compile(r"^'(.*)' is not a date"),
        lambda m: _("%(value)s is not a date (2023-01-28 or 2023年1月28日).", value=m.group(1)),
    ),
    (
        re.compile(r"^'(.*)' is not one of"),
        lambda m: _("%(value)s is not one of the allowed values.", value=m.group(1)),
    ),
    (
        re.compile(r"^already in the registry"),
        lambda m: _("This project id is in the ledger already (clear the id to add a project)."),
    ),
    (
        re.compile(r"^same id as row (\d+)$"),
        lambda m: _("The same project id as row %(row)s.", row=m.group(1)),
    ),
    (re.compile(r"^field required$"), lambda m: _("This field is required.")),
]


def reason(text: str) -> str:
    for pattern, say in REASONS:
        match = pattern.search(text)
        if match:
            return say(match)
    return text


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
