"""E-mail over implicit TLS (port 465, what most Chinese providers offer) and STARTTLS, against a
real TLS SMTP server in-process (aiosmtpd) with a certificate made in the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from sanpi.events import Severity
from sanpi.notification.channels import email
from sanpi.notification.channels.templates import Kind, render
from sanpi.notification.settings import NotificationSettings
from tests.conftest import free_port
from tests.support.notification import SmtpServer, SmtpSink, alert, harness
from tests.support.tls import Certificate, self_signed
from tests.support.waiting import eventually


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return self_signed(tmp_path / "tls")


@pytest.fixture
def tls_server(certificate: Certificate) -> Iterator[SmtpSink]:
    server = SmtpServer(free_port(), ssl_context=certificate.server_context())
    yield server.start()
    server.stop()


@pytest.fixture
def starttls_server(certificate: Certificate) -> Iterator[SmtpSink]:
    server = SmtpServer(
        free_port(),
        server_kwargs={"tls_context": certificate.server_context(), "require_starttls": True},
    )
    yield server.start()
    server.stop()


def _message(**settings: Any) -> tuple[Any, NotificationSettings]:
    config = NotificationSettings(kafka_enabled=False, **settings)
    event = {"type": "sanpi.alert.raised.v1", "data": alert(Severity.RED).model_dump(mode="json")}
    composed = email.compose(
        render(Kind.EVENT, [event], language="zh"),
        sender=config.smtp_from,
        recipient="zhang@example.cn",
        notification_id="msg_1",
        language="zh",
    )
    return composed, config


@pytest.mark.asyncio
async def test_implicit_tls_on_its_own_port_delivers_the_chinese_e_mail(
    tls_server: SmtpSink, certificate: Certificate
) -> None:
    message, settings = _message(
        smtp_port=tls_server.port, smtp_tls=True, smtp_ca_file=str(certificate.cert)
    )
    result = await email.send(message, settings)
    assert result.delivered, result.error
    [got] = tls_server.received()
    assert got["Subject"] == "【红色预警】雄韬氢能产业园：签约后未开工"


@pytest.mark.asyncio
async def test_implicit_tls_checks_the_servers_certificate(tls_server: SmtpSink) -> None:
    message, settings = _message(smtp_port=tls_server.port, smtp_tls=True)  # system CAs only
    result = await email.send(message, settings)
    assert not result.delivered
    assert "CERTIFICATE_VERIFY_FAILED" in (result.error or "")
    assert tls_server.received() == []


@pytest.mark.asyncio
async def test_a_plain_client_gets_nothing_through_a_tls_port(tls_server: SmtpSink) -> None:
    message, settings = _message(smtp_port=tls_server.port, smtp_timeout_s=2.0)
    result = await email.send(message, settings)
    assert not result.delivered
    assert tls_server.received() == []


@pytest.mark.asyncio
async def test_starttls_still_works_beside_implicit_tls(
    starttls_server: SmtpSink, certificate: Certificate
) -> None:
    message, settings = _message(
        smtp_port=starttls_server.port, smtp_starttls=True, smtp_ca_file=str(certificate.cert)
    )
    assert (await email.send(message, settings)).delivered
    refused, plain = _message(smtp_port=starttls_server.port)
    result = await email.send(refused, plain)
    assert not result.delivered, "the server requires STARTTLS"
    assert len(starttls_server.received()) == 1


def test_implicit_tls_and_starttls_are_one_or_the_other() -> None:
    with pytest.raises(ValidationError, match="smtp_tls and smtp_starttls"):
        NotificationSettings(smtp_tls=True, smtp_starttls=True)


@pytest.mark.asyncio
async def test_an_email_subscription_is_delivered_over_implicit_tls_by_the_worker(
    tmp_path: Path, tls_server: SmtpSink, certificate: Certificate
) -> None:
    async with harness(
        tmp_path,
        smtp_port=tls_server.port,
        smtp_tls=True,
        smtp_ca_file=str(certificate.cert),
    ) as h:
        response = await h.client.post(
            "/v1/subscriptions", json={"channel": "email", "email": "li@example.cn"}
        )
        assert response.status_code == 201, response.text
        await h.feed(alert(Severity.RED))
        [got] = await eventually(lambda: tls_server.to("li@example.cn"), what="the e-mail")
        assert got["Subject"].startswith("【红色预警】")
        assert "梧桐园区运营中心" in got.get_content()
