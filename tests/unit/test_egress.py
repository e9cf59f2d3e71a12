"""The SSRF guard (channels/egress.py): only global addresses, IPv4 hidden in IPv6 judged by the
IPv4 inside, loopback only when allowed, and the address connected to is the one checked (a
name that answers a public address to the check and a private one to the client reaches
nothing). No test here connects anywhere but 127.0.0.1: public answers only ever meet a check."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from sanpi.notification.channels import webhook
from sanpi.notification.channels.egress import Egress, TargetRefused, check_url
from sanpi.notification.settings import NotificationSettings
from tests.conftest import free_port
from tests.support.notification import harness

# An address no test connects to: it only ever answers a check, which lets it through.
PUBLIC = "93.184.216.34"

# Every kind of address a webhook must never reach, whether or not loopback is allowed.
NEVER = [
    "100.100.100.200",  # cloud metadata in carrier-grade NAT space (100.64.0.0/10)
    "100.64.0.1",
    "169.254.169.254",  # link-local cloud metadata
    "0.0.0.0",  # unspecified
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "198.18.0.1",  # benchmarking
    "192.0.2.1",  # documentation
    "224.0.0.1",  # multicast
    "[::ffff:169.254.169.254]",  # IPv4-mapped
    "[::ffff:10.0.0.1]",
    "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
    "[64:ff9b::a00:1]",  # NAT64 of 10.0.0.1
    "[64:ff9b:1::808:808]",  # local-use NAT64
    "[2002:a9fe:a9fe::1]",  # 6to4 of 169.254.169.254
    "[::a00:1]",  # IPv4-compatible
    "[fd00::1]",
    "[fe80::1]",
    "[::]",
    "[ff02::1]",
]
LOOPBACK = ["127.0.0.1", "127.8.9.10", "[::1]", "[::ffff:127.0.0.1]", "localhost"]


@pytest.mark.db_independent
@pytest.mark.parametrize("allow_loopback", [False, True])
@pytest.mark.parametrize("host", NEVER)
async def test_non_public_addresses_are_refused_even_with_loopback_allowed(
    host: str, allow_loopback: bool
) -> None:
    with pytest.raises(TargetRefused, match="address"):
        await check_url(f"http://{host}/hook", Egress(allow_loopback=allow_loopback))


@pytest.mark.db_independent
@pytest.mark.parametrize("host", LOOPBACK)
async def test_loopback_only_when_allowed(host: str) -> None:
    with pytest.raises(TargetRefused, match="not a public address"):
        await check_url(f"http://{host}:9/hook", Egress())
    await check_url(f"http://{host}:9/hook", Egress(allow_loopback=True))


@pytest.mark.db_independent
@pytest.mark.parametrize(
    "address", [PUBLIC, "::ffff:93.184.216.34", "64:ff9b::5db8:d822", "2002:5db8:d822::1"]
)
def test_public_addresses_and_their_ipv6_forms_pass(address: str) -> None:
    assert Egress().refusal(address) is None


@pytest.mark.db_independent
@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "http"),
        ("gopher://127.0.0.1/", "http"),
        ("http:///hook", "no host"),
        ("http://127.0.0.1:99999/", "port"),
        ("http://nothing.sanpi.invalid/hook", "does not resolve"),
    ],
)
async def test_urls_that_cannot_be_called(url: str, reason: str) -> None:
    with pytest.raises(TargetRefused, match=reason):
        await check_url(url, Egress(allow_loopback=True))


class Receiver:
    """A webhook receiver on 127.0.0.1 that records what reaches it."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.port = free_port()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(f"{request.method} {request.host}{request.path}")
        await request.read()
        return web.Response(status=204)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", state.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", state.port).start()
    yield state
    await runner.cleanup()


