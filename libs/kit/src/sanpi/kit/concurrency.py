"""Optimistic concurrency over HTTP: ETag carries the version, If-Match must name the current one."""

from __future__ import annotations

from sanpi.kit.errors import FieldProblem, InvalidInput, PreconditionFailed


def etag(version: int) -> str:
    """The ETag header value of a resource at `version` (a strong validator)."""
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    """The version an If-Match header names; None when absent. `*` matches any version."""
    if value is None or value.strip() == "*":
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    try:
        return int(raw)
    except ValueError as exc:
        raise InvalidInput(
            'If-Match must be an ETag this API returned, e.g. "3"',
            errors=[FieldProblem("header.If-Match", "not a version ETag")],
        ) from exc


def check_version(*, if_match: str | None, current: int) -> None:
    """Raises 412 when If-Match names another version than the stored one."""
    expected = parse_if_match(if_match)
    if expected is not None and expected != current:
        raise PreconditionFailed(
            f"the resource is at version {current}, not {expected}; fetch it again and retry",
            current_version=current,
        )
