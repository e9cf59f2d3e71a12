"""Server-side form checking: a form's fields into a Pydantic model, and every problem as a
message in the page's language, keyed by the field it belongs beside."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from starlette.datastructures import FormData, UploadFile

from sanpi.client.sdk.base import ApiError
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


def list_filters(
    model: type[M], data: Mapping[str, Any], parks: Iterable[str]
) -> tuple[M, FieldErrors]:
    """The filters of a list page: the bad ones dropped and each named beside its field, and a
    `park` the visitor does not work on (not in `parks`) refused the same way."""
    filters, errors = parse(model, data)
    if filters is None:
        filters = model.model_validate({k: v for k, v in data.items() if k not in errors})
    park = getattr(filters, "park", None)
    if park and park not in parks:
        errors["park"] = _("You do not work on this park.")
        filters = filters.model_copy(update={"park": None})
    return filters, errors


def with_notice(
    query: Mapping[str, Any], notices: Mapping[str, str]
) -> tuple[dict[str, Any], str | None]:
    """A list page's query without its `done=` (what the form before it did), and the notice
    saying so in the page's language."""
    raw = values(query)
    done = raw.pop("done", None)
    return raw, _(notices[done]) if done in notices else None


def item_forms_context(
    *,
    raw: Mapping[str, Any],
    filters: BaseModel,
    errors: FieldErrors,
    form_errors: Mapping[str, FieldErrors] | None,
    notice: str | None,
    parks: Iterable[str],
) -> dict[str, Any]:
    """What a list with a form on each item (督办, 交办) shows besides its items: the filters and
    their problems, each item's refused form, and the notice."""
    return {
        "filters": filters,
        "values": raw,
        "errors": errors,
        "form_errors": form_errors or {},
        # Also at the top: the item refused may not be on the visitor's list at all.
        "problem": next((m for errs in (form_errors or {}).values() for m in errs.values()), None),
        "notice": notice,
        "park_options": [(p, p) for p in parks],
    }


@dataclass(frozen=True)
class Refusals:
    """What a form on an item (督办, 交办) says when the service refuses it, by the reason: the
    visitor may not act on the item's park, the item is gone, it is closed already, someone
    changed it since the page was read (412: the form sent the version it showed), or the
    service found a field invalid (by field name; "" for any other)."""

    forbidden: str
    missing: str
    closed: str
    invalid: Mapping[str, str]
    closed_field: str | None = None
    stale: str | None = None


def refusal(exc: ApiError, says: Refusals) -> str:
    """The sentence for a refused form (4xx); anything else is not the form's to explain."""
    if exc.status in (401, 403):
        return says.forbidden
    if exc.status == 404:
        return says.missing
    if exc.status == 409:
        return says.closed
    if exc.status == 412 and says.stale is not None:
        return says.stale
    if exc.status == 422:
        fields = [
            str(p.get("field") or "").rsplit(".", 1)[-1]
            for p in exc.problem.get("errors") or []
            if isinstance(p, dict)
        ]
        if says.closed_field is not None and says.closed_field in fields:
            return says.closed
        for name in fields:
            if name in says.invalid:
                return says.invalid[name]
        if "" in says.invalid:
            return says.invalid[""]
    raise exc
