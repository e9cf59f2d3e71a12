"""Server-side form checking: a form's fields into a Pydantic model, and every problem as a
message in the page's language, keyed by the field it belongs beside."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from starlette.datastructures import FormData, UploadFile

from sanpi.portal.i18n import _

M = TypeVar("M", bound=BaseModel)

FieldErrors = dict[str, str]


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return _("This field is required.")
    if kind == "string_too_short":
        return _("At least %(n)s characters.", n=ctx.get("min_length"))
    if kind == "string_too_long":
        return _("At most %(n)s characters.", n=ctx.get("max_length"))
    if kind == "string_pattern_mismatch":
        return _("Not in the expected format.")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("Enter a whole number.")
    if kind in ("float_parsing", "float_type"):
        return _("Enter a number.")
    if kind in ("greater_than_equal", "greater_than"):
        return _("Must be at least %(n)s.", n=ctx.get("ge", ctx.get("gt")))
    if kind in ("less_than_equal", "less_than"):
        return _("Must be at most %(n)s.", n=ctx.get("le", ctx.get("lt")))
    if kind.startswith("date") or kind.startswith("datetime"):
        return _("Enter a date such as 2023-03-01.")
    if kind in ("enum", "literal_error"):
        return _("Choose one of the offered values.")
    if kind in ("too_long",):
        return _("Too many entries.")
    if kind == "value_error":
        # Our validators raise messages that are already in the page's language.
        return str(ctx.get("error", _("This value is not valid.")))
    return _("This value is not valid.")


def errors_of(exc: ValidationError, *, prefix: str = "") -> FieldErrors:
    """{field name: message}, the first problem of each field (the one a person fixes first)."""
    found: FieldErrors = {}
    for error in exc.errors():
        path = [str(p) for p in error["loc"] if not isinstance(p, int)]
        name = prefix + (path[0] if path else "__all__")
        found.setdefault(name, _message(error))
    return found


def values(form: FormData | Mapping[str, Any], lists: Iterable[str] = ()) -> dict[str, Any]:
    """A form as plain values: blank fields are absent (optional fields stay unset), fields in
    `lists` are lists of their non-blank values, files are left out."""
    out: dict[str, Any] = {}
    many = set(lists)
    getlist = getattr(form, "getlist", None)
    for key in form:
        if key in many:
            items = getlist(key) if getlist else [form[key]]
            out[key] = [v.strip() for v in items if isinstance(v, str) and v.strip()]
            continue
        value = form[key]
        if isinstance(value, UploadFile):
            continue
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                continue
        out[key] = value
    for key in many:
        out.setdefault(key, [])
    return out


def parse(model: type[M], data: Mapping[str, Any]) -> tuple[M | None, FieldErrors]:
    """The model, or None and the problems by field."""
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        return None, errors_of(exc)
