"""Pages of 交办事项 (assigned issues): the ledger by park and state (open ones first, due first),
the unit's feedback (反馈) and the official's closure (办结, with evidence), as plain forms that
work without JavaScript (raising one is on the project's page)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from sanpi.client.sdk.base import ApiError
from sanpi.portal import forms
from sanpi.portal.i18n import N_, _
from sanpi.portal.issues import service
from sanpi.portal.issues.schemas import CloseForm, FeedbackForm, IssueFilters
from sanpi.portal.upstream import Apis, apis_of, call
from sanpi.portal.web import FormDep, VisitorDep, redirect, render, settings

router = APIRouter()

M = TypeVar("M", bound=BaseModel)

NOTICES = {
    "feedback": N_("Feedback recorded; an official will close the issue when it is solved."),
    "closed": N_("Issue closed."),
}


async def _page(
    request: Request,
    visitor: VisitorDep,
    raw: dict[str, Any],
    *,
    notice: str | None = None,
    form_errors: dict[str, dict[str, str]] | None = None,
    status: int = 200,
) -> Response:
    apis = apis_of(request, visitor)
    reference = request.app.state.reference
    parks = await reference.parks_for(apis, visitor)
    filters, errors = forms.list_filters(IssueFilters, raw, parks)
    page = await service.issues_page(
        apis,
        filters=filters,
        parks=reference.scope(visitor),
        page_size=settings(request).page_size,
    )
    return render(
        request,
        "issues/list.html",
        {
            "items": page.items,
            "next_cursor": page.next_cursor,
            **forms.item_forms_context(
                raw=raw,
                filters=filters,
                errors=errors,
                form_errors=form_errors,
                notice=notice,
                parks=parks,
            ),
        },
        status=status,
    )


@router.get("/alerts/issues")
async def issues(request: Request, visitor: VisitorDep) -> Response:
    raw, notice = forms.with_notice(request.query_params, NOTICES)
    return await _page(request, visitor, raw, notice=notice)


def _says(described: str) -> forms.Refusals:
    """What the forms say when refused, naming the problem the visitor acted on."""
    return forms.Refusals(
        forbidden=_("You may not handle the issues of this park (“%(what)s”).", what=described),
        missing=_("This assigned issue does not exist."),
        closed=_("“%(what)s” is closed already.", what=described),
        closed_field="issue_id",
        invalid={
            "text": _("Write the feedback on “%(what)s”.", what=described),
            "evidence": _(
                "Give at least one evidence link for “%(what)s”: a web address (http:// "
                "or https://) or a site photo of the project (/v1/evidence/…).",
                what=described,
            ),
            "closed_on": _("“%(what)s” cannot be closed before it was raised.", what=described),
        },
        stale=_(
            "“%(what)s” was changed by someone else meanwhile: read it again below, then send "
            "yours.",
            what=described,
        ),
    )


async def _described(apis: Apis, issue_id: str) -> str:
    """The problem as the visitor knows it (the start of its description), for messages."""
    try:
        found = await call(apis.milestone.issue, issue_id)
    except ApiError:
        return issue_id
    text = str(found.get("description") or issue_id)
    return text if len(text) <= 40 else text[:40] + "…"


async def _act(
    request: Request,
    visitor: VisitorDep,
    form: FormDep,
    model: type[M],
    field: str,
    send: Callable[[Apis, M], Awaitable[object]],
    done: str,
) -> Response:
    """One form on an issue: checked, sent as the visitor (the service checks the park), and
    either back to the list with a notice or the list again (422) with the reason on the item."""
    apis = apis_of(request, visitor)
    parsed, errors = forms.parse(model, forms.values(form))
    issue_id = str(form.get("issue_id") or "")
    if parsed is not None and not visitor.is_writer:
        errors[field] = _("Only administrators and park operators handle assigned issues.")
    elif parsed is not None:
        try:
            await send(apis, parsed)
        except ApiError as exc:
            errors[field] = forms.refusal(exc, _says(await _described(apis, issue_id)))
        else:
            return redirect(f"/alerts/issues?done={done}")
    if parsed is None:
        # A blank field: the sentence naming the problem; too long: the field's own message.
        says = _says(await _described(apis, issue_id))
        errors = {
            k: says.invalid[k] if k in says.invalid and not str(form.get(k) or "").strip() else v
            for k, v in errors.items()
        }
    return await _page(request, visitor, {}, form_errors={issue_id: errors}, status=422)


async def _feedback(apis: Apis, parsed: FeedbackForm) -> object:
    return await call(
        apis.milestone.issue_feedback, parsed.issue_id, parsed.text, version=parsed.version
    )


async def _close(apis: Apis, parsed: CloseForm) -> object:
    body: dict[str, Any] = {"evidence": parsed.evidence_list()}
    if parsed.note:
        body["note"] = parsed.note
    return await call(apis.milestone.close_issue, parsed.issue_id, body, version=parsed.version)


@router.post("/alerts/issues/feedback")
async def feedback(request: Request, visitor: VisitorDep, form: FormDep) -> Response:
    """The responsible unit's feedback (反馈)."""
    return await _act(request, visitor, form, FeedbackForm, "text", _feedback, "feedback")


@router.post("/alerts/issues/close")
async def close(request: Request, visitor: VisitorDep, form: FormDep) -> Response:
    """办结 (销号) by an official, with evidence."""
    return await _act(request, visitor, form, CloseForm, "evidence", _close, "closed")
