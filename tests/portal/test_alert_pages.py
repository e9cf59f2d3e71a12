"""预警 and 红黄榜 against the services in-process: an official sees the red alert, acknowledges
it with a note, and it leaves the open list; an operator of another park gets no form and the
service refuses a forged one; the parks are ranked by their colours."""

from __future__ import annotations

import re

from sanpi.kit import Role
from tests.support.portal import District, csrf_of


async def red_alerts(d: District) -> dict[str, str]:
    ids = {
        "wutong": await d.project("梧桐迟迟未开工项目", "梧桐", signed_date="2022-10-01"),
        "shifo": await d.project("石佛迟迟未开工项目", "石佛", signed_date="2022-10-01"),
        "fine": await d.project(
            "枫杨刚签约项目", "枫杨", signed_date="2023-06-01", planned_start_date="2023-12-01"
        ),
    }
    await d.evaluate("2023-06-15")
    return ids


async def test_an_official_acknowledges_a_red_alert_and_it_leaves_the_open_list(
    district: District,
) -> None:
    ids = await red_alerts(district)
    portal = district.portal
    await portal.add_user("official", Role.OPERATOR, ("梧桐", "石佛", "枫杨", "双桥"))
    await portal.login("official")
    page = await portal.client.get("/alerts", params={"severity": "red"})
    assert page.status_code == 200, page.text
    assert "梧桐迟迟未开工项目" in page.text
    assert "签约后未开工" in page.text  # the rule's Chinese name
    assert "sev-red" in page.text
    key = f"R02:{ids['wutong']}"
    assert key in page.text
    answer = await portal.client.post(
        "/alerts/ack",
        data={
            "csrf_token": csrf_of(page.text),
            "alert_key": key,
            "note": "已电话督办，企业承诺月底开工",
        },
    )
    assert answer.status_code == 303, answer.text
    after = await portal.client.get("/alerts", params={"severity": "red"})
    assert key not in after.text
    assert "石佛迟迟未开工项目" in after.text
    done = await portal.client.get("/alerts", params={"tab": "acknowledged"})
    assert key in done.text or "梧桐迟迟未开工项目" in done.text
    assert "已电话督办，企业承诺月底开工" in done.text


async def test_htmx_acknowledgement_replaces_the_alert_in_place(district: District) -> None:
    ids = await red_alerts(district)
    portal = district.portal
    await portal.add_user("official", Role.ADMIN, ())
    await portal.login("official")
    page = await portal.client.get("/alerts")
    item = re.search(
        rf'name="alert_key" value="R02:{ids["shifo"]}">\s*<input type="hidden" name="item" value="(alert-\d+)"',
        page.text,
    )
    assert item is not None
    answer = await portal.client.post(
        "/alerts/ack",
        data={"alert_key": f"R02:{ids['shifo']}", "item": item.group(1), "note": ""},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_of(page.text)},
    )
    assert answer.status_code == 200
    assert answer.headers["hx-retarget"] == f"#{item.group(1)}"
    assert "已确认" in answer.text


async def test_an_operator_of_another_park_gets_no_form_and_a_forged_one_is_refused(
    district: District,
) -> None:
    ids = await red_alerts(district)
    portal = district.portal
    await portal.add_user("fengyang", Role.OPERATOR, ("枫杨",))
    await portal.login("fengyang")
    page = await portal.client.get("/alerts")
    assert "梧桐迟迟未开工项目" not in page.text  # not their park's list
    forged = await portal.client.post(
        "/alerts/ack",
        data={"csrf_token": csrf_of(page.text), "alert_key": f"R02:{ids['wutong']}", "note": "x"},
    )
    assert forged.status_code == 422
    assert "无权确认" in forged.text or "不能确认" in forged.text
    still = await district.admin(
        "notification", "GET", "/v1/alert-states", params={"acknowledged": "false"}
    )
    assert f"R02:{ids['wutong']}" in [i["alert_key"] for i in still["items"]]


async def test_a_note_too_long_is_refused_beside_the_field(district: District) -> None:
    ids = await red_alerts(district)
    portal = district.portal
    await portal.add_user("official", Role.ADMIN, ())
    await portal.login("official")
    page = await portal.client.get("/alerts")
    answer = await portal.client.post(
        "/alerts/ack",
        data={
            "csrf_token": csrf_of(page.text),
            "alert_key": f"R02:{ids['wutong']}",
            "note": "长" * 501,
        },
    )
    assert answer.status_code == 422
    assert "最多500个字符" in answer.text


async def test_the_ranking_puts_the_park_without_red_first(district: District) -> None:
    await red_alerts(district)
    portal = district.portal
    await portal.add_user("viewer", Role.VIEWER, ())
    await portal.login("viewer")
    page = await portal.client.get("/alerts/ranking")
    assert page.status_code == 200, page.text
    order = re.findall(r'<a href="/projects\?park=[^"&]+">([^<]+)</a>', page.text)
    assert order[0] == "枫杨"
    assert set(order[1:]) == {"梧桐", "石佛"}
    assert 'id="ranking-chart"' in page.text


async def test_the_english_switch_shows_the_alerts_in_english_on_both_pages(
    district: District,
) -> None:
    ids = await red_alerts(district)
    portal = district.portal
    await portal.add_user("official", Role.ADMIN, ())
    await portal.login("official")
    await portal.client.get("/lang/en", params={"next": "/alerts"})
    page = await portal.client.get("/alerts", params={"severity": "red"})
    assert page.status_code == 200, page.text
    # Signed 1 October 2022, judged 15 June 2023: the rules' English, with their figure.
    assert "：signed, not started</p>" in page.text
    assert "still not started (signed 257 days ago)" in page.text
    assert "仍未开工" not in page.text
    detail = await portal.client.get(f"/projects/{ids['wutong']}")
    assert "<p>梧桐迟迟未开工项目: signed, not started</p>" in detail.text
    assert "still not started (signed 257 days ago)" in detail.text
    assert "签约未开工" not in detail.text
