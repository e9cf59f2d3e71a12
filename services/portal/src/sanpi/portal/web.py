"""The page machinery: Jinja2 templates with gettext, the request's visitor and language,
CSRF checks on every form, and the answers for "log in first", "not yours" and "service down"."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.datastructures import FormData

from sanpi.kit import Runtime, utcnow
from sanpi.kit.app import get_runtime
from sanpi.portal import i18n, labels
from sanpi.portal.accounts import service as accounts
from sanpi.portal.accounts.service import SessionState, Visitor
from sanpi.portal.i18n import N_, _
from sanpi.portal.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    PAGE_HEADERS,
    ASGIApp,
    Receive,
    Scope,
    Send,
    safe_next,
    same_token,
)
from sanpi.portal.settings import PortalSettings, settings_of

log = logging.getLogger("sanpi.portal")

# Ids of other services' records in the portal's addresses: what their ids look like (UUIDs, or
# the ids an imported ledger brings), never starting with a dot ("." and ".." go into the
# services' paths).
ID_PATTERN = r"^[A-Za-z0-9_:\-][A-Za-z0-9._:\-]{0,63}$"
RecordId = Annotated[str, PathParam(pattern=ID_PATTERN)]

SESSION_COOKIE = "sanpi_session"
LOGIN_CSRF_COOKIE = "sanpi_login_csrf"
LANGUAGE_COOKIE = "sanpi_lang"

STATIC_DIR = Path(__file__).parent / "static"


def _json_script(value: Any) -> Markup:
    """JSON for a <script type="application/json"> block: `<`, `>` and `&` escaped, so no text a
    person typed can close the block."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above for the only context it is used in


def _worst(severities: list[str]) -> str:
    """The most severe of some severities (green when none)."""
    order: dict[str, int] = {str(s): n for n, s in enumerate(reversed(labels.SEVERITY_ORDER))}
    return max(severities, key=lambda s: order.get(s, -1), default="green")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("sanpi.portal", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda message, **values: i18n._(message, **values),
        ngettext=lambda s, p, n, **values: i18n.ngettext(s, p, n, **values),
        newstyle=True,
    )
    env.filters.update(
        day=i18n.day,
        moment=i18n.moment,
        amount=i18n.amount,
        percent=i18n.percent,
        report_period=i18n.report_period,
        stage=lambda c: labels.label(labels.STAGES, c),
        milestone=lambda c: labels.label(labels.MILESTONES, c),
        severity=lambda c: labels.label(labels.SEVERITIES, c),
        rule=lambda c: labels.label(labels.RULES, c),
        rule_text=lambda c: labels.label(labels.RULE_TEXTS, c),
        category=lambda c: labels.label(labels.CATEGORIES, c),
        chain=lambda c: labels.label(labels.CHAINS, c),
        issue_category=lambda c: labels.label(labels.ISSUE_CATEGORIES, c),
        issue_term=lambda c: labels.label(labels.ISSUE_TERMS, c),
        issue_status=lambda c: labels.label(labels.ISSUE_STATUSES, c),
        batch=lambda c: labels.label(labels.BATCHES, c),
        period_status=lambda c: labels.label(labels.PERIOD_STATUSES, c),
        role=lambda c: labels.label(labels.ROLES, c),
        channel=lambda c: labels.label(labels.CHANNELS, c),
        json_script=_json_script,
        pairs=lambda items: [(x, x) for x in items],
        worst=_worst,
    )
    env.globals.update(labels=labels)
    return env


templates = _environment()


# --- language -------------------------------------------------------------------------------


class LanguageMiddleware:
    """Sets the page language of each request from its cookie (Chinese unless it says en)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            lang = i18n.DEFAULT_LANGUAGE
            for name, value in scope.get("headers") or []:
                if name == b"cookie":
                    for part in value.decode("latin-1").split(";"):
                        key, _sep, val = part.strip().partition("=")
                        if key == LANGUAGE_COOKIE and val in i18n.LANGUAGES:
                            lang = val
            i18n.set_language(lang)
        await self.app(scope, receive, send)


# --- who is asking -------------------------------------------------------------------------


class LoginRequired(Exception):
    """No valid session: pages send the browser to the login page, coming back afterwards."""


class NotAllowed(Exception):
    """The visitor's role or parks do not allow this page or form."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


class CsrfRefused(Exception):
    """A form without this session's token: refused before it does anything."""


def settings(request: Request) -> PortalSettings:
    return settings_of(get_runtime(request))


