"""Pages of 我的订阅: list, create, pause or resume, delete, send a test, and the delivery log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from sanpi.client.sdk.base import ApiError
from sanpi.events import ChainTag
from sanpi.portal import forms
from sanpi.portal.i18n import N_, _
from sanpi.portal.labels import CHAINS, SEVERITIES, SEVERITY_ORDER, label
from sanpi.portal.subscriptions.schemas import (
    ROBOTS,
    SubscriptionForm,
    shown_address,
    topics_of,
)
from sanpi.portal.upstream import Apis, call
from sanpi.portal.web import FormDep, RecordId, VisitorDep, redirect, render, settings

router = APIRouter()

TOPIC_NAMES = {
    "alerts": N_("Alerts"),
    "stages": N_("Stage changes"),
    "milestones": N_("Milestones"),
    "reports": N_("Progress reports"),
    "projects": N_("New projects and listings"),
}
STATUS_NAMES = {
    "PENDING": N_("Waiting"),
    "DELIVERED": N_("Delivered"),
    "DEAD": N_("Failed"),
    "CANCELLED": N_("Cancelled (not sent)"),
}


def _apis(request: Request, visitor: VisitorDep) -> Apis:
    apis: Apis = request.app.state.upstream.as_user(visitor)
    return apis


async def _form_context(request: Request, visitor: VisitorDep, apis: Apis) -> dict[str, Any]:
    parks = (await request.app.state.reference.district(apis))[1]
    return {
        "park_options": [(p, p) for p in parks],
        "chain_options": [(c.value, label(CHAINS, c)) for c in ChainTag],
        "severity_options": [(s.value, label(SEVERITIES, s)) for s in SEVERITY_ORDER],
        "topic_options": [(k, _(v)) for k, v in TOPIC_NAMES.items()],
        "digest_options": [
            ("working_days", _("On working days only (holidays off, make-up days on)")),
            ("instead", _("Instead of a message per alert")),
        ],
    }


@router.get("/subscriptions")
async def subscriptions(
    request: Request,
    visitor: VisitorDep,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    apis = _apis(request, visitor)
    page = await call(
        apis.notification.subscriptions, limit=settings(request).page_size, cursor=cursor
    )
    notices = {
        "paused": _("Subscription paused."),
        "resumed": _("Subscription resumed."),
        "deleted": _("Subscription deleted."),
    }
    return render(
        request,
        "subscriptions/list.html",
        {
            "items": [_shown(s) for s in page["items"]],
            "next_cursor": page.get("next_cursor"),
            "topic_names": {k: _(v) for k, v in TOPIC_NAMES.items()},
            "notice": notices.get(done or ""),
            "values": {"cursor": cursor} if cursor else {},
        },
    )


@router.get("/subscriptions/new")
async def new_subscription(request: Request, visitor: VisitorDep) -> Response:
    apis = _apis(request, visitor)
    context = await _form_context(request, visitor, apis)
    defaults = {
        "channel": "inbox",
        "topics": ["alerts"],
        "min_severity": "yellow",
        "language": "zh",
    }
    defaults["parks"] = visitor.parks
    return render(request, "subscriptions/new.html", {**context, "values": defaults})


def _shown(subscription: dict[str, Any]) -> dict[str, Any]:
    """A subscription as its pages show it: topics in words, a robot's token cut short."""
    return {
        **subscription,
        "topics": topics_of(subscription["event_types"]),
        "url": shown_address(subscription["channel"], subscription.get("url")),
    }


def _service_errors(exc: ApiError, channel: str) -> dict[str, str]:
    """The notification service's refusals, beside the fields they name."""
    found: dict[str, str] = {}
    for problem in exc.problem.get("errors") or []:
        # "mention_mobiles.2" or "body.url": the form's field is the last part that is a name.
        parts = [p for p in str(problem.get("field", "")).split(".") if p and not p.isdigit()]
        name = parts[-1] if parts else ""
        reason = str(problem.get("reason") or "")
        if channel in ROBOTS and name in ("url", "secret", "mention_mobiles") and reason:
            # The robot channels explain themselves in the visitor's language (the portal
            # forwards it): which vendor address was expected, which secret is missing, which
            # number is wrong.
            found.setdefault(name, reason)
        elif name == "url":
            found["url"] = _(
                "The notification service refused this address: only addresses it may reach "
                "are allowed."
            )
        elif name == "email":
            found["email"] = _("Enter an e-mail address such as zhang@example.cn.")
        elif name in ("daily_at", "xun_at") and reason:
            found.setdefault(f"digest_{name}", reason)
        else:
            found.setdefault("channel", _("The notification service refused the subscription."))
    return found or {"channel": _("The notification service refused the subscription.")}


