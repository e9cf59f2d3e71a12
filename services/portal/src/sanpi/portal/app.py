"""Builds the portal app: its pages, static files, security headers and the pages shown for
"log in first", "not allowed", "not found" and "a service is down"."""

from __future__ import annotations

import logging

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from sanpi.client.sdk.base import ApiError
from sanpi.kit import ServiceSpec, create_service_app
from sanpi.kit.errors import Problem
from sanpi.kit.ratelimit import RateLimiter
from sanpi.portal.accounts.endpoints import router as accounts_router
from sanpi.portal.admin.endpoints import router as admin_router
from sanpi.portal.alerts.endpoints import router as alerts_router
from sanpi.portal.i18n import _
from sanpi.portal.indicators.endpoints import router as indicators_router
from sanpi.portal.issues.endpoints import router as issues_router
from sanpi.portal.migrations import MIGRATIONS
from sanpi.portal.projects.endpoints import router as projects_router
from sanpi.portal.reference import Reference
from sanpi.portal.reports.endpoints import router as reports_router
from sanpi.portal.settings import PortalSettings
from sanpi.portal.subscriptions.endpoints import router as subscriptions_router
from sanpi.portal.supervision.endpoints import router as supervision_router
from sanpi.portal.upstream import ServiceDown, Upstream
from sanpi.portal.web import (
    STATIC_DIR,
    CsrfRefused,
    LanguageMiddleware,
    LoginRequired,
    NotAllowed,
    login_url,
    redirect,
    render,
)

log = logging.getLogger("sanpi.portal")

# Multipart framing around an uploaded photo or sheet: a few hundred bytes; 64 KiB is generous.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
IMPORT_MAX_BYTES = 32 * 1024 * 1024


def error_page(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    return render(
        request, "error.html", {"status": status, "title": title, "detail": detail}, status=status
    )


def install_page_errors(app: FastAPI) -> None:
    """Errors of pages are pages, in the visitor's language; nothing shows a trace."""

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired) -> Response:
        return redirect(login_url(request), htmx="hx-request" in request.headers)

    @app.exception_handler(NotAllowed)
    async def _not_allowed(request: Request, exc: NotAllowed) -> Response:
        return error_page(request, 403, _("Not allowed"), exc.reason or _("Not allowed"))

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, _exc: CsrfRefused) -> Response:
        return error_page(
            request,
            403,
            _("The form has expired"),
            _("Reload the page and submit the form again."),
        )

    @app.exception_handler(ServiceDown)
    async def _down(request: Request, exc: ServiceDown) -> Response:
        log.warning("service unavailable for %s: %s", request.url.path, exc)
        return error_page(
            request,
            503,
            _("Service temporarily unavailable"),
            _(
                "The %(service)s service did not answer. Nothing was lost; please try again "
                "in a minute. If this lasts, tell the administrator.",
                service=exc.service,
            ),
        )

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> Response:
        if exc.status == 404:
            return error_page(request, 404, _("Not found"), _("This record does not exist."))
        if exc.status in (401, 403):
            return error_page(
                request, 403, _("Not allowed"), _("The service refused this for your account.")
            )
        log.warning("service refused %s: %s %s", request.url.path, exc.status, exc.problem)
        return error_page(
            request,
            exc.status,
            _("The request was refused"),
            _("The service refused the request."),
        )

    @app.exception_handler(httpx.TransportError)
    async def _transport(request: Request, exc: httpx.TransportError) -> Response:
        return await _down(request, ServiceDown("service", type(exc).__name__))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error_page(request, 404, _("Not found"), _("There is no such page."))
        if exc.status_code == 405:
            return error_page(request, 405, _("Not allowed"), _("This page takes no such request."))
        return error_page(request, exc.status_code, _("Error"), _("The request was refused."))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, _exc: RequestValidationError) -> Response:
        return error_page(request, 400, _("Bad request"), _("The address has invalid values."))

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        if exc.status >= 500:
            return error_page(
                request, exc.status, _("Service temporarily unavailable"), _("Please try again.")
            )
        return error_page(request, exc.status, _("Error"), _("The request was refused."))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("unexpected error on %s", request.url.path, exc_info=exc)
        return error_page(
            request, 500, _("Something went wrong"), _("The error was logged; please try again.")
        )


def create_app(
    settings: PortalSettings | None = None, transport: httpx.BaseTransport | None = None
) -> FastAPI:
    """`transport`: how the portal reaches the services (tests route it to in-process apps)."""
    settings = settings or PortalSettings()
    upload_limit = settings.upload_max_bytes + MULTIPART_OVERHEAD_BYTES
    app = create_service_app(
        ServiceSpec(
            settings=settings,
            title="sanpi portal",
            description="工作台: pages for park operators, officials and administrators.",
            routers=[],
            migrations=MIGRATIONS,
            body_limits=[
                (r"^/report/milestone", upload_limit),
                (r"^/admin/import", IMPORT_MAX_BYTES + MULTIPART_OVERHEAD_BYTES),
            ],
        )
    )
    # Pages only: no OpenAPI document, and so no API docs page (the kit gives every app one).
    app.openapi_url = None
    app.router.routes = [
        r
        for r in app.router.routes
        if not str(getattr(r, "path", "")).startswith(("/docs", "/openapi.json"))
    ]
    app.state.upstream = Upstream(settings, transport)
    app.state.reference = Reference()
    # Logins per client address (kit.ratelimit): guessing across many accounts from one address
    # is slowed too, not only one account (whose lock-out is in the database).
    app.state.login_limit = RateLimiter(
        per_s=1 / settings.login_refill_s, burst=settings.login_burst
    )
    install_page_errors(app)
    for router in (
        accounts_router,
        projects_router,
        supervision_router,
        issues_router,
        alerts_router,
        indicators_router,
        subscriptions_router,
        reports_router,
        admin_router,
    ):
        app.include_router(router)
    if not (STATIC_DIR / "vendor" / "htmx.min.js").exists():
        # Pages still answer, but without their scripts, charts and font.
        log.error("the portal's scripts and font are missing: run `make portal-assets`")
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    app.add_middleware(LanguageMiddleware)
    return app
