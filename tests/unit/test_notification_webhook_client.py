"""The webhook POST on the worker's HTTP client (aiohttp, issue 8): a signed body that verifies,
no redirect followed, Retry-After and 410 read, network trouble and timeouts a failed attempt."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from standardwebhooks import Webhook

from sanpi.notification.channels import webhook
from sanpi.notification.channels.egress import Egress
from sanpi.notification.channels.result import AttemptResult
from tests.conftest import free_port

# Pure code, no database: the PostgreSQL pass of make test would repeat these to the letter.
pytestmark = [pytest.mark.asyncio, pytest.mark.db_independent]

SECRET = webhook.new_secret()
# The receivers here listen on 127.0.0.1 (the SSRF guard's own tests: test_egress.py).
LOCAL = Egress(allow_loopback=True)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[web.Request], list[bytes]]]:
    requests: list[web.Request] = []
    bodies: list[bytes] = []

    async def hook(request: web.Request) -> web.StreamResponse:
        requests.append(request)
        bodies.append(await request.read())
        return web.Response(status=204)

    async def moved(_request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/hook")

    async def busy(_request: web.Request) -> web.StreamResponse:
        return web.Response(status=503, headers={"retry-after": "7"})

    async def gone(_request: web.Request) -> web.StreamResponse:
        return web.Response(status=410)

    async def slow(_request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(1)
        return web.Response(status=204)

    app = web.Application()
    for path, handler in [
        ("/hook", hook),
        ("/moved", moved),
        ("/busy", busy),
        ("/gone", gone),
        ("/slow", slow),
    ]:
        app.router.add_post(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", requests, bodies
    await runner.cleanup()


async def post(url: str, timeout_s: float = 5.0) -> AttemptResult:
    async with webhook.client(timeout_s=timeout_s, max_connections=2, policy=LOCAL) as client:
        return await webhook.post(
            client, url=url, secrets=[SECRET], msg_id="msg_1", body=b'{"a":"\xe4\xb8\xad"}'
        )


async def test_a_delivered_post_is_signed_and_verifies(
    receiver: tuple[str, list[web.Request], list[bytes]],
) -> None:
    base, requests, bodies = receiver
    result = await post(f"{base}/hook")
    assert result.delivered
    assert result.status_code == 204
    (request,) = requests
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == "msg_1"
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert Webhook(SECRET).verify(bodies[0], headers) == {"a": "中"}


async def test_a_redirect_is_not_followed(
    receiver: tuple[str, list[web.Request], list[bytes]],
) -> None:
    base, requests, _bodies = receiver
    result = await post(f"{base}/moved")
    assert (result.delivered, result.status_code, result.error) == (False, 302, "HTTP 302")
    assert requests == []


async def test_retry_after_and_gone_are_read(
    receiver: tuple[str, list[web.Request], list[bytes]],
) -> None:
    base, _requests, _bodies = receiver
    busy = await post(f"{base}/busy")
    assert (busy.status_code, busy.retry_after_s, busy.gone) == (503, 7.0, False)
    gone = await post(f"{base}/gone")
    assert (gone.status_code, gone.gone, gone.delivered) == (410, True, False)


async def test_network_trouble_and_timeouts_are_failed_attempts(
    receiver: tuple[str, list[web.Request], list[bytes]],
) -> None:
    base, _requests, _bodies = receiver
    refused = await post(f"http://127.0.0.1:{free_port()}/hook")
    assert refused.status_code is None
    assert refused.error is not None
    assert not refused.delivered
    slow = await post(f"{base}/slow", timeout_s=0.2)
    assert slow.status_code is None
    assert slow.error is not None
    # The receiver answers after 1 s: no status and a timeout show the 0.2 s limit cut it short
    # (a bound on duration_ms would time the event loop, which a loaded machine stalls).
    assert "Timeout" in slow.error


async def test_a_post_takes_no_detour_through_the_thread_pool(
    receiver: tuple[str, list[web.Request], list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # aiohttp's trust_env looked up a proxy and a ~/.netrc login in a worker thread for every
    # request: two thread hops a webhook, each costing as much CPU as the rest of the POST.
    base, requests, _bodies = receiver
    loop = asyncio.get_running_loop()
    real = loop.run_in_executor
    hops: list[object] = []

    def counting(executor: object, func: object, *args: object) -> asyncio.Future[object]:
        hops.append(func)
        return real(executor, func, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(loop, "run_in_executor", counting)
    async with webhook.client(timeout_s=5.0, max_connections=2, policy=LOCAL) as client:
        for n in range(3):
            result = await webhook.post(
                client, url=f"{base}/hook", secrets=[SECRET], msg_id=f"msg_{n}", body=b"{}"
            )
            assert result.delivered
    assert len(requests) == 3
    assert hops == []


async def test_a_cookie_one_receiver_sets_is_never_sent_with_a_later_delivery() -> None:
    # One client serves every subscription: a cookie kept from one receiver's answer went back
    # with the next delivery to that host, whoever's subscription it was (aiohttp keeps cookies
    # of host names, not of IP addresses: hence localhost).
    cookies: list[str | None] = []

    async def hook(request: web.Request) -> web.StreamResponse:
        cookies.append(request.headers.get("cookie"))
        response = web.Response(status=204)
        response.set_cookie("session", "of-the-first-subscriber")
        return response

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with webhook.client(timeout_s=5, max_connections=2, policy=LOCAL) as client:
            for msg_id in ("msg_1", "msg_2"):
                result = await webhook.post(
                    client,
                    url=f"http://localhost:{port}/hook",
                    secrets=[SECRET],
                    msg_id=msg_id,
                    body=b"{}",
                )
                assert result.delivered
    finally:
        await runner.cleanup()
    assert cookies == [None, None]
