"""The rows of a batch request (POST /v1/progress/batch) as read: each validated alone, so that a
bad row is refused alone and not the request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from sanpi.kit.messages import FieldMessage, from_validation_errors, template

NOT_AN_OBJECT = template(
    "batch.not_an_object", zh="每一条应为 JSON 对象", en="each row must be a JSON object"
)


B = TypeVar("B", bound=BaseModel)


@dataclass
class BatchRow(Generic[B]):
    """One row of a batch as read: its body, or what is wrong with its shape."""

    index: int
    project_id: str | None
    body: B | None = None
    problems: list[FieldMessage] = field(default_factory=list)


def read_rows(raw: Sequence[Any], model: type[B]) -> list[BatchRow[B]]:
    """Each row validated alone by `model` (a single route's body plus project_id)."""
    rows: list[BatchRow[B]] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            rows.append(BatchRow(index, None, problems=[FieldMessage("", NOT_AN_OBJECT())]))
            continue
        given = item.get("project_id")
        project_id = given if isinstance(given, str) else None
        try:
            body = model.model_validate(item)
        except ValidationError as exc:
            rows.append(BatchRow(index, project_id, problems=from_validation_errors(exc.errors())))
            continue
        rows.append(BatchRow(index, str(getattr(body, "project_id", project_id)), body))
    return rows
