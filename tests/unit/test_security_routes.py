"""The route walk: every operation of the three OpenAPI documents, from one table. Each route is
called without a token (401), with the wrong role (403: a viewer writing, an operator on an admin
route), by an operator of 梧桐 on a 石佛 object where the route is park-scoped (403), by another
subject on an owner-scoped object (404, or absent from a list), and finally by the right caller
(2xx). A route the table does not know fails the walk.

Read scope (decided here, see the report of issue 7): any valid token reads every park — viewers
are district officials, operators compare their park with the others, and indicators are
district-wide. Writes are park-scoped; subscriptions, deliveries and the inbox belong to the
token's subject."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from sanpi.events import Severity
from sanpi.kit import Role, utcnow
from sanpi.notification.supervision.models import SupervisionItem
from tests.support.apps import auth
from tests.support.images import jpeg
from tests.support.notification import alert, harness
from tests.support.waiting import eventually
from tests.support.world import SERVICES, World, three_services

# The three services run in this process: each needs a database of its own.
pytestmark = pytest.mark.usefixtures("service_databases")

OWN_PARK, OTHER_PARK = "梧桐", "石佛"


@dataclass(frozen=True)
class Who:
    role: Role
    subject: str
    parks: tuple[str, ...] = ()


ADMIN = Who(Role.ADMIN, "admin-1")
OPERATOR = Who(Role.OPERATOR, "op-wutong", (OWN_PARK,))  # writes 梧桐 only
VIEWER = Who(Role.VIEWER, "viewer-1")  # owns the subscriptions and inbox items of a setup
STRANGER = Who(Role.VIEWER, "viewer-2")


class Access(StrEnum):
    PUBLIC = "anyone, without a token"
    READ = "any valid token"
    WRITE = "admin, or an operator of the object's park"
    ADMIN = "admin only"
    OWN = "any valid token, on the caller's own objects only"


# Who succeeds on each kind of route.
RIGHT_CALLER = {
    Access.READ: VIEWER,
    Access.WRITE: OPERATOR,
    Access.ADMIN: ADMIN,
    Access.OWN: VIEWER,
}


@dataclass
class Ctx:
    """What a route's setup made: objects per park, and owned objects of VIEWER."""

    project: dict[str, str] = field(default_factory=dict)
    alert: dict[str, str] = field(default_factory=dict)
    period: int = 0
    subscription: str = ""
    item: str = ""
    event: str = ""  # an event the notification service routed to `subscription`
    evidence: dict[str, str] = field(default_factory=dict)
    supervision: dict[str, str] = field(default_factory=dict)  # a 督办 item per park
    contact: str = ""
    issue: dict[str, str] = field(default_factory=dict)  # a 交办事项 per park

    def owned(self) -> list[str]:
        """Ids a stranger must never see."""
        return [i for i in (self.subscription, self.item) if i]


@dataclass(frozen=True)
class Req:
    method: str
    url: str
    json: Any = None
    params: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None


Setup = Callable[[World], Awaitable[Ctx]]
Build = Callable[[Ctx, str], Req]  # (what the setup made, park of the object acted on)


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    path: str
    access: Access
    build: Build
    setup: Setup | None = None
    ok: int = 200
    # What an operator of 梧桐 gets acting on the 石佛 object; None: the route is not park-scoped.
    foreign: int | None = None
    stream: bool = False


# --- setups: objects made through the APIs, as an admin or as VIEWER -------------------------------


async def as_admin(world: World, service: str, method: str, url: str, **kw: Any) -> Any:
    response = await call(world, service, Req(method, url, **kw), ADMIN)
    assert response.status_code < 300, f"setup {method} {url}: {response.text}"
    return response.json() if response.content else None


async def projects(world: World) -> Ctx:
    """A fresh project in each park, known to the milestone and notification services."""
    ctx = Ctx()
    for park in (OWN_PARK, OTHER_PARK):
        created = await as_admin(
            world,
            "registry",
            "POST",
            "/v1/projects",
            json={
                "name": f"{park}氢能产业园",
                "park": park,
                "total_investment": 150_000,
                "signed_date": "2023-01-28",
                "planned_start_date": "2023-03-01",
            },
        )
        ctx.project[park] = created["id"]
    await world.pump()
    return ctx


