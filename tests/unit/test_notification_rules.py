"""Pure notification rules: filters, quiet hours, the escalation ladder, templates, rotation."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from standardwebhooks import Webhook

from sanpi.events import AlertRule, Severity
from sanpi.kit import CAMPAIGN_TZ
from sanpi.kit.sealing import SecretBox, new_key
from sanpi.notification.channels.templates import Kind, render
from sanpi.notification.channels.webhook import new_secret, signature_header
from sanpi.notification.delivery.timing import quiet_until
from sanpi.notification.escalation.ladder import contact_for, is_address, next_escalation_at
from sanpi.notification.escalation.working_time import WorkingTime, parse_delay
from sanpi.notification.routing.filters import Filter, Routing, matches
from sanpi.notification.settings import NotificationSettings
from sanpi.notification.subscriptions.models import Channel, Subscription
from sanpi.notification.subscriptions.service import signing_secrets
from tests.support.notification import alert, record

# Pure code, no database: the PostgreSQL pass of make test would repeat these to the letter.
pytestmark = pytest.mark.db_independent

RED_WUTONG = Routing(
    event_type="sanpi.alert.raised.v1",
    severity=Severity.RED,
    park="梧桐",
    chain_tag="HYDROGEN_STORAGE",
    category="ADVANCED_MANUFACTURING",
    periods=frozenset({7, 8}),
    project_id="p1",
    total_investment=150_000,
)


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        (Filter(), True),
        (Filter(event_types=("sanpi.alert.*",)), True),
        (Filter(event_types=("sanpi.project.*",)), False),
        (Filter(event_types=("sanpi.alert.raised.v1",)), True),
        (Filter(min_severity=Severity.ORANGE), True),
        (Filter(parks=frozenset({"石佛"})), False),
        (Filter(parks=frozenset({"石佛", "梧桐"})), True),
        (Filter(chain_tags=frozenset({"IOT"})), False),
        (Filter(categories=frozenset({"ADVANCED_MANUFACTURING"})), True),
        (Filter(periods=frozenset({8, 9})), True),
        (Filter(periods=frozenset({9})), False),
        (Filter(project_ids=frozenset({"p2"})), False),
        (Filter(min_investment=150_000), True),
        (Filter(min_investment=150_001), False),
    ],
)
def test_each_filter_condition(wanted: Filter, expected: bool) -> None:
    assert matches(wanted, RED_WUTONG) is expected


def test_a_condition_on_an_attribute_the_event_lacks_fails() -> None:
    registered = Routing(event_type="sanpi.project.registered.v1", park="梧桐")
    assert matches(Filter(parks=frozenset({"梧桐"})), registered)
    assert not matches(Filter(min_severity=Severity.BLUE), registered)
    assert not matches(Filter(min_investment=1), registered)


def test_min_severity_orders_blue_to_red() -> None:
    yellow = Routing(event_type="sanpi.alert.raised.v1", severity=Severity.YELLOW)
    assert matches(Filter(min_severity=Severity.GREEN), yellow)
    assert matches(Filter(min_severity=Severity.YELLOW), yellow)
    assert not matches(Filter(min_severity=Severity.ORANGE), yellow)


routings = st.builds(
    Routing,
    event_type=st.sampled_from(["sanpi.alert.raised.v1", "sanpi.project.registered.v1"]),
    severity=st.none() | st.sampled_from(list(Severity)),
    park=st.none() | st.sampled_from(["梧桐", "双桥", "石佛", "枫杨"]),
    periods=st.frozensets(st.integers(1, 16), max_size=3),
    total_investment=st.none() | st.integers(0, 2_000_000),
)
filters = st.builds(
    Filter,
    min_severity=st.none() | st.sampled_from(list(Severity)),
    parks=st.frozensets(st.sampled_from(["梧桐", "双桥", "石佛", "枫杨"]), max_size=2),
    periods=st.frozensets(st.integers(1, 16), max_size=3),
    min_investment=st.none() | st.integers(0, 2_000_000),
)


@given(routings, filters, st.sampled_from(["梧桐", "双桥"]))
def test_adding_a_condition_never_widens_a_filter(
    event: Routing, wanted: Filter, park: str
) -> None:
    narrower = Filter(
        event_types=wanted.event_types,
        min_severity=wanted.min_severity,
        parks=wanted.parks or frozenset({park}),
        periods=wanted.periods,
        min_investment=wanted.min_investment,
    )
    assert matches(Filter(), event)
    if matches(narrower, event):
        assert matches(wanted, event)


def shanghai(hour: int, minute: int = 0, day: int = 1) -> dt.datetime:
    return dt.datetime(2023, 9, day, hour, minute, tzinfo=CAMPAIGN_TZ)


def test_quiet_hours_across_midnight_end_the_next_morning() -> None:
    assert quiet_until(shanghai(23, 30), "22:00", "07:00") == shanghai(7, 0, day=2)
    assert quiet_until(shanghai(3, 0, day=2), "22:00", "07:00") == shanghai(7, 0, day=2)
    assert quiet_until(shanghai(7, 0, day=2), "22:00", "07:00") is None
    assert quiet_until(shanghai(21, 59), "22:00", "07:00") is None
    assert quiet_until(shanghai(22, 0), "22:00", "07:00") == shanghai(7, 0, day=2)


def test_quiet_hours_within_a_day_and_none() -> None:
    assert quiet_until(shanghai(12, 30), "12:00", "14:00") == shanghai(14, 0)
    assert quiet_until(shanghai(14, 0), "12:00", "14:00") is None
    assert quiet_until(shanghai(12, 30), None, None) is None


def test_quiet_hours_answer_in_utc() -> None:
    held = quiet_until(dt.datetime(2023, 9, 1, 15, 0, tzinfo=dt.UTC), "22:00", "07:00")
    assert held == dt.datetime(2023, 9, 1, 23, 0, tzinfo=dt.UTC)  # 07:00 in Shanghai


def test_ladder_levels_are_due_after_working_time() -> None:
    working = WorkingTime()
    red_since = dt.datetime(2023, 9, 1, 8, 30, tzinfo=dt.UTC)  # Friday 16:30 in Shanghai
    delays = [parse_delay("1h"), parse_delay("1d"), parse_delay("3d")]
    # One working hour from Friday 16:30 is Monday 09:30: the evening and weekend do not count.
    assert next_escalation_at(red_since, 0, delays, working) == dt.datetime(
        2023, 9, 4, 1, 30, tzinfo=dt.UTC
    )
    assert next_escalation_at(red_since, 1, delays, working) == dt.datetime(
        2023, 9, 4, 8, 30, tzinfo=dt.UTC
    )
    assert next_escalation_at(red_since, 2, delays, working) == dt.datetime(
        2023, 9, 6, 8, 30, tzinfo=dt.UTC
    )
    assert next_escalation_at(red_since, 3, delays, working) is None


def shanghai_at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), CAMPAIGN_TZ).astimezone(dt.UTC)


def test_working_time_follows_the_shared_calendar_with_its_make_up_days() -> None:
    working = WorkingTime()
    # 2023: 中秋/国庆 from Friday 29 September to Friday 6 October; Saturday 7 and Sunday 8
    # October are 调休 working days.
    thursday = shanghai_at(dt.date(2023, 9, 28), 10)
    assert working.add(thursday, parse_delay("1d")) == shanghai_at(dt.date(2023, 10, 7), 10)
    assert working.add(thursday, parse_delay("3d")) == shanghai_at(dt.date(2023, 10, 9), 10)
    # Office hours 9-12 and 13-17: 8 working hours from Thursday 10:00 end on Saturday 7
    # October (a make-up day) at 11:00.
    assert working.add(thursday, parse_delay("8h")) == shanghai_at(dt.date(2023, 10, 7), 11)
    # A 24/7 desk counts every hour.
    assert WorkingTime(continuous=True).add(thursday, parse_delay("8h")) == thursday + dt.timedelta(
        hours=8
    )


def test_in_a_year_the_calendar_does_not_know_a_delay_runs_on_the_wall_clock() -> None:
    far = dt.datetime(2099, 3, 2, 2, 0, tzinfo=dt.UTC)
    assert WorkingTime().add(far, parse_delay("3d")) == far + dt.timedelta(days=3)


def test_a_delay_that_is_not_working_time_is_refused() -> None:
    for bad in ("14400", "4 hours", "-1h", "0d", "h"):
        with pytest.raises(ValueError, match="working-time delay"):
            parse_delay(bad)
    with pytest.raises(ValueError, match="whole days"):
        parse_delay("1.5d")


def test_ladder_contacts_fall_back_to_the_alert_then_the_district() -> None:
    people = {
        "responsible_unit": "梧桐园区运营中心",
        "sponsor_leader": "李明",
        "district": "区督查办",
    }
    assert (
        contact_for(1, {"unit_head": "wang@wutong.example.cn"}, **people)
        == "wang@wutong.example.cn"
    )
    assert contact_for(1, {}, **people) == "梧桐园区运营中心"
    assert contact_for(2, {}, **people) == "李明"
    assert contact_for(3, {}, **people) == "区督查办"
    assert contact_for(2, {}, responsible_unit=None, sponsor_leader=None, district="x") == (
        "unassigned"
    )
    assert is_address("wang@wutong.example.cn")
    assert not is_address("李明")


def test_alert_templates_in_chinese_and_english() -> None:
    event, _ = record(alert(Severity.RED, alert_key="R02:p1"))
    data = event.model_dump(mode="json")
    zh = render(Kind.EVENT, [data], language="zh")
    en = render(Kind.EVENT, [data], language="en")
    assert zh.subject == "【红色预警】雄韬氢能产业园：签约后未开工"
    assert en.subject == "[RED alert] 雄韬氢能产业园: signed but not started"
    assert "POST /v1/alerts/R02:p1/ack" in zh.text
    assert "Acknowledge" in en.text
    escalated = render(Kind.ESCALATION, [data], language="zh", level=2, contact="李明")
    assert escalated.subject.startswith("【督办·第2级】")
    assert "分包领导：李明" in escalated.text
    reminder = render(Kind.REPEAT, [data], language="en", repeat=3)
    assert reminder.subject.startswith("[RED alert, reminder 3]")


def test_every_rule_is_named_in_an_alert_message() -> None:
    """R18 (slip forecast) came out as its bare code: the messages' table of rule names lacked
    it. The names are sanpi.events' now, so every rule has one in both languages."""
    event, _ = record(alert(Severity.BLUE, rule=AlertRule.R18, alert_key="R18:p1"))
    data = event.model_dump(mode="json")
    assert render(Kind.EVENT, [data], language="zh").subject.endswith("：预计晚于计划")
    assert render(Kind.EVENT, [data], language="en").subject.endswith(
        ": projected to miss the plan"
    )


