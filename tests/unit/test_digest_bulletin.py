"""A 旬 digest carries its 旬's bulletin (通报): the e-mail attaches the PDF (RFC 2231 Chinese name),
robots link to the portal's copy; fetched once per 旬 from the milestone API with a viewer token,
and when it cannot be had the digest still goes out and says so."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from sanpi.events import Severity
from sanpi.kit import Role, verify_token
from sanpi.kit.clock import CAMPAIGN_TZ
from sanpi.kit.settings import DEV_JWT_SECRET
from sanpi.notification import metrics
from sanpi.notification.channels.email import compose
from sanpi.notification.channels.templates import Attachment, Message
from sanpi.notification.digests import service as digests
from sanpi.notification.digests.bulletin import BulletinSource
from sanpi.notification.digests.message import render
from tests.support.notification import Harness, SmtpSink, alert, harness, smtp_sink
from tests.support.robots import RobotReceiver, WecomReceiver, shown_text
from tests.support.waiting import eventually

PDF = b"%PDF-1.7\n% a bulletin\n%%EOF\n"
NAME = "通报-2023-03-X2.pdf"
OFFICIAL = "li@wutong.example.cn"


def cst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=CAMPAIGN_TZ)


def parsed(message: EmailMessage) -> EmailMessage:
    """The message as a mail client reads it: from its bytes on the wire."""
    found = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(found, EmailMessage)
    return found


def test_the_bulletin_is_a_pdf_attachment_whose_name_decodes_to_chinese() -> None:
    message = Message(
        "【三批·旬红色预警汇总】2023年3月中旬",
        "正文",
        attachments=(Attachment(NAME, "application/pdf", PDF),),
    )
    sent = compose(
        message, sender="sanpi <s@x.cn>", recipient=OFFICIAL, notification_id="n1", language="zh"
    )
    wire = sent.as_bytes()
    # RFC 2231: the name travels as percent-encoded UTF-8 in an ASCII header.
    assert b"filename*=utf-8''%E9%80%9A%E6%8A%A5-2023-03-X2.pdf" in wire
    assert "通报".encode() not in wire
    got = parsed(sent)
    assert got.get_content_type() == "multipart/mixed"
    assert got["Subject"] == "【三批·旬红色预警汇总】2023年3月中旬"
    body = got.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content().strip() == "正文"
    [attached] = list(got.iter_attachments())
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_filename() == NAME
    assert attached.get_content() == PDF


def test_a_message_without_attachments_stays_a_single_text_part() -> None:
    sent = compose(
        Message("s", "t"), sender="s@x.cn", recipient=OFFICIAL, notification_id="n", language="en"
    )
    assert parsed(sent).get_content_type() == "text/plain"


def xun_event(**bulletin: str) -> dict[str, object]:
    return {
        "data": {
            "kind": "xun",
            "slot": "2023-03-X2",
            "window_start": "2023-03-10T09:30:00+00:00",
            "window_end": "2023-03-20T09:30:00+00:00",
            "parks": [],
            **bulletin,
        }
    }


def test_the_digest_names_the_bulletin_and_robots_link_to_it_or_say_it_is_missing() -> None:
    url = "http://portal.example/bulletins/2023-03-X2.pdf"
    found = render(
        xun_event(bulletin_period="2023-03-X2", bulletin_url=url, bulletin_filename=NAME),
        language="zh",
    )
    assert f"本旬通报：{url}" in found.text
    assert found.link == url
    assert found.link_label == f"查看本旬通报 {NAME}"
    missing = render(
        xun_event(bulletin_period="2023-03-X2", bulletin_missing="进度服务答复 503"),
        language="zh",
    )
    assert "本旬通报未能附上（进度服务答复 503）；本汇总照常发送" in missing.text
    assert missing.link is None
    english = render(
        xun_event(bulletin_period="2023-03-X2", bulletin_missing="进度服务答复 503"),
        language="en",
    )
    assert "the digest went out without it" in english.text


# --- over the notification app (in-process), the milestone API answered by a handler ----------


class Milestone:
    """The milestone service's bulletin route as the digest job sees it over HTTP: it checks
    the token as the service would (signature, audience, role) and counts the calls."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.calls: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        token = request.headers["Authorization"].removeprefix("Bearer ")
        principal = verify_token(DEV_JWT_SECRET, token, audience="sanpi-milestone")
        assert principal.role is Role.VIEWER
        assert request.url.path == "/v1/bulletins/2023-03-X2"
        assert request.url.params["format"] == "pdf"
        if self.status != 200:
            return httpx.Response(self.status, json={"detail": "down"})
        return httpx.Response(200, content=PDF, headers={"content-type": "application/pdf"})


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with smtp_sink() as running:
        yield running