async def started(world: World) -> Ctx:
    ctx = await projects(world)
    for pid in ctx.project.values():
        await as_admin(
            world,
            "milestone",
            "POST",
            f"/v1/projects/{pid}/milestones",
            json={
                "kind": "STARTED",
                "date": "2023-03-01",
                "evidence": ["https://x/IMG_20230301.jpg"],
            },
        )
    await world.pump()
    return ctx


async def suspended(world: World) -> Ctx:
    ctx = await projects(world)
    for pid in ctx.project.values():
        await as_admin(
            world, "milestone", "POST", f"/v1/projects/{pid}/suspend", json={"reason": "环评整改"}
        )
    return ctx


async def photos(world: World) -> Ctx:
    """A project in each park with a site photo uploaded."""
    ctx = await projects(world)
    for park, pid in ctx.project.items():
        uploaded = await as_admin(
            world,
            "milestone",
            "POST",
            f"/v1/projects/{pid}/evidence",
            files={"file": ("site.jpg", jpeg(), "image/jpeg")},
        )
        ctx.evidence[park] = uploaded["id"]
    return ctx


async def issues(world: World) -> Ctx:
    """A project in each park with an assigned issue (交办事项) open."""
    ctx = await projects(world)
    for park, pid in ctx.project.items():
        raised = await as_admin(
            world,
            "milestone",
            "POST",
            f"/v1/projects/{pid}/issues",
            json={"category": "POWER", "description": "电力接入", "assigned_unit": "区供电公司"},
        )
        ctx.issue[park] = raised["id"]
    return ctx


def photo(ctx: Ctx, park: str) -> Req:
    url = f"/v1/projects/{ctx.project[park]}/evidence"
    return Req("POST", url, files={"file": ("site.jpg", jpeg(colour="blue"), "image/jpeg")})


def progress_batch(ctx: Ctx, park: str) -> Req:
    row = {
        "project_id": ctx.project[park],
        "period_key": "2023-06-X1",
        "completed_investment_cum": 1000,
        "completed_investment_ytd": 1000,
    }
    return Req("POST", "/v1/progress/batch", json={"reports": [row]})


async def period(world: World) -> Ctx:
    """A new period after every existing one (numbers follow dates)."""
    listed = await as_admin(world, "registry", "GET", "/v1/periods")
    number = max((p["number"] for p in listed["items"]), default=0) + 1
    day = dt.date(2023, 1, 1) + dt.timedelta(days=10 * number)
    await as_admin(
        world, "registry", "POST", "/v1/periods", json={"number": number, "event_date": str(day)}
    )
    ctx = await projects(world)
    ctx.period = number
    return ctx


async def alerts(world: World) -> Ctx:
    """R02 (signed, not started) fires for both projects; the notification service knows them."""
    ctx = await projects(world)
    await as_admin(
        world,
        "milestone",
        "POST",
        "/v1/admin/evaluate",
        params={"as_of": "2024-06-01", "pin": "true"},
    )
    await as_admin(world, "milestone", "DELETE", "/v1/admin/evaluate/pin")
    await world.pump()
    ctx.alert = {park: f"R02:{pid}" for park, pid in ctx.project.items()}
    return ctx


async def subscription(world: World) -> Ctx:
    created = await call(
        world,
        "notification",
        Req("POST", "/v1/subscriptions", json={"channel": "webhook", "url": "http://127.0.0.1:9/"}),
        VIEWER,
    )
    assert created.status_code == 201, created.text
    return Ctx(subscription=created.json()["id"])