class Rebinding:
    """getaddrinfo for names under .sanpi.test answers from a script, one answer per call
    (the last repeats); other names resolve as usual."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *answers: str) -> None:
        self.answers = list(answers)
        self.calls: list[str] = []
        loop = asyncio.get_running_loop()
        real = loop.getaddrinfo

        async def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if not str(host).endswith(".sanpi.test"):
                return await real(host, port, *args, **kwargs)
            answer = self.answers[min(len(self.calls), len(self.answers) - 1)]
            self.calls.append(answer)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, int(port)))]

        monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)


async def post(url: str, policy: Egress) -> Any:
    async with webhook.client(timeout_s=5.0, max_connections=2, policy=policy) as client:
        return await webhook.post(
            client, url=url, secrets=[webhook.new_secret()], msg_id="msg_1", body=b"{}"
        )


@pytest.mark.db_independent
async def test_a_name_that_rebinds_to_a_private_address_after_the_check_reaches_nothing(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check sees a public address; the connection would go to the receiver on 127.0.0.1
    (standing in for any private address). The connector checks the address it connects to."""
    dns = Rebinding(monkeypatch, PUBLIC, "127.0.0.1")
    url = f"http://rebind.sanpi.test:{receiver.port}/hook"
    policy = Egress()
    await check_url(url, policy)
    result = await post(url, policy)
    assert dns.calls == [PUBLIC, "127.0.0.1"], "the client resolved the name again"
    assert receiver.seen == []
    assert not result.delivered
    assert result.error is not None
    assert result.error.startswith("target refused: host rebind.sanpi.test resolves to 127.0.0.1")


@pytest.mark.db_independent
async def test_a_literal_private_address_is_refused_as_the_client_connects(
    receiver: Receiver,
) -> None:
    """Without any pre-check: the connector alone keeps the request from 127.0.0.1."""
    result = await post(f"http://127.0.0.1:{receiver.port}/hook", Egress())
    assert receiver.seen == []
    assert result.error is not None
    assert "target refused: address 127.0.0.1: not a public address" in result.error
    allowed = await post(f"http://127.0.0.1:{receiver.port}/hook", Egress(allow_loopback=True))
    assert allowed.delivered
    assert receiver.seen == [f"POST 127.0.0.1:{receiver.port}/hook"]


@pytest.mark.db_independent
async def test_the_environments_proxy_is_trusted_and_the_target_still_checked(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The receiver plays the operator's proxy on 127.0.0.1: reachable although loopback is not
    allowed for targets. A target that resolves to cloud metadata never reaches the proxy."""
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{receiver.port}")
    Rebinding(monkeypatch, PUBLIC)
    delivered = await post("http://receiver.sanpi.test/hook", Egress())
    assert delivered.delivered, delivered.error
    assert receiver.seen == ["POST receiver.sanpi.test/hook"]
    metadata = await post("http://169.254.169.254/latest/meta-data", Egress())
    assert metadata.error is not None
    assert metadata.error.startswith("target refused: address 169.254.169.254")
    assert receiver.seen == ["POST receiver.sanpi.test/hook"]


async def test_the_local_stack_refuses_cloud_metadata_and_private_receivers(
    tmp_path: Path,
) -> None:
    """`make up` and the tests allow loopback receivers: the metadata endpoints and private
    ranges stay refused, as a 422 naming the url."""
    async with harness(tmp_path) as h:
        settings = h.runtime.settings
        assert isinstance(settings, NotificationSettings)
        assert settings.allow_loopback_targets
        for url in (
            "http://100.100.100.200/latest/meta-data",
            "http://169.254.169.254/latest/meta-data",
            "http://[::ffff:169.254.169.254]/",
            "http://10.0.0.8/hook",
        ):
            response = await h.client.post(
                "/v1/subscriptions", json={"channel": "webhook", "url": url}
            )
            assert response.status_code == 422, (url, response.text)
            [error] = response.json()["errors"]
            assert error["field"] == "url"
            assert "不是公网地址" in error["reason"]  # Chinese unless asked for English
        loopback = await h.client.post(
            "/v1/subscriptions", json={"channel": "webhook", "url": "http://127.0.0.1:9/hook"}
        )
        assert loopback.status_code == 201, loopback.text


@pytest.mark.db_independent
async def test_a_refused_target_says_why_in_either_language() -> None:
    # str() stays English (a delivery log); the message reads in the reader's language.
    with pytest.raises(TargetRefused) as refused:
        await check_url("http://[::ffff:10.0.0.1]/hook", Egress())
    assert str(refused.value) == ("address ::ffff:a00:1: it carries 10.0.0.1, not a public address")
    assert (
        refused.value.message.render("zh") == "地址 ::ffff:a00:1：其中包含 10.0.0.1，不是公网地址"
    )
    with pytest.raises(TargetRefused) as unresolved:
        await check_url("http://nothing.sanpi.invalid/hook", Egress(allow_loopback=True))
    assert unresolved.value.message.render("zh") == "主机 nothing.sanpi.invalid 无法解析"