def test_a_scoped_alert_names_its_park_or_the_district_not_a_project() -> None:
    scoped: dict[str, Any] = {
        "project_id": None,
        "project_name": None,
        "chain_tag": None,
        "category": None,
        "total_investment": None,
        "periods": [],
        "responsible_person": None,
        "responsible_unit": None,
        "sponsor_leader": None,
    }
    park, _ = record(
        alert(
            Severity.RED,
            rule=AlertRule.R15,
            scope="park",
            **{**scoped, "alert_key": "R15:梧桐:SIGN_AMOUNT"},
        )
    )
    zh = render(Kind.EVENT, [park.model_dump(mode="json")], language="zh")
    assert zh.subject == "【红色预警】梧桐：年度目标进度滞后"
    assert ("范围", "梧桐") in zh.facts
    district, _ = record(
        alert(
            Severity.YELLOW,
            rule=AlertRule.R15,
            scope="district",
            **{**scoped, "park": None, "alert_key": "R15:district:SIGN_AMOUNT"},
        )
    )
    data = district.model_dump(mode="json")
    assert render(Kind.EVENT, [data], language="zh").subject == "【黄色预警】全区：年度目标进度滞后"
    en = render(Kind.EVENT, [data], language="en")
    assert en.subject == "[YELLOW alert] the district: annual target pace behind"
    assert ("Scope", "the district") in en.facts