async def inbox_item(world: World) -> Ctx:
    """VIEWER's inbox subscription, and the red alert the delivery worker files in it."""
    created = await call(
        world, "notification", Req("POST", "/v1/subscriptions", json={"channel": "inbox"}), VIEWER
    )
    assert created.status_code == 201, created.text
    ctx = await alerts(world)
    ctx.subscription = created.json()["id"]

    async def filed() -> list[dict[str, Any]]:
        response = await call(world, "notification", Req("GET", "/v1/inbox"), VIEWER)
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    ctx.item = (await eventually(filed, what="an inbox item"))[0]["id"]
    deliveries = await call(world, "notification", Req("GET", "/v1/deliveries"), VIEWER)
    ctx.event = deliveries.json()["items"][0]["event_id"]
    return ctx


# --- the table ----------------------------------------------------------------------------------


async def contact(world: World) -> Ctx:
    created = await as_admin(
        world,
        "notification",
        "POST",
        "/v1/contacts",
        json={"name": "张明", "unit": "梧桐园区管委会", "email": "zhang@example.com"},
    )
    return Ctx(contact=created["id"])


async def supervision_items(world: World) -> Ctx:
    """A 督办 item per park on its red alert (written directly: the escalation that opens them
    in service has its own tests)."""
    ctx = await alerts(world)
    now = utcnow()
    async with world.runtime("notification").db.transaction() as uow:
        for park, key in ctx.alert.items():
            item = SupervisionItem(
                alert_key=key,
                subscription_id="sub-1",
                project_id=ctx.project[park],
                park=park,
                unit="责任单位",
                opened_at=now,
                due_at=now + dt.timedelta(days=3),
            )
            uow.session.add(item)
            ctx.supervision[park] = item.id
    return ctx


def on_item(method: str, action: str, json: Any = None) -> Build:
    return lambda ctx, park: Req(
        method, f"/v1/supervision/{ctx.supervision.get(park, 'none')}{action}", json=json
    )


def get(url: str, **params: str) -> Build:
    return lambda ctx, park: Req("GET", url.format(**fill(ctx, park)), params=params or None)


def fill(ctx: Ctx, park: str) -> dict[str, Any]:
    return {
        "project_id": ctx.project.get(park, "none"),
        "number": ctx.period,
        "alert_key": ctx.alert.get(park, "none"),
        "subscription_id": ctx.subscription,
        "item_id": ctx.item,
        "contact_id": ctx.contact,
        "evidence_id": ctx.evidence.get(park, "none"),
        "issue_id": ctx.issue.get(park, "none"),
    }


def post(url: str, json: Any = None, **params: str) -> Build:
    return lambda ctx, park: Req(
        "POST", url.format(**fill(ctx, park)), json=json, params=params or None
    )


def report_sheet(ctx: Ctx, park: str) -> Req:
    content = (
        "project_id,period_key,completed_investment_cum,completed_investment_ytd\n"
        f"{ctx.project[park]},2023-06-X1,1000,1000\n"
    ).encode()
    return Req("POST", "/v1/progress/import", files={"file": ("x.csv", content, "text/csv")})


def sheet(ctx: Ctx, park: str) -> Req:
    content = f"项目名称,所属园区,总投资(万元)\n{park}导入项目,{park},1000\n".encode()
    return Req("POST", "/v1/projects/import", files={"file": ("l.csv", content, "text/csv")})


def new_project(ctx: Ctx, park: str) -> Req:
    body = {"name": f"{park}新项目", "park": park, "total_investment": 1000}
    return Req("POST", "/v1/projects", json=body)


def target(ctx: Ctx, park: str) -> Req:
    body = {"year": 2023, "scope": park, "kind": "SIGN_AMOUNT", "value": 1000}
    return Req("POST", "/v1/targets", json=body)


def next_period(ctx: Ctx, park: str) -> Req:
    day = dt.date(2023, 1, 1) + dt.timedelta(days=10 * (ctx.period + 1))
    return Req("POST", "/v1/periods", json={"number": ctx.period + 1, "event_date": str(day)})


