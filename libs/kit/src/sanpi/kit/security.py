"""HTTP security of every sanpi app: the security headers and the CORS settings that the edge layer
(kit/edge.py) applies to every answer, and the API docs page (Swagger UI) served by the app
itself, with no inline script and no request to any other host (`install_api_docs(app)`: GET
/docs, /docs/...).

The default Content-Security-Policy allows scripts, styles, fonts and fetches from the app's own
origin only (no inline script, no eval), images from the origin and `data:` (Swagger UI's
icons), and no framing at all (`frame-ancestors 'none'`, with X-Frame-Options DENY for old
browsers). CORS is closed unless origins are configured."""

from __future__ import annotations

import html
from importlib import import_module, resources
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response

DEFAULT_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# What every answer carries (the CSP of the app is added to these).
SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def security_headers(csp: str = DEFAULT_CSP) -> dict[str, str]:
    """The headers the edge layer adds, with `csp` as Content-Security-Policy."""
    return {"Content-Security-Policy": csp, **SECURITY_HEADERS}


# The request headers a browser on another origin may send, and the answer headers it may read,
# when CORS is configured.
CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "Last-Event-ID"]  # fmt: skip
CORS_EXPOSED_HEADERS = ["ETag", "Location", "Retry-After", "Idempotent-Replayed"]


# --- the API docs page ---------------------------------------------------------------------------

# The wheel swagger-ui-bundle-v2 (pinned in uv.lock) ships Swagger UI's dist files; untyped.
SWAGGER_UI = Path(str(import_module("swagger_ui_bundle").swagger_ui_path))
# The files of Swagger UI's distribution the page needs (not its demo index.html, not the maps).
DOCS_ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
STATIC = resources.files("sanpi.kit") / "static"

DOCS_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-init.js"></script>
</body>
</html>
"""


def install_api_docs(app: FastAPI) -> None:
    """GET /docs: Swagger UI for the app's OpenAPI document, every file served from here.
    Create the app with docs_url=None and redoc_url=None (FastAPI's pages load from a CDN)."""
    page = DOCS_PAGE.format(
        title=html.escape(app.title), openapi_url=html.escape(app.openapi_url or "/openapi.json")
    )

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/docs/swagger-init.js", include_in_schema=False)
    async def docs_init() -> Response:
        script = (STATIC / "swagger-init.js").read_bytes()
        return Response(script, media_type="text/javascript; charset=utf-8")

    @app.get("/docs/assets/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> FileResponse:
        if name not in DOCS_ASSETS:
            raise HTTPException(404, f"no docs asset {name}")
        return FileResponse(
            SWAGGER_UI / name,
            media_type=DOCS_ASSETS[name],
            headers={"Cache-Control": "public, max-age=86400"},
        )