def test_a_digest_names_the_park_and_counts_the_alerts() -> None:
    events = [
        record(alert(Severity.YELLOW, evaluation_id="e1"))[0].model_dump(mode="json")
        for _ in range(40)
    ]
    zh = render(Kind.DIGEST, events, language="zh")
    en = render(Kind.DIGEST, events, language="en")
    assert zh.subject == "【黄色预警汇总】梧桐：本轮评估共 40 条预警"
    assert en.subject == "[YELLOW alerts] 梧桐: 40 alerts in one evaluation"
    assert len(zh.text.splitlines()) == 40


def test_during_a_rotation_both_secrets_sign_and_each_verifies() -> None:
    old, new = new_secret(), new_secret()
    body = b'{"type":"sanpi.alert.raised.v1"}'
    timestamp = int(time.time())
    header = signature_header([new, old], "msg_1", timestamp, body)
    assert len(header.split(" ")) == 2
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": header,
    }
    assert Webhook(old).verify(body, headers)["type"] == "sanpi.alert.raised.v1"
    assert Webhook(new).verify(body, headers)["type"] == "sanpi.alert.raised.v1"
    with pytest.raises(Exception, match=r"(?i)signature"):
        Webhook(new_secret()).verify(body, headers)


def test_the_previous_secret_signs_only_until_it_expires() -> None:
    now = dt.datetime(2023, 9, 1, tzinfo=dt.UTC)
    box = SecretBox([new_key()])
    subscription = Subscription(
        owner="o",
        channel=Channel.WEBHOOK,
        secret=box.seal("whsec_new"),
        previous_secret=box.seal("whsec_old"),
        previous_secret_expires_at=now + dt.timedelta(hours=24),
    )
    assert signing_secrets(subscription, now, box) == ["whsec_new", "whsec_old"]
    assert signing_secrets(subscription, now + dt.timedelta(hours=24), box) == ["whsec_new"]


KEY = new_key()


def test_production_refuses_loopback_webhook_targets() -> None:
    with pytest.raises(ValidationError, match="allow_loopback_targets"):
        NotificationSettings(
            env="production", jwt_secret="s" * 40, secret_keys=[KEY], allow_loopback_targets=True
        )
    production = NotificationSettings(env="production", jwt_secret="s" * 40, secret_keys=[KEY])
    assert not production.allow_loopback_targets
