"""`sanpi contacts …` and `sanpi supervision list|respond|close` (and the SDK calls beneath them)
against the notification service under a real uvicorn, on a FixedClock (no broker)."""

from __future__ import annotations

import asyncio
import datetime as dt
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
from tests.support.threaded import ThreadedServer, serve_in_thread
from tests.support.waiting import eventually


@pytest.fixture
def notifier(tmp_path: Path, database_url: str) -> Iterator[tuple[ThreadedServer, FixedClock]]:
    clock = FixedClock(SHANGHAI_10AM)
    settings = harness_settings(tmp_path, database_url=database_url)
    with serve_in_thread(create_app(settings, clock)) as server:
        yield server, clock


def run(server: ThreadedServer, *args: str, role: Role = Role.ADMIN, who: str = "official") -> Any:
    env = {
        "SANPI_NOTIFICATION_URL": server.url,
        "SANPI_TOKEN": token(role, who, ("梧桐",)),
        "COLUMNS": "250",  # a wide terminal: the table is not cut
    }
    return CliRunner().invoke(cli, list(args), env=env)


def test_contacts_and_supervision_items_from_the_command_line(
    notifier: tuple[ThreadedServer, FixedClock],
) -> None:
    server, clock = notifier
    refused = run(server, "contacts", "add", "--name", "王建国", "--unit", "梧桐园区运营中心")
    assert refused.exit_code == 1
    assert "联系人至少需要一个联系方式" in refused.output
    assert "wecom_mobile:" in refused.output

    added = run(
        server,
        "contacts", "add", "--name", "王建国", "--unit", "梧桐园区运营中心",
        "--email", "wang@wutong.example.cn",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    contact = json.loads(added.output)
    listed = run(server, "contacts", "list", "--unit", "梧桐园区运营中心", "--json")
    assert [c["id"] for c in json.loads(listed.output)["items"]] == [contact["id"]]

    consumer = server.runtime.consumer
    assert consumer is not None
    subscribed = run(server, "subscribe", "--channel", "inbox")
    assert subscribed.exit_code == 0, subscribed.output
    _event, kafka = record(alert(Severity.RED, project_name="无人反馈项目"))
    server.run(consumer.process(as_consumed(kafka)))
    clock.advance(dt.timedelta(minutes=10))

    def one_item() -> list[dict[str, Any]] | None:
        shown = run(server, "supervision", "list", "--unit", "梧桐园区运营中心", "--json")
        items: list[dict[str, Any]] = json.loads(shown.output)["items"]
        return items or None

    # The probe calls the server over HTTP: it waits here, off the server's loop.
    [item] = asyncio.run(eventually(lambda: asyncio.to_thread(one_item), what="the item"))
    assert item["contact_name"] == "王建国"
    table = run(server, "supervision", "list", "--park", "梧桐")
    assert "王建国" in table.output
    assert "open" in table.output

    answered = run(
        server, "supervision", "respond", item["id"], "已约谈企业", role=Role.OPERATOR, who="wangjg"
    )
    assert answered.exit_code == 0, answered.output
    assert json.loads(answered.output)["responded_by"] == "wangjg"
    closed = run(server, "supervision", "close", item["id"], "--note", "同意办结")
    assert json.loads(closed.output)["status"] == "closed"
    again = run(server, "supervision", "respond", item["id"], "再次反馈")
    assert again.exit_code == 1
    assert "已办结" in again.output
    assert json.loads(run(server, "supervision", "list", "--json").output)["items"] == []
