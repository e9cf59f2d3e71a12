"""Optimistic concurrency over HTTP: ETag carries the version, If-Match must name the current one."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from sanpi.kit.errors import Conflict, FieldProblem, InvalidInput, PreconditionFailed
from sanpi.kit.messages import Bilingual, Message, template

NOT_AN_ETAG = template(
    "concurrency.not_an_etag",
    zh='If-Match 须是本接口返回的 ETag，例如 "3"',
    en='If-Match must be an ETag this API returned, e.g. "3"',
)
NOT_A_VERSION = template("concurrency.not_a_version", zh="不是版本 ETag", en="not a version ETag")
STALE = template(
    "concurrency.stale",
    zh="{what}已被他人修改：当前是第 {current} 版，不是第 {expected} 版；请重新读取后再提交",
    en="the {what} is at version {current}, not {expected}; fetch it again and retry",
)

# A write route's If-Match header (FastAPI parameter).
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description='the ETag you read, e.g. "3"; 412 if no longer current'),
]


def stale(*, current: int, expected: int, what: Bilingual) -> Message:
    """STALE about `what` (e.g. Bilingual("项目", "project")): a 412 of If-Match, or a 409 of a
    `version` in the body."""
    return STALE(what=what, current=current, expected=expected)


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
            NOT_AN_ETAG(), errors=[FieldProblem("header.If-Match", NOT_A_VERSION())]
        ) from exc


def check_version(*, if_match: str | None, current: int, what: Bilingual) -> None:
    """Raises 412 when If-Match names another version than the stored one (of `what`)."""
    expected = parse_if_match(if_match)
    if expected is not None and expected != current:
        raise PreconditionFailed(
            stale(current=current, expected=expected, what=what), current_version=current
        )


def check_versions(
    *, if_match: str | None, version: int | None, current: int, what: Bilingual
) -> None:
    """If-Match naming another version → 412; the body's `version` naming another → 409; both
    say so in the reader's language. Neither given: nothing to check."""
    check_version(if_match=if_match, current=current, what=what)
    if version is not None and version != current:
        raise Conflict(stale(current=current, expected=version, what=what), current_version=current)