P = "/v1/projects/{project_id}"
W = Access.WRITE
TABLE: list[Route] = [
    # registry
    Route("registry", "GET", "/healthz", Access.PUBLIC, get("/healthz")),
    Route("registry", "GET", "/readyz", Access.PUBLIC, get("/readyz")),
    # An import names every refused row: a row of another park is one (422, field "park").
    Route("registry", "POST", "/v1/projects/import", W, sheet, ok=201, foreign=422),
    Route("registry", "GET", "/v1/projects/export", Access.READ, get("/v1/projects/export")),
    Route("registry", "GET", "/v1/projects/template", Access.READ, get("/v1/projects/template")),
    Route("registry", "POST", "/v1/projects", W, new_project, ok=201, foreign=403),
    Route("registry", "GET", "/v1/projects", Access.READ, get("/v1/projects")),
    Route("registry", "GET", P, Access.READ, get(P), projects),
    Route(
        "registry",
        "PATCH",
        P,
        W,
        lambda ctx, park: Req(
            "PATCH", P.format(**fill(ctx, park)), json={"version": 1, "name": "改名"}
        ),
        projects,
        foreign=403,
    ),
    Route(
        "registry",
        "POST",
        f"{P}/cancel",
        W,
        post(f"{P}/cancel", {"reason_code": "INVESTOR_FUNDING", "reason": "企业撤资"}),
        projects,
        foreign=403,
    ),
    Route("registry", "GET", "/v1/parks", Access.READ, get("/v1/parks")),
    Route(
        "registry",
        "POST",
        f"{P}/listings",
        W,
        lambda ctx, park: Req(
            "POST",
            f"/v1/projects/{ctx.project[park]}/listings",
            json={"period": ctx.period, "batch": "SIGN"},
        ),
        period,
        ok=201,
        foreign=403,
    ),
    Route("registry", "GET", f"{P}/listings", Access.READ, get(f"{P}/listings"), projects),
    Route("registry", "GET", "/v1/listings", Access.READ, get("/v1/listings")),
    Route("registry", "POST", "/v1/periods", Access.ADMIN, next_period, period, ok=201),
    Route("registry", "GET", "/v1/periods", Access.READ, get("/v1/periods")),
    Route(
        "registry", "GET", "/v1/periods/{number}", Access.READ, get("/v1/periods/{number}"), period
    ),
    Route(
        "registry",
        "POST",
        "/v1/periods/{number}/hold",
        Access.ADMIN,
        post("/v1/periods/{number}/hold"),
        period,
    ),
    Route(
        "registry",
        "POST",
        "/v1/periods/{number}/close",
        Access.ADMIN,
        post("/v1/periods/{number}/close"),
        period,
    ),
    Route("registry", "POST", "/v1/targets", W, target, ok=201, foreign=403),
    Route("registry", "GET", "/v1/targets", Access.READ, get("/v1/targets")),
    Route("registry", "GET", "/v1/indicators", Access.READ, get("/v1/indicators")),
    # milestone
    Route("milestone", "GET", "/healthz", Access.PUBLIC, get("/healthz")),
    Route("milestone", "GET", "/readyz", Access.PUBLIC, get("/readyz")),
    Route(
        "milestone",
        "POST",
        f"{P}/milestones",
        W,
        post(f"{P}/milestones", {"kind": "PLANNING_PERMIT", "date": "2023-05-01"}),
        projects,
        ok=201,
        foreign=403,
    ),
    Route("milestone", "GET", f"{P}/milestones", Access.READ, get(f"{P}/milestones"), projects),
    Route(
        "milestone",
        "POST",
        f"{P}/milestones/{{kind}}/forecast",
        W,
        lambda ctx, park: Req(
            "POST",
            f"/v1/projects/{ctx.project[park]}/milestones/STARTED/forecast",
            json={"forecast_date": "2023-09-01"},
        ),
        projects,
        foreign=403,
    ),
    Route(
        "milestone",
        "POST",
        f"{P}/baselines",
        W,
        lambda ctx, park: Req(
            "POST",
            f"/v1/projects/{ctx.project[park]}/baselines",
            json={
                # Each call its own name: a second change under one name is refused (409).
                "name": f"调整-{uuid.uuid4().hex[:8]}",
                "reason": "用地手续延迟",
                "dates": [{"kind": "STARTED", "date": "2023-09-01"}],
            },
        ),
        projects,
        ok=201,
        foreign=403,
    ),
    Route("milestone", "GET", f"{P}/baselines", Access.READ, get(f"{P}/baselines"), projects),
    Route("milestone", "GET", f"{P}/forecast", Access.READ, get(f"{P}/forecast"), projects),
    Route(
        "milestone",
        "POST",
        f"{P}/suspend",
        W,
        post(f"{P}/suspend", {"reason": "环评整改"}),
        projects,
        foreign=403,
    ),
    Route("milestone", "POST", f"{P}/resume", W, post(f"{P}/resume", {}), suspended, foreign=403),
    Route(
        "milestone",
        "POST",
        f"{P}/stage-corrections",
        Access.ADMIN,
        post(f"{P}/stage-corrections", {"to_stage": "SIGNED", "reason": "开工录入错误"}),
        started,
    ),
    Route(
        "milestone",
        "POST",
        f"{P}/progress",
        W,
        post(
            f"{P}/progress",
            {
                "period_key": "2023-06-X1",
                "completed_investment_cum": 1000,
                "completed_investment_ytd": 1000,
            },
        ),
        started,
        ok=201,
        foreign=403,
    ),
    Route("milestone", "GET", f"{P}/progress", Access.READ, get(f"{P}/progress"), projects),
    # A batch row of another park is refused as that row (status "refused"), not the request.
    Route(
        "milestone", "POST", "/v1/progress/batch", W, progress_batch, started, ok=200, foreign=200
    ),
    # A sheet's row of another park is refused as that row, like a batch's.
    Route(
        "milestone", "POST", "/v1/progress/import", W, report_sheet, started, ok=200, foreign=200
    ),
    Route(
        "milestone",
        "GET",
        "/v1/progress/template",
        Access.READ,
        get("/v1/progress/template", period="2023-06-X1", park=OWN_PARK),
    ),
    # The walk's services do not reach each other over HTTP, so a bulletin, which reads the
    # registry's indicators, answers 503 to whoever may read it; the token checks come first.
    Route(
        "milestone",
        "GET",
        "/v1/bulletins/{period}",
        Access.READ,
        get("/v1/bulletins/2023-06-X1"),
        ok=503,
    ),
    Route("milestone", "POST", f"{P}/evidence", W, photo, projects, ok=201, foreign=403),
    Route("milestone", "GET", f"{P}/evidence", Access.READ, get(f"{P}/evidence"), photos),
    Route(
        "milestone",
        "POST",
        f"{P}/issues",
        W,
        post(f"{P}/issues", {"description": "用地手续", "assigned_unit": "区自然资源局"}),
        projects,
        ok=201,
        foreign=403,
    ),
    Route("milestone", "GET", f"{P}/issues", Access.READ, get(f"{P}/issues"), projects),
    Route("milestone", "GET", "/v1/issues", Access.READ, get("/v1/issues")),
    Route(
        "milestone",
        "GET",
        "/v1/issues/{issue_id}",
        Access.READ,
        get("/v1/issues/{issue_id}"),
        issues,
    ),
    Route(
        "milestone",
        "POST",
        "/v1/issues/{issue_id}/feedback",
        W,
        post("/v1/issues/{issue_id}/feedback", {"text": "已协调"}),
        issues,
        ok=201,
        foreign=403,
    ),
    Route(
        "milestone",
        "POST",
        "/v1/issues/{issue_id}/close",
        W,
        post("/v1/issues/{issue_id}/close", {"evidence": ["https://oa.example.cn/批复.pdf"]}),
        issues,
        foreign=403,
    ),
    Route(
        "milestone",
        "GET",
        "/v1/evidence/{evidence_id}",
        Access.READ,
        get("/v1/evidence/{evidence_id}"),
        photos,
    ),
    Route(
        "milestone",
        "PUT",
        f"{P}/investment-plans/{{year}}",
        W,
        lambda ctx, park: Req(
            "PUT",
            f"/v1/projects/{ctx.project[park]}/investment-plans/2023",
            json={"annual_plan": 1000},
        ),
        projects,
        foreign=403,
    ),
    Route(
        "milestone",
        "GET",
        f"{P}/investment-plans",
        Access.READ,
        get(f"{P}/investment-plans"),
        projects,
    ),
    Route("milestone", "GET", f"{P}/timeline", Access.READ, get(f"{P}/timeline"), projects),
    Route("milestone", "GET", "/v1/alerts", Access.READ, get("/v1/alerts")),
    Route("milestone", "GET", "/v1/rules", Access.READ, get("/v1/rules")),
    Route("milestone", "GET", "/v1/traffic-lights", Access.READ, get("/v1/traffic-lights")),
    Route("milestone", "GET", "/v1/project-summaries", Access.READ, get("/v1/project-summaries")),
    Route(
        "milestone",
        "POST",
        "/v1/admin/evaluate",
        Access.ADMIN,
        post("/v1/admin/evaluate", as_of="2023-06-15"),
    ),
    Route(
        "milestone",
        "DELETE",
        "/v1/admin/evaluate/pin",
        Access.ADMIN,
        lambda ctx, park: Req("DELETE", "/v1/admin/evaluate/pin"),
        ok=204,
    ),
    # notification
    Route("notification", "GET", "/healthz", Access.PUBLIC, get("/healthz")),
    Route("notification", "GET", "/readyz", Access.PUBLIC, get("/readyz")),
    Route(
        "notification",
        "POST",
        "/v1/subscriptions",
        Access.OWN,
        post("/v1/subscriptions", {"channel": "inbox"}),
        subscription,
        ok=201,
    ),
    Route(
        "notification",
        "GET",
        "/v1/subscriptions",
        Access.OWN,
        get("/v1/subscriptions"),
        subscription,
    ),
    Route(
        "notification",
        "GET",
        "/v1/subscriptions/{subscription_id}",
        Access.OWN,
        get("/v1/subscriptions/{subscription_id}"),
        subscription,
    ),
    Route(
        "notification",
        "PATCH",
        "/v1/subscriptions/{subscription_id}",
        Access.OWN,
        lambda ctx, park: Req(
            "PATCH", f"/v1/subscriptions/{ctx.subscription}", json={"language": "en"}
        ),
        subscription,
    ),
    Route(
        "notification",
        "DELETE",
        "/v1/subscriptions/{subscription_id}",
        Access.OWN,
        lambda ctx, park: Req("DELETE", f"/v1/subscriptions/{ctx.subscription}"),
        subscription,
        ok=204,
    ),
    Route(
        "notification",
        "POST",
        "/v1/subscriptions/{subscription_id}/rotate-secret",
        Access.OWN,
        post("/v1/subscriptions/{subscription_id}/rotate-secret"),
        subscription,
    ),
    Route(
        "notification",
        "GET",
        "/v1/subscriptions/{subscription_id}/digests",
        Access.OWN,
        get("/v1/subscriptions/{subscription_id}/digests"),
        subscription,
    ),
    Route(
        "notification",
        "POST",
        "/v1/subscriptions/{subscription_id}/test",
        Access.OWN,
        post("/v1/subscriptions/{subscription_id}/test"),
        subscription,
        ok=202,
    ),
    Route("notification", "GET", "/v1/deliveries", Access.OWN, get("/v1/deliveries"), inbox_item),
    Route(
        "notification",
        "POST",
        "/v1/dead-letters/replay",
        Access.OWN,
        lambda ctx, park: Req(
            "POST", "/v1/dead-letters/replay", json={"subscription_id": ctx.subscription}
        ),
        subscription,
    ),
    Route("notification", "GET", "/v1/stream", Access.READ, get("/v1/stream"), stream=True),
    Route("notification", "GET", "/v1/inbox", Access.OWN, get("/v1/inbox"), inbox_item),
    Route(
        "notification",
        "POST",
        "/v1/inbox/{item_id}/ack",
        Access.OWN,
        post("/v1/inbox/{item_id}/ack"),
        inbox_item,
    ),
    Route("notification", "GET", "/v1/alert-states", Access.READ, get("/v1/alert-states")),
    Route(
        "notification",
        "GET",
        "/v1/explain",
        Access.OWN,
        lambda ctx, park: Req(
            "GET", "/v1/explain", params={"subscription": ctx.subscription, "event": ctx.event}
        ),
        inbox_item,
    ),
    Route(
        "notification",
        "POST",
        "/v1/contacts",
        Access.ADMIN,
        post("/v1/contacts", json={"name": "李华", "unit": "科技局", "email": "li@example.com"}),
        ok=201,
    ),
    Route("notification", "GET", "/v1/contacts", Access.WRITE, get("/v1/contacts")),
    Route(
        "notification",
        "GET",
        "/v1/contacts/{contact_id}",
        Access.WRITE,
        get("/v1/contacts/{contact_id}"),
        contact,
    ),
    Route(
        "notification",
        "PATCH",
        "/v1/contacts/{contact_id}",
        Access.ADMIN,
        lambda ctx, park: Req("PATCH", f"/v1/contacts/{ctx.contact}", json={"unit": "发改委"}),
        contact,
    ),
    Route(
        "notification",
        "DELETE",
        "/v1/contacts/{contact_id}",
        Access.ADMIN,
        lambda ctx, park: Req("DELETE", f"/v1/contacts/{ctx.contact}"),
        contact,
        ok=204,
    ),
    Route("notification", "GET", "/v1/supervision", Access.READ, get("/v1/supervision")),
    Route(
        "notification",
        "GET",
        "/v1/supervision/{item_id}",
        Access.READ,
        on_item("GET", ""),
        supervision_items,
    ),
    Route(
        "notification",
        "POST",
        "/v1/supervision/{item_id}/respond",
        W,
        on_item("POST", "/respond", {"response": "已约谈企业，6月底前设备进场"}),
        supervision_items,
        foreign=403,
    ),
    Route(
        "notification",
        "POST",
        "/v1/supervision/{item_id}/close",
        W,
        on_item("POST", "/close", {"note": "已办结"}),
        supervision_items,
        foreign=403,
    ),
    Route(
        "notification",
        "POST",
        "/v1/alerts/{alert_key}/ack",
        W,
        post("/v1/alerts/{alert_key}/ack"),
        alerts,
        foreign=403,
    ),
]


