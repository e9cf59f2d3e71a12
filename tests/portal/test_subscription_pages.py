"""我的订阅: create a subscription with its errors beside the fields, send a test and see it in the
delivery log, pause, resume and delete."""

from __future__ import annotations

import re

from sanpi.kit import Role
from tests.support.portal import District, csrf_of
from tests.support.sink import WebhookSink
from tests.support.waiting import eventually


async def test_errors_of_the_form_are_shown_beside_their_fields(district: District) -> None:
    portal = district.portal
    await portal.add_user("zhang", Role.OPERATOR, ("梧桐",))
    await portal.login("zhang")
    form = await portal.client.get("/subscriptions/new")
    token = csrf_of(form.text)
    no_url = await portal.client.post(
        "/subscriptions/new", data={"csrf_token": token, "channel": "webhook", "topics": "alerts"}
    )
    assert no_url.status_code == 422
    assert 'id="url-error"' in no_url.text
    assert "Webhook 需要" in no_url.text or "接收地址" in no_url.text
    bad_mail = await portal.client.post(
        "/subscriptions/new",
        data={
            "csrf_token": token,
            "channel": "email",
            "email": "not-an-address",
            "topics": "alerts",
        },
    )
    assert 'id="email-error"' in bad_mail.text
    no_topic = await portal.client.post(
        "/subscriptions/new", data={"csrf_token": token, "channel": "inbox"}
    )
    assert 'id="topics-error"' in no_topic.text


async def test_a_webhook_subscription_gets_its_test_and_can_be_paused_and_deleted(
    district: District, webhook_sink: WebhookSink
) -> None:
    portal = district.portal
    await portal.add_user("zhang", Role.OPERATOR, ("梧桐",))
    await portal.login("zhang")
    token = csrf_of((await portal.client.get("/subscriptions/new")).text)
    created = await portal.client.post(
        "/subscriptions/new",
        data={
            "csrf_token": token,
            "channel": "webhook",
            "url": webhook_sink.url,
            "topics": ["alerts", "stages"],
            "min_severity": "red",
            "parks": "梧桐",
        },
    )
    assert created.status_code == 201, created.text
    assert "whsec_" in created.text  # the signing secret, once
    subscription = re.search(r'action="/subscriptions/([^/"]+)/test"', created.text)
    assert subscription is not None
    sid = subscription.group(1)

    listed = await portal.client.get("/subscriptions")
    assert webhook_sink.url in listed.text
    tested = await portal.client.post(f"/subscriptions/{sid}/test", data={"csrf_token": token})
    assert tested.status_code == 303
    await eventually(webhook_sink.accepted, what="the test message at the receiver")

    async def logged() -> bool:
        page = await portal.client.get(f"/subscriptions/{sid}")
        return "测试消息" in page.text and "已送达" in page.text

    await eventually(logged, what="the test in the delivery log")

    paused = await portal.client.post(f"/subscriptions/{sid}/pause", data={"csrf_token": token})
    assert paused.status_code == 303
    assert "已暂停" in (await portal.client.get("/subscriptions")).text
    refused = await portal.client.post(f"/subscriptions/{sid}/test", data={"csrf_token": token})
    assert refused.status_code == 409
    assert (
        await portal.client.post(f"/subscriptions/{sid}/resume", data={"csrf_token": token})
    ).status_code == 303
    deleted = await portal.client.post(f"/subscriptions/{sid}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303
    assert webhook_sink.url not in (await portal.client.get("/subscriptions")).text


async def test_someone_elses_subscription_is_not_found(district: District) -> None:
    portal = district.portal
    await portal.add_user("zhang", Role.VIEWER, ())
    await portal.add_user("li", Role.VIEWER, ())
    await portal.login("zhang")
    token = csrf_of((await portal.client.get("/subscriptions/new")).text)
    created = await portal.client.post(
        "/subscriptions/new", data={"csrf_token": token, "channel": "inbox", "topics": "alerts"}
    )
    sid = re.search(r'action="/subscriptions/([^/"]+)/test"', created.text).group(1)  # type: ignore[union-attr]
    await portal.login("li")
    other = await portal.client.get(f"/subscriptions/{sid}")
    assert other.status_code == 404
    assert (await portal.client.get("/subscriptions/.x")).status_code == 400
