"""Cross-field rules of a project's master data, as pure functions (create, patch and import share them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sanpi.events import Stage
from sanpi.kit import FieldProblem
from sanpi.kit.messages import Bilingual, field_label
from sanpi.registry.projects import messages as refusals

# The order the stages are planned in; a later planned date may equal, never precede, an earlier.
DATE_ORDER: tuple[str, ...] = (
    "signed_date",
    "planned_fulfill_date",
    "planned_start_date",
    "planned_completion_date",
    "planned_production_date",
    "planned_effective_date",
)

ENTERPRISE_COLUMNS = {
    "name": "enterprise_name",
    "uscc": "enterprise_uscc",
    "origin": "enterprise_origin",
    "origin_region": "enterprise_origin_region",
}


def flatten(fields: Mapping[str, Any]) -> dict[str, Any]:
    """API fields → table columns: the nested enterprise becomes enterprise_* columns."""
    values = {k: v for k, v in fields.items() if k != "enterprise"}
    if "enterprise" in fields:
        enterprise = fields["enterprise"] or {}
        for key, column in ENTERPRISE_COLUMNS.items():
            values[column] = enterprise.get(key)
    return values


def problems(values: Mapping[str, Any], *, parks: Sequence[str]) -> list[FieldProblem]:
    """Every rule the merged column values break, each naming its field (empty when valid)."""
    found: list[FieldProblem] = []
    park = values.get("park")
    if park is not None and park not in parks:
        found.append(FieldProblem("park", refusals.UNKNOWN_PARK(parks=", ".join(parks))))
    total = values.get("total_investment")
    for field, label in (
        ("contract_amount", Bilingual("签约额", "contract amount")),
        ("annual_plan_investment", Bilingual("年度计划投资", "annual planned investment")),
    ):
        amount = values.get(field)
        if amount is not None and total is not None and amount > total:
            found.append(
                FieldProblem(field, refusals.ABOVE_TOTAL(label=label, amount=amount, total=total))
            )
    previous: tuple[str, dt.date] | None = None
    for field in DATE_ORDER:
        day = values.get(field)
        if day is None:
            continue
        if previous is not None and day < previous[1]:
            found.append(
                FieldProblem(
                    field,
                    refusals.DATE_BEFORE(
                        previous=previous[0],
                        previous_label=field_label(previous[0], "zh"),
                        day=previous[1],
                    ),
                )
            )
        else:
            previous = (field, day)
    if (
        values.get("started_date") is not None
        and values.get("initial_stage") != Stage.UNDER_CONSTRUCTION
    ):
        found.append(FieldProblem("started_date", refusals.STARTED_DATE_ONLY()))
    return found
