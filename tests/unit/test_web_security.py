"""HTTP security of the services (kit/security.py, kit/ratelimit.py): security headers on every
answer, CORS closed unless configured, writes limited per token subject (429 problem+json with
Retry-After), and /docs served from the service itself: Swagger UI from the lock file's wheel,
no inline script, and, in real Chromium, no request to any host but the service."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import APIRouter

from sanpi.kit import Role, ServiceSettings, ServiceSpec, create_service_app
from sanpi.kit.ratelimit import RateLimiter, TooManyRequests
from sanpi.kit.security import DEFAULT_CSP
from sanpi.registry.app import create_app as registry_app
from sanpi.registry.settings import RegistrySettings
from tests.support.apps import auth
from tests.support.registry import FULL_PROJECT, registry_client
from tests.support.threaded import serve_in_thread

HEADERS = {
    "content-security-policy": DEFAULT_CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def assert_secured(response: httpx.Response) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]


async def test_every_kind_of_answer_carries_the_security_headers(tmp_path: Path) -> None:
    async with registry_client(tmp_path, max_body_bytes=1000) as registry:
        answers = {
            "json": await registry.get("/v1/projects"),
            "created": await registry.post("/v1/projects", json=FULL_PROJECT),
            "no token": await registry.get("/v1/projects", headers={"Authorization": ""}),
            "not found": await registry.get("/v1/nothing"),
            "invalid": await registry.post("/v1/projects", json={}),
            "too large (middleware)": await registry.post("/v1/projects", content=b"x" * 2000),
            "health": await registry.get("/healthz"),
            "metrics": await registry.get("/metrics"),
            "openapi": await registry.get("/openapi.json"),
            "docs": await registry.get("/docs"),
            "docs asset": await registry.get("/docs/assets/swagger-ui.css"),
        }
        expected = {"created": 201, "no token": 401, "not found": 404, "invalid": 422}
        expected["too large (middleware)"] = 413
        for name, response in answers.items():
            assert response.status_code == expected.get(name, 200), (name, response.text)
            assert_secured(response)


async def test_an_unexpected_error_carries_them_too(tmp_path: Path) -> None:
    """A 500 is answered by Starlette's outermost middleware, outside the headers middleware."""
    broken = APIRouter()

    @broken.get("/broken")
    async def fail() -> None:
        raise RuntimeError("boom")

    settings = ServiceSettings(data_dir=tmp_path, kafka_enabled=False)
    spec = ServiceSpec(settings=settings, title="t", description="t", routers=[broken], migrations=None)  # fmt: skip
    app = create_service_app(spec)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://sanpi.test") as client:
        response = await client.get("/v1/broken")
    assert response.status_code == 500
    assert "boom" not in response.text
    assert_secured(response)


