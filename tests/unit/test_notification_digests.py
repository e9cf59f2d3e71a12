"""Digests of red alerts on an injected clock: the daily and 旬 slots with the working-day calendar
(调休 included), what a digest says per park, one message per slot across passes and replicas,
and bad digest settings answered 422 naming the field."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from sanpi.client.cli import app as cli_app
from sanpi.client.sdk import SanpiClient, ServiceUrls
from sanpi.events import AlertResolved, AlertRule, AlertUpdated, Severity
from sanpi.kit import FixedClock, Role
from sanpi.kit.clock import CAMPAIGN_TZ
from sanpi.notification.app import create_app
from sanpi.notification.channels.robots import link
from sanpi.notification.channels.templates import Message
from sanpi.notification.channels.wecom import WecomChannel
from sanpi.notification.digests import service as digests
from sanpi.notification.digests.message import render
from sanpi.notification.digests.schedule import (
    DigestKind,
    Plan,
    due_now,
    latest_daily,
    latest_xun,
)
from tests.support.apps import token
from tests.support.notification import Harness, alert, harness, harness_settings
from tests.support.robots import WecomReceiver, shown_text
from tests.support.sink import WebhookSink
from tests.support.threaded import ThreadedServer, serve_in_thread
from tests.support.waiting import eventually

DIGEST = "sanpi.notification.daily_digest"


def cst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=CAMPAIGN_TZ)


# --- when a digest is due (pure) -------------------------------------------------------------------


def daily_key(plan: Plan, at: dt.datetime) -> str | None:
    slot = latest_daily(plan, at)
    return slot.key if slot else None


def test_daily_slots_on_working_days_follow_the_holidays_and_the_make_up_days() -> None:
    working = Plan.of("08:30", None, working_days_only=True)
    every_day = Plan.of("08:30", None, working_days_only=False)
    # 2025: National Day 10-01..10-08 off; Sunday 09-28 and Saturday 10-11 worked.
    assert daily_key(working, cst(2025, 9, 26, 8, 29)) == "2025-09-25"
    assert daily_key(working, cst(2025, 9, 26, 8, 30)) == "2025-09-26"
    assert daily_key(working, cst(2025, 9, 27, 23, 0)) == "2025-09-26"  # an ordinary Saturday
    assert daily_key(working, cst(2025, 9, 28, 8, 30)) == "2025-09-28"  # the make-up Sunday
    assert daily_key(working, cst(2025, 10, 4, 12, 0)) == "2025-09-30"  # a holiday Saturday
    assert daily_key(working, cst(2025, 10, 8, 12, 0)) == "2025-09-30"
    assert daily_key(working, cst(2025, 10, 9, 8, 30)) == "2025-10-09"
    assert daily_key(working, cst(2025, 10, 11, 8, 30)) == "2025-10-11"  # a make-up Saturday
    assert daily_key(every_day, cst(2025, 10, 4, 12, 0)) == "2025-10-04"
    slot = latest_daily(working, cst(2025, 9, 28, 9, 0))
    assert slot is not None
    assert slot.due_at == cst(2025, 9, 28, 8, 30).astimezone(dt.UTC)
    assert slot.kind is DigestKind.DAILY


def test_a_xun_digest_comes_on_the_last_day_or_the_next_working_day() -> None:
    working = Plan.of(None, "17:30", working_days_only=True)
    every_day = Plan.of(None, "17:30", working_days_only=False)

    def key(plan: Plan, at: dt.datetime) -> str | None:
        slot = latest_xun(plan, at)
        return slot.key if slot else None

    # 2025-09-20 is a Saturday: on working days only, 中旬 is summed up on Monday 09-22.
    assert key(working, cst(2025, 9, 20, 18, 0)) == "2025-09-X1"
    assert key(every_day, cst(2025, 9, 20, 18, 0)) == "2025-09-X2"
    assert key(working, cst(2025, 9, 22, 17, 29)) == "2025-09-X1"
    assert key(working, cst(2025, 9, 22, 17, 30)) == "2025-09-X2"
    # 下旬 ends on Tuesday 09-30, a working day; 2025-10 上旬 ends on Friday 10-10.
    assert key(working, cst(2025, 9, 30, 17, 30)) == "2025-09-X3"
    assert key(working, cst(2025, 10, 10, 17, 30)) == "2025-10-X1"
    # 2026-02-20, the end of February's 中旬, is in the Spring Festival holiday: Tuesday 02-24.
    assert key(working, cst(2026, 2, 23, 18, 0)) == "2026-02-X1"
    slot = latest_xun(working, cst(2026, 2, 24, 17, 30))
    assert slot is not None
    assert slot.key == "2026-02-X2"
    assert slot.due_at == cst(2026, 2, 24, 17, 30).astimezone(dt.UTC)


def test_a_missed_slot_is_not_caught_up_on_a_day_off_nor_a_missed_day_the_next_day() -> None:
    working = Plan.of("08:30", "17:30", working_days_only=True)
    every_day = Plan.of("08:30", None, working_days_only=False)

    def due(plan: Plan, kind: DigestKind, at: dt.datetime) -> str | None:
        slot = due_now(plan, kind, at)
        return slot.key if slot else None

    # Down from Tuesday 09-30 07:00 until the holiday Saturday 10-04: nothing on the holiday.
    assert due(working, DigestKind.DAILY, cst(2025, 10, 4, 12, 0)) is None
    assert due(working, DigestKind.XUN, cst(2025, 10, 4, 12, 0)) is None
    # Back on Thursday 10-09 at 07:00: 09-30's daily digest is not sent a week late (the 08:30
    # one covers the gap), the 下旬 digest is.
    assert due(working, DigestKind.DAILY, cst(2025, 10, 9, 7, 0)) is None
    assert due(working, DigestKind.XUN, cst(2025, 10, 9, 7, 0)) == "2025-09-X3"
    assert due(working, DigestKind.DAILY, cst(2025, 10, 9, 8, 30)) == "2025-10-09"
    # Down at 08:30, back at 10:00 the same day: caught up.
    assert due(every_day, DigestKind.DAILY, cst(2025, 9, 27, 10, 0)) == "2025-09-27"
    assert due(every_day, DigestKind.DAILY, cst(2025, 9, 27, 8, 0)) is None


def test_a_year_the_calendar_does_not_know_sends_every_day_and_says_so() -> None:
    working = Plan.of("08:30", None, working_days_only=True)
    slot = latest_daily(working, cst(2027, 1, 2, 9, 0))  # a Saturday of an unknown year
    assert slot is not None
    assert slot.key == "2027-01-02"
    assert slot.unknown_year == 2027
    message = render(
        {"data": {"kind": "daily", "slot": slot.key, "parks": [], "unknown_calendar_year": 2027}},
        language="zh",
    )
    assert "工作日历不含 2027 年的节假日和调休安排" in message.text


# --- the service, in-process on a FixedClock -------------------------------------------------------


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    receiver = WebhookSink().start()
    yield receiver
    receiver.stop()


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(tmp_path, at=cst(2025, 9, 25, 12, 0), digest_poll_s=0.05) as running:
        yield running


async def subscribe(h: Harness, **body: Any) -> dict[str, Any]:
    response = await h.client.post("/v1/subscriptions", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def slots(h: Harness, subscription_id: str) -> list[str]:
    response = await h.client.get(f"/v1/subscriptions/{subscription_id}/digests")
    assert response.status_code == 200, response.text
    return [d["slot"] for d in response.json()["items"]]


async def at(h: Harness, when: dt.datetime) -> None:
    """Moves the clock and runs a digest pass at once (the job may run one too: either way the
    slot is decided when this returns)."""
    h.clock.set(when.astimezone(dt.UTC))
    await digests.run_due(h.runtime.db, now=h.clock.now())


def digest_bodies(sink: WebhookSink) -> list[dict[str, Any]]:
    found = [json.loads(r.body) for r in sink.accepted()]
    return [b for b in found if b.get("type") == DIGEST]


async def test_a_daily_digest_at_0830_skips_a_holiday_saturday_and_is_sent_on_a_make_up_sunday(
    h: Harness, sink: WebhookSink
) -> None:
    created = await subscribe(
        h,
        channel="webhook",
        url=sink.url,
        digest={"daily_at": "08:30", "working_days_only": True},
    )
    assert created["digest"] == {
        "daily_at": "08:30",
        "xun_at": None,
        "working_days_only": True,
        "instead_of_immediate": False,
    }
    sid = created["id"]
    h.clock.advance(dt.timedelta(minutes=1))
    await h.feed(alert(Severity.RED, park="双桥", project_name="上海重塑燃料电池产业化基地"))

    await at(h, cst(2025, 9, 26, 8, 29))
    assert await slots(h, sid) == []
    await at(h, cst(2025, 9, 26, 8, 30))  # Friday
    assert await slots(h, sid) == ["2025-09-26"]
    await at(h, cst(2025, 9, 27, 8, 30))  # an ordinary Saturday
    assert await slots(h, sid) == ["2025-09-26"]
    await at(h, cst(2025, 9, 28, 8, 30))  # Sunday, worked for National Day
    assert await slots(h, sid) == ["2025-09-26", "2025-09-28"]
    await at(h, cst(2025, 9, 29, 8, 30))
    await at(h, cst(2025, 9, 30, 8, 30))
    for day in range(1, 9):  # 10-04 is a Saturday inside the holiday, and so on
        await at(h, cst(2025, 10, day, 8, 30))
        await at(h, cst(2025, 10, day, 20, 0))
    assert await slots(h, sid) == ["2025-09-26", "2025-09-28", "2025-09-29", "2025-09-30"]
    await at(h, cst(2025, 10, 9, 8, 30))
    await at(h, cst(2025, 10, 11, 8, 30))  # Saturday, worked
    await at(h, cst(2025, 10, 12, 8, 30))  # an ordinary Sunday
    sent = ["2025-09-26", "2025-09-28", "2025-09-29", "2025-09-30", "2025-10-09", "2025-10-11"]
    assert await slots(h, sid) == sent

    await eventually(lambda: len(digest_bodies(sink)) == len(sent), what="one message a slot")
    bodies = sorted(digest_bodies(sink), key=lambda b: b["events"][0]["data"]["slot"])
    assert [b["events"][0]["data"]["slot"] for b in bodies] == sent
    first, sunday = bodies[0], bodies[1]
    assert (
        first["subject"]
        == "【三批·每日红色预警汇总】2025年9月26日：新变红 1 项，仍为红色 0 项，已解除 0 项"
    )
    assert "【双桥】新变红 1 项" in first["text"]
    assert "上海重塑燃料电池产业化基地｜R02 签约后未开工｜签约超过180天未开工" in first["text"]
    assert sunday["subject"].endswith("新变红 0 项，仍为红色 1 项，已解除 0 项")
    assert "汇总时段：9月26日 08:30 至 9月28日 08:30（北京时间）" in sunday["text"]


async def test_a_digest_per_park_says_what_turned_red_stayed_red_and_was_resolved(
    h: Harness, sink: WebhookSink
) -> None:
    created = await subscribe(
        h,
        channel="webhook",
        url=sink.url,
        parks=["双桥", "梧桐"],
        language="en",
        digest={"daily_at": "08:30", "instead_of_immediate": True},
    )
    sid = created["id"]
    old = alert(Severity.RED, park="双桥", project_name="老项目")
    await h.feed(old)
    await h.feed(alert(Severity.RED, park="石佛", project_name="别的园区"))  # filtered out
    await at(h, cst(2025, 9, 26, 8, 30))
    # Instead of the immediate messages: nothing but the digest was queued for the red alert.
    assert [d["kind"] for d in await h.deliveries()] == ["DAILY_DIGEST"]
    await eventually(lambda: len(digest_bodies(sink)) == 1, what="the first digest")
    assert len(sink.accepted()) == 1

    h.clock.set(cst(2025, 9, 26, 10, 0).astimezone(dt.UTC))
    new = alert(Severity.RED, park="梧桐", project_name="新项目", rule=AlertRule.R05)
    await h.feed(new)
    yellow = alert(Severity.RED, park="双桥", project_name="转黄项目")
    await h.feed(yellow)
    fallen = {**yellow.model_dump(), "severity": Severity.YELLOW}
    await h.feed(AlertUpdated(**fallen, previous_severity=Severity.RED))
    await h.feed(AlertResolved(**old.model_dump(), resolved_at=h.clock.now()))

    await at(h, cst(2025, 9, 27, 8, 30))
    await eventually(lambda: len(sink.accepted()) == 2, what="the second digest")
    second = sorted(digest_bodies(sink), key=lambda b: b["events"][0]["data"]["slot"])[-1]
    data = second["events"][0]["data"]
    assert data["totals"] == {"turned_red": 1, "still_red": 0, "resolved": 2}
    assert [p["park"] for p in data["parks"]] == ["双桥", "梧桐"]
    shuangqiao, wutong = data["parks"]
    assert sorted(i["project_name"] for i in shuangqiao["resolved"]) == ["老项目", "转黄项目"]
    assert [i["project_name"] for i in wutong["turned_red"]] == ["新项目"]
    assert second["subject"] == (
        "[sanpi daily digest of red alerts] 2025-09-27: 1 turned red, 0 still red, 2 resolved"
    )
    assert "[梧桐] 1 turned red, 0 still red, 0 resolved" in second["text"]
    assert "新项目 | R05 milestone overdue" in second["text"]
    [row] = [
        d
        for d in (await h.client.get(f"/v1/subscriptions/{sid}/digests")).json()["items"]
        if d["slot"] == "2025-09-27"
    ]
    assert (row["turned_red"], row["still_red"], row["resolved"]) == (1, 0, 2)


async def test_one_message_per_slot_across_passes_replicas_and_a_restart(
    tmp_path: Path, sink: WebhookSink
) -> None:
    start = cst(2025, 9, 25, 12, 0)
    async with harness(tmp_path, at=start, digest_poll_s=3600) as h:
        created = await subscribe(h, channel="webhook", url=sink.url, digest={"daily_at": "08:30"})
        h.clock.set(cst(2025, 9, 26, 9, 0).astimezone(dt.UTC))
        # Two replicas' passes at once: one queues the slot, the other's insert fails and rolls
        # back with its delivery.
        passes = await asyncio.gather(
            *(digests.run_due(h.runtime.db, now=h.clock.now()) for _ in range(3))
        )
        assert sorted(len(p) for p in passes) == [0, 0, 1]
        await eventually(lambda: len(sink.accepted()) == 1, what="the digest")
    # A restart on the same database, later the same day: nothing more for 09-26.
    async with harness(tmp_path, at=cst(2025, 9, 26, 10, 0), digest_poll_s=3600) as again:
        assert await digests.run_due(again.runtime.db, now=again.clock.now()) == []
        assert await slots(again, created["id"]) == ["2025-09-26"]
        kinds = [d["kind"] for d in await again.deliveries()]
        assert kinds.count("DAILY_DIGEST") == 1


async def test_a_wecom_robot_receives_the_digest_as_one_markdown_message(h: Harness) -> None:
    with WecomReceiver() as robot:
        await subscribe(
            h,
            channel="wecom",
            url=robot.url,
            digest={"daily_at": "08:30", "xun_at": "17:30"},
        )
        h.clock.advance(dt.timedelta(minutes=1))
        await h.feed(alert(Severity.RED, park="双桥", project_name="上海重塑燃料电池产业化基地"))
        await at(h, cst(2025, 9, 30, 17, 30))  # the 08:30 digest and the 下旬 digest

        def digests_got() -> list[str]:
            return [shown_text(g) for g in robot.got() if "预警汇总" in shown_text(g)]

        # Beside the red alert's own message (this digest is not instead of it).
        await eventually(lambda: len(digests_got()) == 2, what="two digests")
        texts = digests_got()
        assert all(g.body["msgtype"] == "markdown" for g in robot.got()[1:])
        xun = next(t for t in texts if "旬红色预警汇总" in t)
        assert "### 【三批·旬红色预警汇总】2025年9月下旬：新变红 1 项" in xun
        assert "> **新变红·双桥**：上海重塑燃料电池产业化基地｜R02 签约后未开工" in xun
        assert "[打开三批门户](http://127.0.0.1:8000/)" in xun


@pytest.mark.parametrize(
    ("digest", "field"),
    [
        ({"daily_at": "8:30"}, "digest.daily_at"),
        ({"daily_at": "24:00"}, "digest.daily_at"),
        ({"xun_at": "午后"}, "digest.xun_at"),
        ({"working_days_only": True}, "digest"),
    ],
)
async def test_a_digest_time_that_does_not_parse_is_a_422_naming_the_field(
    h: Harness, digest: dict[str, Any], field: str
) -> None:
    response = await h.client.post("/v1/subscriptions", json={"channel": "inbox", "digest": digest})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == [field]
    assert field in problem["detail"]
    assert "汇总时间应为 24 小时制的 时:分" in problem["detail"] or "请填写" in problem["detail"]


async def test_a_digest_refusal_reads_in_english_when_asked(h: Harness) -> None:
    body = {"channel": "inbox", "digest": {"daily_at": "8:30"}}
    chinese = await h.client.post("/v1/subscriptions", json=body)
    assert chinese.json()["errors"] == [
        {
            "field": "digest.daily_at",
            "reason": '汇总时间应为 24 小时制的 时:分，如 08:30，收到 "8:30"',
        }
    ]
    english = await h.client.post("/v1/subscriptions", json=body, headers={"Accept-Language": "en"})
    assert english.status_code == 422
    assert english.json()["errors"] == [
        {"field": "digest.daily_at", "reason": 'expected HH:MM, e.g. 08:30, not "8:30"'}
    ]
    stream = {"channel": "stream", "digest": {"daily_at": "08:30"}}
    refused = await h.client.post("/v1/subscriptions", json=stream)
    assert refused.json()["errors"][0]["reason"] == "实时流渠道不排队，不能发送汇总"


async def test_digest_settings_are_changed_and_removed_with_patch(h: Harness) -> None:
    created = await subscribe(h, channel="inbox")
    assert created["digest"] is None
    url = f"/v1/subscriptions/{created['id']}"
    changed = await h.client.patch(
        url,
        json={"digest": {"xun_at": "17:30", "working_days_only": True}},
        headers={"If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["digest"]["xun_at"] == "17:30"
    bad = await h.client.patch(
        url, json={"digest": {"daily_at": "0830"}}, headers={"If-Match": '"2"'}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "digest.daily_at"
    removed = await h.client.patch(url, json={"digest": None}, headers={"If-Match": '"2"'})
    assert removed.status_code == 200, removed.text
    assert removed.json()["digest"] is None
    stream = await h.client.post(
        "/v1/subscriptions", json={"channel": "stream", "digest": {"daily_at": "08:30"}}
    )
    assert stream.status_code == 422
    assert stream.json()["errors"][0]["field"] == "digest"


# --- SDK and CLI ------------------------------------------------------------------------------------


@pytest.fixture
def notifier(tmp_path: Path, database_url: str) -> Iterator[ThreadedServer]:
    settings = harness_settings(tmp_path, database_url=database_url, digest_poll_s=3600)
    app = create_app(settings, FixedClock(cst(2025, 9, 25, 12, 0).astimezone(dt.UTC)))
    with serve_in_thread(app) as server:
        yield server


def cli(server: ThreadedServer, *args: str) -> Result:
    env = {"SANPI_NOTIFICATION_URL": server.url, "SANPI_TOKEN": token(Role.ADMIN, "official")}
    return CliRunner().invoke(cli_app, list(args), env=env)


def test_the_cli_subscribes_to_a_working_day_digest_and_lists_the_digests_sent(
    notifier: ThreadedServer,
) -> None:
    done = cli(
        notifier,
        "subscribe",
        "--channel",
        "inbox",
        "--digest",
        "daily@08:30",
        "--digest",
        "xun@17:30",
        "--working-days",
    )
    assert done.exit_code == 0, done.output
    created = json.loads(done.stdout)
    assert created["digest"] == {
        "daily_at": "08:30",
        "xun_at": "17:30",
        "working_days_only": True,
        "instead_of_immediate": False,
    }
    clock = notifier.runtime.clock
    assert isinstance(clock, FixedClock)
    clock.set(cst(2025, 9, 28, 9, 0).astimezone(dt.UTC))  # the make-up Sunday
    notifier.run(digests.run_due(notifier.runtime.db, now=clock.now()))
    sdk = SanpiClient(token(Role.ADMIN, "official"), ServiceUrls(notification=notifier.url))
    with sdk:
        listed = sdk.notification.digests(created["id"])
    assert [(d["kind"], d["slot"]) for d in listed["items"]] == [("daily", "2025-09-28")]
    shown = cli(notifier, "subscriptions", "digests", created["id"])
    assert shown.exit_code == 0, shown.output
    assert "2025-09-28" in shown.stdout

    stopped = cli(notifier, "subscriptions", "update", created["id"], "--no-digest")
    assert stopped.exit_code == 0, stopped.output
    assert json.loads(stopped.stdout)["digest"] is None


def test_the_cli_names_a_bad_digest(notifier: ThreadedServer) -> None:
    refused = cli(notifier, "subscribe", "--channel", "inbox", "--digest", "daily@8.30")
    assert refused.exit_code == 1
    assert "error 422" in refused.stderr
    assert "digest.daily_at: 汇总时间应为 24 小时制的 时:分" in refused.stderr
    unknown = cli(notifier, "subscribe", "--channel", "inbox", "--digest", "weekly@08:30")
    assert unknown.exit_code == 2
    assert "daily@HH:MM or xun@HH:MM" in unknown.output


# --- the rendered digest in the docs ---------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = {
    "type": "sanpi.notification.digest.v1",
    "data": {
        "kind": "daily",
        "slot": "2025-09-28",
        "window_start": "2025-09-26T00:30:00+00:00",
        "window_end": "2025-09-28T00:30:00+00:00",
        "parks": [
            {
                "park": "双桥",
                "turned_red": [
                    {
                        "alert_key": "R05:p-1",
                        "project_id": "p-1",
                        "project_name": "上海重塑燃料电池产业化基地",
                        "rule": "R05",
                        "title": "开工节点逾期12天",
                        "severity": "red",
                        "red_since": "2025-09-27T06:05:00+00:00",
                        "red_ended_at": None,
                        "acknowledged_by": None,
                    }
                ],
                "still_red": [],
                "resolved": [],
            },
            {
                "park": "梧桐",
                "turned_red": [],
                "still_red": [
                    {
                        "alert_key": "R02:p-2",
                        "project_id": "p-2",
                        "project_name": "雄韬氢能产业园",
                        "rule": "R02",
                        "title": "签约超过180天未开工",
                        "severity": "red",
                        "red_since": "2025-09-20T02:00:00+00:00",
                        "red_ended_at": None,
                        "acknowledged_by": "张伟",
                    }
                ],
                "resolved": [
                    {
                        "alert_key": "R07:p-3",
                        "project_id": "p-3",
                        "project_name": "京东方艺云区域总部",
                        "rule": "R07",
                        "title": "9月中旬旬报未报",
                        "severity": "resolved",
                        "red_since": "2025-09-23T01:00:00+00:00",
                        "red_ended_at": "2025-09-27T08:30:00+00:00",
                        "acknowledged_by": None,
                    }
                ],
            },
        ],
    },
}


@dataclass(frozen=True)
class Outgoing:
    delivery_id: str
    target: str
    secrets: list[str]
    mentions: list[str]
    language: str
    body: bytes
    content_type: str
    message: Message


def documented(path: str, marker: str | None = None, after: str | None = None) -> str:
    """The fenced block after `<!-- digest: marker -->` (or after the line `after`)."""
    text = (ROOT / path).read_text(encoding="utf-8")
    anchor = f"<!-- digest: {marker} -->" if marker else str(after)
    start = text.index("```", text.index(anchor))
    body_start = text.index("\n", start) + 1
    return text[body_start : text.index("\n```", body_start)]


def test_the_digest_the_docs_show_is_the_one_the_code_renders() -> None:
    zh = render(SAMPLE, language="zh")
    outgoing = Outgoing("msg_x", "https://qyapi.weixin.qq.com/x", [], [], "zh", b"", "", zh)
    wecom = WecomChannel().payload(outgoing, link("https://sanpi.example.cn", None), now_s=0)
    shown = json.dumps(json.loads(wecom.body), ensure_ascii=False, indent=2)
    email_zh = f"{zh.subject}\n{zh.text}"
    en = render(SAMPLE, language="en")
    assert documented("docs/notification.md", "wecom") == shown
    assert documented("docs/notification.md", "email zh") == email_zh
    assert documented("docs/notification.md", "email en") == f"{en.subject}\n{en.text}"
    assert documented("docs/zh/notification.md", after="### 汇总消息示例") == shown
    assert documented("docs/zh/notification.md", after="同一汇总的邮件正文") == email_zh


def test_a_xun_digest_names_its_period_as_sanpi_events_does() -> None:
    """The 旬 is named by ReportPeriod (zh, en): the subject says 2023年3月中旬, or mid March 2023
    with its key in English."""
    xun: dict[str, Any] = json.loads(json.dumps(SAMPLE))
    xun["data"].update(kind="xun", slot="2023-03-X2", parks=[])
    zh = render(xun, language="zh")
    en = render(xun, language="en")
    assert zh.subject.startswith("【三批·旬红色预警汇总】2023年3月中旬：")
    assert en.subject.startswith("[sanpi 旬 digest of red alerts] mid March 2023 (2023-03-X2): ")
