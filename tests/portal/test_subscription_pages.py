"""我的订阅: create a subscription with its errors beside the fields, send a test and see it in the
delivery log, pause, resume and delete."""

from __future__ import annotations

import re
from typing import Any

from sanpi.kit import Role
from tests.support.portal import District, csrf_of
from tests.support.robots import DingtalkReceiver, FeishuReceiver, RobotReceiver, WecomReceiver
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


async def test_group_robots_are_subscribed_with_their_secret_kept_out_of_every_page(
    district: District,
) -> None:
    portal = district.portal
    await portal.add_user("zhang", Role.OPERATOR, ("梧桐",))
    await portal.login("zhang")
    form = await portal.client.get("/subscriptions/new")
    for name in ("企业微信群机器人", "钉钉群机器人", "飞书群机器人", 'type="password"'):
        assert name in form.text
    token = csrf_of(form.text)
    receivers: dict[str, RobotReceiver] = {
        "wecom": WecomReceiver().start(),
        "dingtalk": DingtalkReceiver().start(),
        "feishu": FeishuReceiver().start(),
    }
    try:
        # 钉钉 without its 加签 secret: refused by the portal beside the secret field, and the
        # URL typed is kept in the form while no secret is ever written back.
        dingtalk = receivers["dingtalk"]

        async def dingtalk_form(**fields: str) -> Any:
            data = {"csrf_token": token, "channel": "dingtalk", "topics": "alerts", **fields}
            return await portal.client.post("/subscriptions/new", data=data)

        no_secret = await dingtalk_form(url=dingtalk.url)
        assert no_secret.status_code == 422
        assert 'id="secret-error"' in no_secret.text
        assert "签名密钥" in no_secret.text
        secret = str(dingtalk.secret)
        bad_mobile = await dingtalk_form(
            url=dingtalk.url, secret=secret, mention_mobiles="13800000001, 12345"
        )
        assert bad_mobile.status_code == 422
        assert 'id="mention_mobiles-error"' in bad_mobile.text
        assert "12345" in bad_mobile.text
        assert secret not in bad_mobile.text
        # A 飞书 address given to 钉钉: the notification service refuses it, its reason beside url.
        wrong_vendor = await dingtalk_form(url=receivers["feishu"].url, secret=secret)
        assert wrong_vendor.status_code == 422
        assert 'id="url-error"' in wrong_vendor.text
        assert "不是钉钉机器人的 Webhook 地址" in wrong_vendor.text

        created: dict[str, str] = {}
        for channel, receiver in receivers.items():
            data = {
                "csrf_token": token,
                "channel": channel,
                "url": receiver.url,
                "topics": ["alerts"],
                "min_severity": "red",
            }
            if receiver.secret:
                data["secret"] = receiver.secret
            if channel != "feishu":
                data["mention_mobiles"] = "13800000001、13800000002"
            page = await portal.client.post("/subscriptions/new", data=data)
            assert page.status_code == 201, page.text
            found = re.search(r'action="/subscriptions/([^/"]+)/test"', page.text)
            assert found is not None
            created[channel] = found.group(1)
            tested = await portal.client.post(
                f"/subscriptions/{created[channel]}/test", data={"csrf_token": token}
            )
            assert tested.status_code == 303
        for receiver in receivers.values():
            # The robots check the vendor's signature: a test arriving proves the secret went
            # through the portal to the notification service intact.
            await eventually(receiver.got, what=f"the test message at {type(receiver).__name__}")

        pages = [await portal.client.get("/subscriptions")] + [
            await portal.client.get(f"/subscriptions/{sid}") for sid in created.values()
        ]
        listed = pages[0].text
        for name in ("企业微信群机器人", "钉钉群机器人", "飞书群机器人"):
            assert name in listed
        assert "13800000001" in pages[1 + list(created).index("dingtalk")].text
        for page in pages:
            for receiver in receivers.values():
                assert receiver.token not in page.text  # the robot's access token, cut short
                if receiver.secret:
                    assert receiver.secret not in page.text
    finally:
        for receiver in receivers.values():
            receiver.stop()


async def test_a_digest_is_asked_for_on_the_form_and_shown_on_the_subscription(
    district: District,
) -> None:
    portal = district.portal
    await portal.add_user("zhang", Role.OPERATOR, ("梧桐",))
    await portal.login("zhang")
    form = await portal.client.get("/subscriptions/new")
    for text in (
        "红色预警汇总（可选）",
        "每日发送时间（北京时间）",
        "仅工作日发送（节假日不发，调休上班日照发）",
    ):
        assert text in form.text
    token = csrf_of(form.text)
    fields = {"csrf_token": token, "channel": "inbox", "topics": "alerts"}
    bad = await portal.client.post(
        "/subscriptions/new", data={**fields, "digest_daily_at": "8点半"}
    )
    assert bad.status_code == 422
    assert 'id="digest_daily_at-error"' in bad.text
    assert "请填写时间，如 08:30。" in bad.text
    created = await portal.client.post(
        "/subscriptions/new",
        data={
            **fields,
            "digest_daily_at": "08:30",
            "digest_xun_at": "17:30",
            "digest_options": ["working_days", "instead"],
        },
    )
    assert created.status_code == 201, created.text
    assert "每天 08:30；每旬末 17:30，仅工作日，代替逐条消息" in created.text
