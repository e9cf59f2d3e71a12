"""The CLI's `sanpi subscribe` to a group robot (--secret, --mention) and `sanpi notifications
explain`, against the notification service under a real uvicorn (no broker) and a local 钉钉
robot that checks the 加签 signature and the message schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sanpi.client.cli import app as cli
from sanpi.events import Severity
from sanpi.kit import FixedClock, Role
from sanpi.notification.app import create_app
from tests.support.apps import token
from tests.support.notification import SHANGHAI_10AM, alert, as_consumed, harness_settings, record
from tests.support.robots import DingtalkReceiver
from tests.support.threaded import ThreadedServer, serve_in_thread
from tests.support.waiting import eventually

MOBILE = "13800000001"


@pytest.fixture
def notification(tmp_path: Path) -> Iterator[ThreadedServer]:
    app = create_app(harness_settings(tmp_path), FixedClock(SHANGHAI_10AM))
    with serve_in_thread(app) as server:
        yield server


@pytest.fixture
def robot() -> Iterator[DingtalkReceiver]:
    receiver = DingtalkReceiver().start()
    yield receiver  # type: ignore[misc]
    receiver.stop()


def run(server: ThreadedServer, *args: str) -> Any:
    env = {"SANPI_NOTIFICATION_URL": server.url, "SANPI_TOKEN": token(Role.VIEWER, "officer")}
    return CliRunner().invoke(cli, list(args), env=env)


def feed(server: ThreadedServer, severity: Severity, park: str = "梧桐") -> str:
    event, kafka = record(alert(severity, park=park))
    consumer = server.runtime.consumer
    assert consumer is not None
    server.run(consumer.process(as_consumed(kafka)))
    return event.id


async def test_subscribe_a_robot_with_its_secret_and_mentions_then_explain(
    notification: ThreadedServer, robot: DingtalkReceiver
) -> None:
    made = run(
        notification,
        "subscribe",
        robot.url,
        "--channel",
        "dingtalk",
        "--secret",
        str(robot.secret),
        "--mention",
        MOBILE,
        "--park",
        "梧桐",
    )
    assert made.exit_code == 0, made.output
    subscription = json.loads(made.stdout)
    assert subscription["channel"] == "dingtalk"
    assert subscription["mention_mobiles"] == [MOBILE]
    assert subscription["secret"] is None  # a robot's secret is stored sealed, never shown

    red = feed(notification, Severity.RED)
    # The robot accepts only a request signed with the secret the CLI passed.
    await eventually(lambda: len(robot.got()) == 1, what="the signed message at the robot")
    assert robot.got()[0].body["at"] == {"atMobiles": [MOBILE], "isAtAll": False}

    def delivered() -> Any:
        answer = run(
            notification,
            "notifications",
            "explain",
            "--subscription",
            subscription["id"],
            "--event",
            red,
        )
        return answer if "已送达" in answer.output else None

    answer = await eventually(delivered, what="explain says delivered")
    assert answer.exit_code == 0, answer.output
    lines = answer.output.splitlines()
    assert lines[0].startswith("已送达："), answer.output
    assert any(line.startswith("  ✓ 园区：要求 梧桐，事件为 梧桐 → 符合") for line in lines)
    assert any("红色预警：立即单独发送" in line for line in lines)
    assert any(line.strip().startswith("#1 ") and "→ 200" in line for line in lines), lines
    assert not any("不限" in line for line in lines)  # open conditions only with --all
    assert (
        "产业链：不限"
        in run(
            notification,
            "notifications",
            "explain",
            "--subscription",
            subscription["id"],
            "--event",
            red,
            "--all",
        ).output
    )

    elsewhere = feed(notification, Severity.RED, park="石佛")
    english = run(
        notification,
        "notifications",
        "explain",
        "--subscription",
        subscription["id"],
        "--event",
        elsewhere,
        "--lang",
        "en",
    )
    assert english.exit_code == 0, english.output
    assert english.output.startswith("not notified: park: wanted 梧桐, the event has 石佛")
    as_json = run(
        notification,
        "notifications",
        "explain",
        "--subscription",
        subscription["id"],
        "--event",
        elsewhere,
        "--json",
    )
    assert json.loads(as_json.stdout)["verdict"] == "filtered_out"

    unknown = run(
        notification,
        "notifications",
        "explain",
        "--subscription",
        subscription["id"],
        "--event",
        "no-such-event",
    )
    assert unknown.exit_code == 1
    assert "error 404" in unknown.output
    assert "事件 no-such-event 不在通知服务中" in " ".join(unknown.output.split())


def test_subscribe_refuses_a_dingtalk_robot_without_its_secret(
    notification: ThreadedServer, robot: DingtalkReceiver
) -> None:
    refused = run(notification, "subscribe", robot.url, "--channel", "dingtalk")
    assert refused.exit_code == 1
    assert "error 422" in refused.output
    assert "secret" in refused.output
