"""`sanpi issues …` against the milestone service under a real uvicorn (no broker): raise, list
with filters, feedback, close with evidence, and the refusals printed in Chinese."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sanpi.client.cli import app as cli
from sanpi.client.sdk import ApiError, SanpiClient, ServiceUrls
from sanpi.events import build_record
from sanpi.kit import FixedClock, Role
from sanpi.milestone.app import create_app
from sanpi.milestone.settings import MilestoneSettings
from tests.support.apps import token
from tests.support.milestone import at, registration
from tests.support.notification import as_consumed
from tests.support.threaded import ThreadedServer, serve_in_thread


@pytest.fixture
def milestone(tmp_path: Path, database_url: str) -> Iterator[ThreadedServer]:
    settings = MilestoneSettings(
        data_dir=tmp_path, database_url=database_url, kafka_enabled=False, evaluation_interval_s=0
    )
    with serve_in_thread(create_app(settings, FixedClock(at(dt.date(2023, 4, 21))))) as server:
        consumer = server.runtime.consumer
        assert consumer is not None
        _event, record = build_record(registration("p1"), source="/sanpi/registry")
        server.run(consumer.process(as_consumed(record)))
        yield server


def run(server: ThreadedServer, *args: str) -> Any:
    env = {
        "SANPI_MILESTONE_URL": server.url,
        "SANPI_TOKEN": token(Role.OPERATOR, "op-1", ("梧桐",)),
    }
    return CliRunner().invoke(cli, list(args), env=env)


def test_the_cli_raises_answers_lists_and_closes_an_issue(milestone: ThreadedServer) -> None:
    helped = run(milestone, "issues", "--help")
    assert helped.exit_code == 0
    assert "13710" in helped.output
    raised = run(
        milestone, "issues", "raise", "p1", "双回路电力接入方案未批复", "--unit", "区供电公司",
        "--category", "power", "--json",
    )  # fmt: skip
    assert raised.exit_code == 0, raised.output
    issue = json.loads(raised.stdout)
    assert (issue["due_on"], issue["category_label"]) == ("2023-05-04", "电力接入")

    no_unit = run(milestone, "issues", "raise", "p1", "用地未批", "--unit", "")
    assert no_unit.exit_code == 1
    assert "assigned_unit" in no_unit.output
    assert "责任单位" in no_unit.output

    answered = run(milestone, "issues", "feedback", issue["id"], "已报市供电公司")
    assert answered.exit_code == 0, answered.output
    assert "IN_PROGRESS" in answered.output
    listed = run(milestone, "issues", "list", "--unit", "区供电公司", "--open", "--json")
    assert [i["id"] for i in json.loads(listed.stdout)["items"]] == [issue["id"]]
    mine = run(milestone, "issues", "list", "--park", "梧桐", "--park", "龙湖", "--feedback")
    assert mine.exit_code == 0, mine.output
    assert "已报市供电公司" in mine.output
    assert "梧桐" in mine.output
    elsewhere = run(milestone, "issues", "list", "--park", "城关", "--json")
    assert json.loads(elsewhere.stdout)["items"] == []
    wrong = run(milestone, "issues", "list", "--status", "done")
    assert wrong.exit_code == 1
    assert "status" in wrong.output

    bare = run(milestone, "issues", "close", issue["id"])
    assert bare.exit_code == 2  # --evidence is required
    closed = run(
        milestone, "issues", "close", issue["id"], "--evidence", "https://oa.example.cn/批复.pdf"
    )
    assert closed.exit_code == 0, closed.output
    assert "CLOSED" in closed.output
    again = run(milestone, "issues", "feedback", issue["id"], "补充")
    assert again.exit_code == 1
    assert "已于 2023-04-21 销号" in again.output
    shown = run(milestone, "issues", "show", issue["id"])
    assert "已报市供电公司" in shown.output
    assert run(milestone, "issues", "list", "p1", "--open", "--json").stdout.count('"id"') == 0
    late = run(milestone, "issues", "list", "--status", "closed", "--due-first", "--json")
    assert [i["id"] for i in json.loads(late.stdout)["items"]] == [issue["id"]]


def test_the_sdk_and_the_cli_pass_the_version_they_read(milestone: ThreadedServer) -> None:
    with SanpiClient(
        token(Role.OPERATOR, "op-1", ("梧桐",)), ServiceUrls(milestone=milestone.url)
    ) as sanpi:
        raised = sanpi.milestone.raise_issue(
            "p1", {"description": "用地手续未批", "assigned_unit": "区自然资源局"}
        )
        iid = raised["id"]
        assert sanpi.milestone.issue(iid)["version"] == 1
        answered = sanpi.milestone.issue_feedback(iid, "已上报", version=1)
        assert answered["version"] == 2
        # Another official still holding version 1: refused, saying which one is current.
        with pytest.raises(ApiError) as stale:
            sanpi.milestone.close_issue(iid, {"evidence": ["https://oa.example.cn/1"]}, version=1)
        assert stale.value.status == 412
        assert "当前是第 2 版，不是第 1 版" in stale.value.problem["detail"]
        assert sanpi.milestone.issue(iid)["status"] == "IN_PROGRESS"

    shown = run(milestone, "issues", "show", iid, "--json")
    assert json.loads(shown.stdout)["version"] == 2
    old = run(milestone, "issues", "feedback", iid, "补充", "--version", "1")
    assert old.exit_code == 1
    assert "当前是第 2 版" in old.output
    closed = run(
        milestone, "issues", "close", iid, "--evidence", "https://oa.example.cn/1", "--version", "2"
    )
    assert closed.exit_code == 0, closed.output
    assert "CLOSED" in closed.output
