"""GET /v1/alert-states and the note of an acknowledgement: the open list officials work through
(firing, not acknowledged), by park, rule and severity, and what was written when one was
acknowledged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sanpi.events import AlertResolved, AlertRule, Severity
from sanpi.kit import Role
from tests.support.apps import auth
from tests.support.notification import SHANGHAI_10AM, Harness, alert, harness


async def states(h: Harness, **params: Any) -> dict[str, Any]:
    answer = await h.client.get("/v1/alert-states", params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def keys(page: dict[str, Any]) -> list[str]:
    return [item["alert_key"] for item in page["items"]]


async def test_the_open_list_loses_an_alert_once_it_is_acknowledged_with_a_note(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        red = alert(Severity.RED, park="梧桐", project_id="p-red")
        yellow = alert(Severity.YELLOW, park="石佛", project_id="p-yellow", rule=AlertRule.R04)
        await h.feed(red)
        await h.feed(yellow)
        open_list = await states(h, acknowledged="false")
        assert set(keys(open_list)) == {red.alert_key, yellow.alert_key}
        assert open_list["counts"] == {"red": 1, "yellow": 1}
        first = {i["alert_key"]: i for i in open_list["items"]}[red.alert_key]
        assert first["rule"] == "R02"
        assert first["project_name"] == "雄韬氢能产业园"
        assert first["title"] == "签约超过180天未开工"
        assert first["acknowledged_at"] is None

        ack = await h.client.post(
            f"/v1/alerts/{red.alert_key}/ack",
            json={"note": "已电话督办，企业承诺月底开工"},
            headers=auth(Role.OPERATOR, "official", ("梧桐",)),
        )
        assert ack.status_code == 200, ack.text
        assert ack.json()["acknowledgement_note"] == "已电话督办，企业承诺月底开工"

        assert keys(await states(h, acknowledged="false")) == [yellow.alert_key]
        done = await states(h, acknowledged="true")
        assert keys(done) == [red.alert_key]
        assert done["items"][0]["acknowledged_by"] == "official"
        assert done["items"][0]["acknowledgement_note"] == "已电话督办，企业承诺月底开工"


async def test_filters_by_park_rule_severity_and_firing(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        a = alert(Severity.RED, park="梧桐", project_id="a")
        b = alert(Severity.RED, park="石佛", project_id="b", rule=AlertRule.R04)
        c = alert(Severity.ORANGE, park="梧桐", project_id="c", rule=AlertRule.R05)
        for data in (a, b, c):
            await h.feed(data)
        await h.feed(AlertResolved(**c.model_dump(), resolved_at=SHANGHAI_10AM))
        assert set(keys(await states(h))) == {a.alert_key, b.alert_key}
        assert keys(await states(h, park="梧桐")) == [a.alert_key]
        assert set(keys(await states(h, park=["梧桐", "石佛"]))) == {a.alert_key, b.alert_key}
        assert keys(await states(h, rule="R04")) == [b.alert_key]
        assert keys(await states(h, severity="orange")) == []
        assert keys(await states(h, firing="false")) == [c.alert_key]
        counted = await states(h, severity="red")
        assert counted["counts"] == {"red": 2}


async def test_red_comes_first_then_the_newest(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        order = [Severity.BLUE, Severity.RED, Severity.YELLOW, Severity.RED, Severity.ORANGE]
        for n, severity in enumerate(order):
            await h.feed(alert(severity, project_id=f"p{n}"))
        page = await states(h)
        assert [i["severity"] for i in page["items"]] == ["red", "red", "orange", "yellow", "blue"]
        assert [i["project_id"] for i in page["items"][:2]] == ["p3", "p1"]


async def test_pages_follow_the_cursor(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        fed = [
            alert(severity, project_id=f"p{n}")
            for n, severity in enumerate([Severity.YELLOW, Severity.RED] * 3)
        ]
        for data in fed:
            await h.feed(data)
        seen: list[str] = []
        cursor = None
        while True:
            page = await states(h, limit=2, **({"cursor": cursor} if cursor else {}))
            seen += keys(page)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(d.alert_key for d in fed)
        assert len(seen) == 6


async def test_a_new_raise_clears_the_note_with_the_acknowledgement(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        yellow = alert(Severity.YELLOW, project_id="p1")
        await h.feed(yellow)
        ack = await h.client.post(f"/v1/alerts/{yellow.alert_key}/ack", json={"note": "已知悉"})
        assert ack.status_code == 200
        await h.feed(alert(Severity.RED, project_id="p1"))
        item = (await states(h, acknowledged="false"))["items"][0]
        assert item["acknowledgement_note"] is None
        assert item["severity"] == "red"


async def test_an_acknowledgement_without_a_body_still_works_and_a_long_note_is_refused(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        first = alert(Severity.RED, project_id="p1")
        await h.feed(first)
        too_long = await h.client.post(
            f"/v1/alerts/{first.alert_key}/ack", json={"note": "长" * 501}
        )
        assert too_long.status_code == 422
        assert "note" in too_long.text
        bare = await h.client.post(f"/v1/alerts/{first.alert_key}/ack")
        assert bare.status_code == 200
        assert bare.json()["acknowledgement_note"] is None