@router.post("/subscriptions/new")
async def create_subscription(request: Request, visitor: VisitorDep, form: FormDep) -> Response:
    apis = _apis(request, visitor)
    data = forms.values(form, lists=["topics", "parks", "chain_tags", "digest_options"])
    parsed, errors = forms.parse(SubscriptionForm, data)
    if parsed is not None and not parsed.topics:
        errors["topics"] = _("Choose at least one kind of news.")
    if parsed is not None and not errors:
        try:
            created = await call(apis.notification.subscribe, parsed.body())
        except ApiError as exc:
            if exc.status != 422:
                raise
            errors = _service_errors(exc, parsed.channel)
        else:
            deliveries = await call(apis.notification.deliveries, created["id"], limit=20)
            return render(
                request,
                "subscriptions/detail.html",
                {
                    "s": _shown(created),
                    "deliveries": deliveries["items"],
                    "next_cursor": None,
                    "secret": created.get("secret"),
                    "topic_names": {k: _(v) for k, v in TOPIC_NAMES.items()},
                    "status_names": {k: _(v) for k, v in STATUS_NAMES.items()},
                    "notice": _("Subscription created."),
                },
                status=201,
            )
    context = await _form_context(request, visitor, apis)
    # A secret is never written back into a page, not even into the form it was typed in.
    shown = {k: v for k, v in data.items() if k != "secret"}
    return render(
        request,
        "subscriptions/new.html",
        {**context, "values": shown, "errors": errors},
        status=422,
    )


@router.get("/subscriptions/{subscription_id}")
async def subscription_page(
    request: Request,
    subscription_id: RecordId,
    visitor: VisitorDep,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    tested: bool = False,
) -> Response:
    apis = _apis(request, visitor)
    s = await call(apis.notification.subscription, subscription_id)
    deliveries = await call(
        apis.notification.deliveries,
        subscription_id,
        limit=settings(request).page_size,
        cursor=cursor,
    )
    return render(
        request,
        "subscriptions/detail.html",
        {
            "s": _shown(s),
            "deliveries": deliveries["items"],
            "next_cursor": deliveries.get("next_cursor"),
            "topic_names": {k: _(v) for k, v in TOPIC_NAMES.items()},
            "status_names": {k: _(v) for k, v in STATUS_NAMES.items()},
            "notice": _("A test message is on its way; its delivery appears below.")
            if tested
            else None,
            "values": {"cursor": cursor} if cursor else {},
        },
    )


@router.post("/subscriptions/{subscription_id}/{action}")
async def act(
    request: Request, subscription_id: RecordId, action: str, visitor: VisitorDep, _form: FormDep
) -> Response:
    """pause, resume, delete or test one of the visitor's subscriptions."""
    apis = _apis(request, visitor)
    if action == "pause":
        await call(apis.notification.update_subscription, subscription_id, {"active": False})
        return redirect("/subscriptions?done=paused")
    if action == "resume":
        await call(apis.notification.update_subscription, subscription_id, {"active": True})
        return redirect("/subscriptions?done=resumed")
    if action == "delete":
        await call(apis.notification.unsubscribe, subscription_id)
        return redirect("/subscriptions?done=deleted")
    if action == "test":
        try:
            await call(apis.notification.send_test, subscription_id)
        except ApiError as exc:
            if exc.status != 409:
                raise
            return render(
                request,
                "error.html",
                {
                    "status": 409,
                    "title": _("No test for this subscription"),
                    "detail": _("Resume the subscription first; a live stream cannot be tested."),
                },
                status=409,
            )
        return redirect(f"/subscriptions/{subscription_id}?tested=1")
    return render(
        request,
        "error.html",
        {"status": 404, "title": _("Not found"), "detail": _("There is no such page.")},
        status=404,
    )