@pytest.fixture
async def h(tmp_path: Path, smtp: SmtpSink) -> AsyncIterator[Harness]:
    # The job's own pass runs at start-up only (before the 旬 ends): the test's pass is the one.
    async with harness(
        tmp_path,
        at=cst(2023, 3, 20, 12, 0),
        smtp_port=smtp.port,
        digest_poll_s=3600,
        portal_url="http://portal.example",
        milestone_url="http://milestone.test",
    ) as running:
        yield running


async def subscribe_both(h: Harness, robot: RobotReceiver) -> None:
    for body in (
        {"channel": "email", "email": OFFICIAL, "parks": ["梧桐"]},
        {"channel": "wecom", "url": robot.url, "parks": ["梧桐"]},
    ):
        made = await h.client.post(
            "/v1/subscriptions",
            json={**body, "digest": {"xun_at": "17:30", "instead_of_immediate": True}},
        )
        assert made.status_code == 201, made.text


def outcome(name: str) -> float:
    return float(metrics.DIGEST_BULLETINS.labels(name)._value.get())


async def test_a_xun_digest_e_mail_attaches_the_bulletin_fetched_once_and_robots_link_it(
    h: Harness, smtp: SmtpSink
) -> None:
    milestone = Milestone()
    source = BulletinSource(h.runtime.settings, transport=httpx.MockTransport(milestone))  # type: ignore[arg-type]
    with WecomReceiver() as robot:
        await subscribe_both(h, robot)
        h.clock.advance(dt.timedelta(minutes=1))
        await h.feed(alert(Severity.RED, park="梧桐", project_name="雄韬氢能产业园"))
        before = outcome("attached")
        h.clock.set(cst(2023, 3, 20, 17, 30).astimezone(dt.UTC))
        queued = await digests.run_due(h.runtime.db, now=h.clock.now(), bulletins_from=source)
        assert [r.slot for r in queued] == ["2023-03-X2", "2023-03-X2"]
        assert len(milestone.calls) == 1  # one fetch for every subscriber of the 旬
        assert outcome("attached") == before + 2
        # A second pass (another replica, a restart) queues and fetches nothing more.
        assert await digests.run_due(h.runtime.db, now=h.clock.now(), bulletins_from=source) == []
        assert len(milestone.calls) == 1

        await eventually(lambda: len(smtp.to(OFFICIAL)) == 1, what="the digest e-mail")
        [mail] = smtp.to(OFFICIAL)
        [attached] = list(mail.iter_attachments())
        assert attached.get_content_type() == "application/pdf"
        assert attached.get_filename() == NAME
        assert attached.get_content() == PDF
        body = mail.get_body(preferencelist=("plain",))
        assert body is not None
        text = body.get_content()
        assert "【梧桐】新变红 1 项" in text
        assert f"附件：{NAME}" in text

        def digest() -> str | None:
            shown = [shown_text(g) for g in robot.got() if "旬红色预警汇总" in shown_text(g)]
            return shown[0] if shown else None

        await eventually(lambda: digest() is not None, what="the robot's digest")
        assert robot.refused == []
        link = "http://portal.example/bulletins/2023-03-X2.pdf"
        assert f"[查看本旬通报 {NAME}]({link})" in (digest() or "")


async def test_when_the_milestone_api_fails_the_digest_goes_out_without_it_and_says_so(
    h: Harness, smtp: SmtpSink
) -> None:
    milestone = Milestone(status=503)
    source = BulletinSource(h.runtime.settings, transport=httpx.MockTransport(milestone))  # type: ignore[arg-type]
    with WecomReceiver() as robot:
        await subscribe_both(h, robot)
        before = outcome("missing")
        h.clock.set(cst(2023, 3, 20, 17, 30).astimezone(dt.UTC))
        queued = await digests.run_due(h.runtime.db, now=h.clock.now(), bulletins_from=source)
        assert len(queued) == 2
        assert outcome("missing") == before + 2
        await eventually(lambda: len(smtp.to(OFFICIAL)) == 1, what="the digest e-mail")
        [mail] = smtp.to(OFFICIAL)
        assert list(mail.iter_attachments()) == []
        assert "本旬通报未能附上（进度服务答复 503" in mail.get_content()
        await eventually(lambda: len(robot.got()) == 1, what="the robot's digest")
        assert robot.refused == []
        shown = shown_text(robot.got()[0])
        assert "本旬通报未能附上" in shown
        assert "/bulletins/" not in shown

    # Both delivered once: nothing lost, nothing sent twice (each outcome is recorded just
    # after the receiver answered).
    async def both_delivered() -> bool:
        found = sorted((d["kind"], d["status"]) for d in await h.deliveries())
        return found == [("XUN_DIGEST", "DELIVERED"), ("XUN_DIGEST", "DELIVERED")]

    await eventually(both_delivered, what="two deliveries, each delivered once")