# --- calling -------------------------------------------------------------------------------------


async def call(world: World, service: str, req: Req, who: Who | None) -> httpx.Response:
    headers = auth(who.role, who.subject, who.parks) if who is not None else {}
    return await world.clients[service].request(
        req.method, req.url, json=req.json, params=req.params, files=req.files, headers=headers
    )


async def call_stream(world: World, req: Req, who: Who | None) -> httpx.Response:
    """The answer's status and headers, from the app itself: an event stream never ends, so the
    request is cancelled once the first bytes are out."""
    asgi = world.apps["notification"]
    headers = auth(who.role, who.subject, who.parks) if who is not None else {}
    started: dict[str, Any] = {}
    first_body = asyncio.Event()

    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if requests:
            return requests.pop()
        await asyncio.Event().wait()  # then the client listens, and never hangs up on its own
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
        elif message["type"] == "http.response.body":
            first_body.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": req.method,
        "scheme": "http",
        "path": req.url,
        "raw_path": req.url.encode(),
        "query_string": urlencode(req.params or {}).encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("sanpi.test", 80),
        "app": asgi,
    }
    task = asyncio.create_task(asgi(scope, receive, send))  # type: ignore[arg-type]
    try:
        await asyncio.wait_for(first_body.wait(), timeout=10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return httpx.Response(
        started["status"],
        headers=[(k.decode(), v.decode()) for k, v in started["headers"]],
        request=httpx.Request(req.method, f"http://sanpi.test{req.url}"),
    )


def is_problem(response: httpx.Response, status: int) -> bool:
    return (
        response.status_code == status
        and response.headers.get("content-type") == "application/problem+json"
    )


async def walk(world: World, route: Route) -> list[str]:
    """Every way `route` must answer; the list of what it got wrong."""
    ctx = await route.setup(world) if route.setup is not None else Ctx()
    own = route.build(ctx, OWN_PARK)

    async def send(req: Req, who: Who | None) -> httpx.Response:
        if route.stream:
            return await call_stream(world, req, who)
        return await call(world, route.service, req, who)

    wrong: list[str] = []

    def expect(what: str, response: httpx.Response, status: int) -> None:
        ok = is_problem(response, status) if status >= 400 else response.status_code == status
        if not ok:
            wrong.append(
                f"{what}: wanted {status}, got {response.status_code} {response.text[:200]}"
            )

    if route.access is Access.PUBLIC:
        expect("without a token", await send(own, None), route.ok)
        return wrong
    anonymous = await send(own, None)
    expect("without a token", anonymous, 401)
    if anonymous.headers.get("www-authenticate") != 'Bearer realm="sanpi"':
        wrong.append("401 without WWW-Authenticate: Bearer")
    if route.access in (Access.WRITE, Access.ADMIN):
        expect("as a viewer", await send(own, VIEWER), 403)
    if route.access is Access.ADMIN:
        expect("as an operator", await send(own, OPERATOR), 403)
    if route.foreign is not None:
        foreign = await send(route.build(ctx, OTHER_PARK), OPERATOR)
        expect(f"as an operator of {OWN_PARK} on a {OTHER_PARK} object", foreign, route.foreign)
        if route.foreign == 422:
            fields = [e["field"] for e in foreign.json().get("errors", [])]
            if not any("所属园区" in f or "park" in f for f in fields):
                wrong.append(f"the foreign-park 422 does not name the park: {fields}")
    if route.access is Access.OWN:
        seen = await send(own, STRANGER)
        leaked = [i for i in ctx.owned() if i in seen.text]
        if seen.status_code == 200 and leaked:
            wrong.append(f"another subject sees {leaked}")
        elif seen.status_code >= 300 and not is_problem(seen, 404):
            wrong.append(f"another subject: wanted 404 or its own view, got {seen.status_code}")
    expect(
        f"as {RIGHT_CALLER[route.access].subject}",
        await send(own, RIGHT_CALLER[route.access]),
        route.ok,
    )
    return wrong


# --- the tests -----------------------------------------------------------------------------------


async def test_the_table_covers_every_route_of_every_service(tmp_path: Path) -> None:
    async with three_services(tmp_path) as world:
        found = {
            (service, method.upper(), path)
            for service in SERVICES
            for path, methods in world.openapi(service)["paths"].items()
            for method in methods
        }
    table = [(r.service, r.method, r.path) for r in TABLE]
    assert len(table) == len(set(table)), "a route is in the table twice"
    assert found - set(table) == set(), "routes the walk does not cover: add them to TABLE"
    assert set(table) - found == set(), "TABLE names routes that no longer exist"


@pytest.mark.parametrize("service", SERVICES)
async def test_every_route_checks_token_role_and_park(tmp_path: Path, service: str) -> None:
    problems: dict[str, list[str]] = {}
    async with three_services(tmp_path) as world:
        for route in TABLE:
            if route.service == service:
                wrong = await walk(world, route)
                if wrong:
                    problems[f"{route.method} {route.path}"] = wrong
    assert problems == {}


async def test_a_district_alert_is_acknowledged_by_an_admin_only(tmp_path: Path) -> None:
    """An alert without a park used to be acknowledgeable by an operator of any park."""
    async with harness(tmp_path) as h:
        district = alert(Severity.RED, scope="district", alert_key="R15:district:all")
        district = district.model_copy(update={"park": None, "project_id": None})
        await h.feed(district)
        url = "/v1/alerts/R15:district:all/ack"
        refused = await h.client.post(url, headers=auth(Role.OPERATOR, "op-wutong", (OWN_PARK,)))
        assert is_problem(refused, 403), refused.text
        acknowledged = await h.client.post(url, headers=auth(Role.ADMIN, "admin-1"))
        assert acknowledged.status_code == 200, acknowledged.text
        assert acknowledged.json()["acknowledged_by"] == "admin-1"
