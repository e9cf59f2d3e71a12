"""An English subscription reads an alert's title and details in English (the alert events'
title_en and message_en, as the milestone rules write them), a Chinese one in Chinese, and an
event from before the English was carried falls back on the Chinese: robots, e-mail, digests."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from sanpi.events import AlertRaised, AlertRule, Severity
from sanpi.milestone.rules.evaluation import DesiredAlert
from sanpi.milestone.rules.messages import Texts
from sanpi.notification.channels.templates import Kind, render
from sanpi.notification.digests import message as digest_message
from tests.conftest import free_port
from tests.support.notification import Harness, SmtpServer, SmtpSink, alert, harness
from tests.support.robots import Got, WecomReceiver, shown_text
from tests.support.waiting import eventually
from tests.unit.test_milestone_alert_english import scope_alerts
from tests.unit.test_milestone_rules import D, alerts, project


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    server = SmtpServer(free_port())
    yield server.start()
    server.stop()


@pytest.fixture
async def h(tmp_path: Path, smtp: SmtpSink) -> AsyncIterator[Harness]:
    async with harness(tmp_path, smtp_port=smtp.port) as running:
        yield running


@pytest.fixture
def robots() -> Iterator[dict[str, WecomReceiver]]:
    with WecomReceiver() as zh, WecomReceiver() as en:
        assert isinstance(zh, WecomReceiver)
        assert isinstance(en, WecomReceiver)
        yield {"zh": zh, "en": en}


async def subscribe(h: Harness, **body: Any) -> None:
    response = await h.client.post("/v1/subscriptions", json=body)
    assert response.status_code == 201, response.text


def said(desired: DesiredAlert) -> Texts:
    return {
        "title": desired.title,
        "message": desired.message,
        "title_en": desired.title_en,
        "message_en": desired.message_en,
    }


def r02() -> AlertRaised:
    """R02 as the rules say it of a project 92 days past its planned start."""
    desired = alerts(project(planned_start=D(2023, 3, 15)), D(2023, 6, 15))["R02:p1"]
    return alert(Severity.RED, rule=AlertRule.R02, **said(desired))


def r15() -> AlertRaised:
    """R15 as the rules say it of 梧桐's 签约额 (a park's alert: no project)."""
    [desired] = [a for a in scope_alerts() if a.key == "R15:梧桐:SIGN_AMOUNT"]
    raised = alert(Severity.RED, rule=AlertRule.R15, **said(desired))
    return raised.model_copy(
        update={
            "alert_key": desired.key,
            "scope": "park",
            "project_id": None,
            "project_name": None,
            "chain_tag": None,
            "category": None,
            "total_investment": None,
        }
    )


async def two(receiver: WecomReceiver) -> list[Got]:
    def both() -> list[Got] | None:
        found = receiver.got()
        return found if len(found) == 2 else None

    return await eventually(both, what="the robot's two messages")


@pytest.mark.asyncio
async def test_english_robots_and_mail_read_english_titles_and_details_chinese_ones_chinese(
    h: Harness, smtp: SmtpSink, robots: dict[str, WecomReceiver]
) -> None:
    for lang, receiver in robots.items():
        await subscribe(h, channel="wecom", url=receiver.url, language=lang)
    await subscribe(h, channel="email", email="en@wutong.example.cn", language="en")
    project_alert, scope_alert = r02(), r15()
    await h.feed(project_alert)
    await h.feed(scope_alert)

    got = {lang: [shown_text(g) for g in await two(r)] for lang, r in robots.items()}
    # By rule, not by arrival: two alerts' deliveries need not arrive in the order fed.
    en_project, en_scope = sorted(got["en"], key=lambda t: "R15" in t)
    assert "**Details**：planned start 2023-03-15 passed 92 days ago, still not started" in (
        en_project
    )
    assert "计划开工" not in en_project
    assert (
        "**Details**：by 2023-09-01 amount signed by new projects: 1954 (10k yuan) of the target "
        "3650 (10k yuan) = 53.5%, time progress 66.8%, behind by 13.3 percentage points"
    ) in en_scope
    assert "序时进度" not in en_scope
    zh_project, zh_scope = sorted(got["zh"], key=lambda t: "R15" in t)
    assert "**说明**：计划开工 2023-03-15 已过 92 天仍未开工 (签约 165 天)" in zh_project
    assert "**说明**：截至 2023-09-01 签约额完成 1954 万元 / 目标 3650 万元" in zh_scope
    assert "planned start" not in zh_project

    mails = await eventually(lambda: smtp.to("en@wutong.example.cn")[1:] and smtp.received())
    text = "\n".join(m.get_content() for m in mails)
    assert "Title: 雄韬氢能产业园: signed, not started" in text
    assert "Title: 梧桐: 2023 amount signed by new projects behind time progress" in text
    assert "Details: planned start 2023-03-15 passed 92 days ago" in text


@pytest.mark.asyncio
async def test_an_alert_without_the_english_reads_in_chinese_to_an_english_robot(
    h: Harness, robots: dict[str, WecomReceiver]
) -> None:
    await subscribe(h, channel="wecom", url=robots["en"].url, language="en")
    old = alert(Severity.RED)  # as published before title_en and message_en existed
    assert (old.title_en, old.message_en) == ("", "")
    await h.feed(old)
    [got] = await eventually(robots["en"].got, what="the English robot's message")
    text = shown_text(got)
    assert "**Details**：签约于2023-03-01，计划开工2023-06-01，至今未开工" in text
    assert "**Rule**：R02 signed but not started" in text


def test_a_payload_without_the_english_keys_falls_back_on_the_chinese() -> None:
    # A record from before the fields existed, as the consumer stores it: no keys at all.
    data = alert(Severity.YELLOW).model_dump(mode="json", exclude={"title_en", "message_en"})
    event = {"type": "sanpi.alert.raised.v1", "data": data}
    message = render(Kind.EVENT, [event], language="en")
    assert "Title: 签约超过180天未开工" in message.text
    assert ("Details", "签约于2023-03-01，计划开工2023-06-01，至今未开工") in message.facts


def test_a_digest_of_several_alerts_lists_the_english_titles() -> None:
    events = [
        {"type": "sanpi.alert.raised.v1", "data": r02().model_dump(mode="json")},
        {"type": "sanpi.alert.raised.v1", "data": r15().model_dump(mode="json")},
    ]
    en = render(Kind.DIGEST, events, language="en")
    zh = render(Kind.DIGEST, events, language="zh")
    assert "雄韬氢能产业园: signed but not started | 雄韬氢能产业园: signed, not started" in en.text
    assert "梧桐: annual target pace behind | 梧桐: 2023 amount signed by new" in en.text
    assert "雄韬氢能产业园：签约后未开工｜雄韬氢能产业园: 签约未开工" in zh.text


def test_the_daily_digest_lists_english_titles_and_old_items_in_chinese() -> None:
    moment = dt.datetime(2023, 9, 1, 1, 0, tzinfo=dt.UTC).isoformat()
    item = {
        "alert_key": "R02:p1",
        "project_name": "雄韬氢能产业园",
        "rule": "R02",
        "red_since": moment,
    }
    new = {
        **item,
        "title": "雄韬氢能产业园: 签约未开工",
        "title_en": "雄韬氢能产业园: signed, not started",
    }
    old = {**item, "alert_key": "R02:p2", "title": "签约超过180天未开工"}
    payload = {
        "kind": "daily",
        "slot": "2023-09-01",
        "window_start": moment,
        "window_end": moment,
        "parks": [{"park": "梧桐", "turned_red": [new, old], "still_red": [], "resolved": []}],
    }
    en = digest_message.render({"data": payload}, language="en")
    zh = digest_message.render({"data": payload}, language="zh")
    assert "R02 signed but not started | 雄韬氢能产业园: signed, not started" in en.text
    assert "R02 signed but not started | 签约超过180天未开工" in en.text
    assert "R02 签约后未开工｜雄韬氢能产业园: 签约未开工" in zh.text