async def current_visitor(request: Request) -> Visitor:
    """The logged-in visitor, from the session cookie (read-only unless the session needs a
    touch or must be forgotten)."""
    cached = getattr(request.state, "visitor", None)
    if isinstance(cached, Visitor):
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired
    runtime: Runtime = get_runtime(request)
    conf = settings_of(runtime)
    now = utcnow()
    async with runtime.db.read() as session:
        row, account = await accounts.find_session(session, token)
    state = accounts.session_state(
        row, account, now=now, idle_s=conf.session_idle_s, max_s=conf.session_max_s
    )
    if state is SessionState.GONE:
        if row is not None:
            async with runtime.db.transaction() as uow:
                await accounts.close_session(uow, token)
        raise LoginRequired
    if state is SessionState.STALE:
        async with runtime.db.transaction() as uow:
            await accounts.touch_session(uow, token, now)
    assert row is not None
    assert account is not None
    found = Visitor(account, row)
    request.state.visitor = found
    return found


VisitorDep = Annotated[Visitor, Depends(current_visitor)]


async def writer(visitor: VisitorDep) -> Visitor:
    if not visitor.is_writer:
        raise NotAllowed(_("Only administrators and park operators post updates."))
    return visitor


async def admin(visitor: VisitorDep) -> Visitor:
    if not visitor.is_admin:
        raise NotAllowed(_("Only administrators manage the portal."))
    return visitor


WriterDep = Annotated[Visitor, Depends(writer)]
AdminDep = Annotated[Visitor, Depends(admin)]


async def checked_form(request: Request, visitor: VisitorDep) -> FormData:
    """The form of a POST, once its CSRF token matched the session's (field or htmx header)."""
    form = await request.form(max_part_size=settings(request).upload_max_bytes)
    given = form.get(CSRF_FIELD)
    token = given if isinstance(given, str) else request.headers.get(CSRF_HEADER)
    if not same_token(visitor.login.csrf_token, token):
        raise CsrfRefused
    return form


FormDep = Annotated[FormData, Depends(checked_form)]


# --- rendering --------------------------------------------------------------------------------


def query_with(request: Request, **changes: Any) -> str:
    """This page's query string with some parameters changed (None removes one): the links of
    filters and pages keep the rest."""
    params: list[tuple[str, str]] = [
        (k, v) for k, v in request.query_params.multi_items() if k not in changes
    ]
    for key, value in changes.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            params += [(key, str(v)) for v in value]
        else:
            params.append((key, str(value)))
    return "?" + urlencode(params) if params else "?"


NAV: tuple[tuple[str, str, str], ...] = (
    # (path, msgid, who sees it: any | writer | admin)
    ("/", N_("My projects"), "any"),
    ("/report", N_("Report"), "writer"),
    ("/alerts", N_("Alerts and rankings"), "any"),
    ("/indicators", N_("Indicators"), "any"),
    ("/subscriptions", N_("My subscriptions"), "any"),
    ("/admin", N_("Administration"), "admin"),
)


def nav_for(visitor: Visitor | None, path: str) -> list[dict[str, Any]]:
    if visitor is None:
        return []
    items = []
    for href, msgid, who in NAV:
        if who == "writer" and not visitor.is_writer:
            continue
        if who == "admin" and not visitor.is_admin:
            continue
        active = path == href if href == "/" else path.startswith(href)
        if href == "/" and path.startswith("/projects"):
            active = True
        items.append({"href": href, "label": _(msgid), "active": active})
    return items


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    visitor = getattr(request.state, "visitor", None)
    csrf = visitor.login.csrf_token if isinstance(visitor, Visitor) else None
    values: dict[str, Any] = {
        "request": request,
        "visitor": visitor,
        "csrf_token": csrf,
        "csrf_field": CSRF_FIELD,
        "lang": i18n.language(),
        "nav": nav_for(visitor if isinstance(visitor, Visitor) else None, request.url.path),
        "query_with": lambda **changes: query_with(request, **changes),
        "today": dt.datetime.now(tz=dt.UTC),
        "path": request.url.path,
        "full_path": request.url.path + (("?" + request.url.query) if request.url.query else ""),
        "errors": {},
        "values": {},
    }
    values.update(context or {})
    body = templates.get_template(template).render(values)
    return HTMLResponse(body, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})


def redirect(url: str, *, htmx: bool = False) -> RedirectResponse | HTMLResponse:
    """303 to `url` (a path of this site); for an htmx request, HX-Redirect instead."""
    target = safe_next(url)
    if htmx:
        return HTMLResponse("", headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def login_url(request: Request) -> str:
    here = request.url.path + (("?" + request.url.query) if request.url.query else "")
    return "/login?" + urlencode({"next": here})


__all__ = [
    "ID_PATTERN",
    "LANGUAGE_COOKIE",
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "STATIC_DIR",
    "AdminDep",
    "CsrfRefused",
    "FormDep",
    "LanguageMiddleware",
    "LoginRequired",
    "NotAllowed",
    "RecordId",
    "VisitorDep",
    "WriterDep",
    "current_visitor",
    "login_url",
    "redirect",
    "render",
    "settings",
    "templates",
]