async def test_cors_is_closed_unless_origins_are_configured(tmp_path: Path) -> None:
    preflight = {
        "Origin": "https://evil.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    async with registry_client(tmp_path) as registry:
        simple = await registry.get("/v1/projects", headers={"Origin": "https://evil.example"})
        assert simple.status_code == 200
        assert "access-control-allow-origin" not in simple.headers
        asked = await registry.options("/v1/projects", headers=preflight)
        assert "access-control-allow-origin" not in asked.headers
        assert asked.status_code == 405
    portal = "https://portal.example"
    async with registry_client(tmp_path / "cors", cors_origins=[portal]) as registry:
        allowed = await registry.options("/v1/projects", headers={**preflight, "Origin": portal})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == portal
        assert "access-control-allow-credentials" not in allowed.headers
        assert_secured(allowed)
        read = await registry.get("/v1/projects", headers={"Origin": portal})
        assert read.headers["access-control-allow-origin"] == portal
        assert "ETag" in read.headers["access-control-expose-headers"]
        other = await registry.options("/v1/projects", headers=preflight)
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers


async def test_writes_are_limited_per_subject_with_a_429_problem(tmp_path: Path) -> None:
    async with registry_client(
        tmp_path, rate_limit_writes_per_s=0.01, rate_limit_writes_burst=2
    ) as registry:
        for _ in range(2):
            created = await registry.post("/v1/projects", json=FULL_PROJECT)
            assert created.status_code == 201, created.text
        limited = await registry.post("/v1/projects", json=FULL_PROJECT)
        assert limited.status_code == 429
        assert limited.headers["content-type"] == "application/problem+json"
        assert 1 <= int(limited.headers["retry-after"]) <= 100
        body = limited.json()
        assert body["type"] == "urn:sanpi:problem:rate-limited"
        assert body["retry_after_s"] == int(limited.headers["retry-after"])
        assert body["detail"].startswith("tester 的写入过于频繁：最多连续 2 次")
        english = await registry.post(
            "/v1/projects", json=FULL_PROJECT, headers={"Accept-Language": "en"}
        )
        assert "too many writes by tester" in english.json()["detail"]
        assert_secured(limited)
        # Nothing was written by the refused request; reads are not limited.
        listed = await registry.get("/v1/projects")
        assert (listed.status_code, len(listed.json()["items"])) == (200, 2)
        # Another subject has a bucket of its own.
        other = await registry.post(
            "/v1/projects", json=FULL_PROJECT, headers=auth(Role.ADMIN, subject="another")
        )
        assert other.status_code == 201, other.text


def test_the_limiter_refills_at_its_rate_and_forgets_idle_keys() -> None:
    now = [0.0]
    limiter = RateLimiter(per_s=2.0, burst=3, max_keys=2, clock=lambda: now[0])
    assert [limiter.take("a").allowed for _ in range(4)] == [True, True, True, False]
    assert limiter.take("a").retry_after_s == pytest.approx(0.5)
    now[0] += 0.5
    assert limiter.take("a").allowed
    assert not limiter.take("a").allowed
    with pytest.raises(TooManyRequests, match="too many login attempts") as raised:
        limiter.check("a", what="login attempts")
    assert raised.value.headers == {"Retry-After": "1"}
    limiter.reset("a")
    assert limiter.take("a").allowed
    # At most max_keys buckets: the longest idle key is dropped and starts again full.
    limiter.take("b")
    limiter.take("c")
    assert set(limiter._buckets) == {"b", "c"}
    unlimited = RateLimiter(per_s=0, burst=1)
    assert all(unlimited.take("x").allowed for _ in range(1000))


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_script = False
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_script = True


async def test_the_docs_page_is_served_whole_by_the_service(tmp_path: Path) -> None:
    async with registry_client(tmp_path) as registry:
        page = await registry.get("/docs")
        assert page.headers["content-type"].startswith("text/html")
        tags = _Tags()
        tags.feed(page.text)
        assert not tags.inline_script
        urls = [
            attrs.get("src") or attrs.get("href") or ""
            for tag, attrs in tags.tags
            if tag in ("script", "link")
        ]
        assert len(urls) == 4
        assert all(u.startswith("/docs/") for u in urls), urls
        assert not any(name.startswith("on") for _tag, attrs in tags.tags for name in attrs)
        for url in urls:
            asset = await registry.get(url)
            assert asset.status_code == 200, url
            assert_secured(asset)
        init = await registry.get("/docs/swagger-init.js")
        assert "validatorUrl: null" in init.text
        assert (await registry.get("/docs/assets/index.html")).status_code == 404
        assert (await registry.get("/docs/assets/..%2F__init__.py")).status_code == 404
        assert (await registry.get("/redoc")).status_code == 404
        bundle = await registry.get("/docs/assets/swagger-ui-bundle.js")
        assert bundle.headers["content-type"].startswith("text/javascript")


CHROMIUM = shutil.which("chromium")


@pytest.fixture
def served_registry(tmp_path: Path, database_url: str) -> Iterator[str]:
    settings = RegistrySettings(data_dir=tmp_path, database_url=database_url, kafka_enabled=False)
    with serve_in_thread(registry_app(settings)) as server:
        yield server.url


@pytest.mark.db_independent
def test_the_docs_page_in_chromium_requests_nothing_from_any_other_host(
    served_registry: str, tmp_path: Path
) -> None:
    """Real Chromium renders the operations (so Swagger UI ran under the CSP, with no violation
    in the console), and every request the page made went to the service."""
    assert CHROMIUM, "Debian's chromium is missing: make chromium"
    net_log = tmp_path / "net.json"
    rendered = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            # Whatever the browser itself tries, no name but the service's resolves.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--enable-logging=stderr",
            "--v=0",
            f"--log-net-log={net_log}",
            "--virtual-time-budget=20000",
            "--dump-dom",
            f"{served_registry}/docs",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr[-2000:]
    assert 'data-path="/v1/projects"' in rendered.stdout, "Swagger UI did not render"
    assert "Content Security Policy" not in rendered.stderr
    origin = served_registry.rstrip("/")
    requested = page_requests(net_log, origin)
    assert {urlsplit(u).path for u in requested} >= {
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/swagger-ui.css",
        "/docs/swagger-init.js",
        "/openapi.json",
    }
    assert [u for u in requested if not u.startswith(origin + "/")] == []


def page_requests(net_log: Path, origin: str) -> list[str]:
    """URLs of the requests the page made: the navigation, and every request whose initiator is
    a page (the browser's own background requests have none)."""
    text = net_log.read_text().rstrip().rstrip(",")
    log: dict[str, Any] = json.loads(text if text.endswith("}") else text + "]}")
    start = next(
        int(code)
        for name, code in log["constants"]["logEventTypes"].items()
        if name == "URL_REQUEST_START_JOB"
    )
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] != start or "url" not in params:
            continue
        initiator = params.get("initiator", "")
        if re.match(r"https?://", initiator) or params["url"].startswith(origin + "/docs"):
            urls.append(params["url"])
    return urls
