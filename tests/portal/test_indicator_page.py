"""指标: conversion rates and target attainment against 序时进度, for the district and each park,
as of the day the rules are evaluated for (or a day the visitor picks)."""

from __future__ import annotations

import json
import re

import httpx

from sanpi.kit import Role
from tests.support.portal import District


def chart(html: str, name: str) -> dict[str, object]:
    found = re.search(rf'<script type="application/json" id="{name}">(.*?)</script>', html, re.S)
    assert found is not None, name
    value: dict[str, object] = json.loads(found.group(1))
    return value


async def test_indicators_of_the_district_and_each_park(district: District) -> None:
    started = await district.project(
        "已开工项目", "梧桐", initial_stage="UNDER_CONSTRUCTION", started_date="2023-03-01"
    )
    await district.project("签约项目", "石佛")
    await district.admin(
        "registry",
        "POST",
        "/v1/targets",
        json={"year": 2023, "scope": "郑州高新区", "kind": "SIGN_AMOUNT", "value": 4_000_000},
    )
    await district.evaluate("2023-06-15")
    assert started
    portal = district.portal
    await portal.add_user("leader", Role.VIEWER, ())
    await portal.login("leader")
    page = await portal.client.get("/indicators")
    assert page.status_code == 200, page.text
    assert "2023年6月15日" in page.text  # the evaluation day, by default
    rates = chart(page.text, "rates-chart")
    assert rates["xAxis"]["data"][:3] == ["郑州高新区", "梧桐", "双桥"]  # type: ignore[index]
    assert "签约项目开工率" in page.text
    assert "新签约项目签约额" in page.text
    targets = chart(page.text, "targets-chart")
    assert targets["series"][1]["name"] == "序时进度"  # type: ignore[index]
    # The four published rates, each scope's as the registry computes them (half up, with the
    # counts, funds in money).
    published = page.text.split("发布口径比率", 1)[1].split("</table>", 1)[0]
    for name in ("签约项目履约率", "履约项目开工率", "计划开工率", "资金到位率"):
        assert name in published
    api = await district.admin(
        "registry", "GET", "/v1/indicators", params={"year": 2023, "as_of": "2023-06-15"}
    )
    row = published.split("郑州高新区", 1)[1].split("</tr>", 1)[0]
    for key in ("sign_to_fulfil", "fulfil_to_start", "planned_start"):
        rate = api["published"][key]
        shown = "—" if rate["pct"] is None else f"{rate['pct']:.1f}%"
        assert (
            f'{shown} <span class="small muted">({rate["numerator"]}/{rate["denominator"]})' in row
        )
    assert api["published"]["planned_start"]["denominator"] >= 1

    other_day = await portal.client.get("/indicators", params={"as_of": "2023-12-31"})
    assert "2023年12月31日" in other_day.text
    bad = await portal.client.get("/indicators", params={"as_of": "2023-13-01"})
    assert bad.status_code == 200
    assert "请输入日期" in bad.text


async def test_the_bulletin_pdf_a_digest_links_to_opens_for_a_logged_in_reader(
    district: District,
) -> None:
    district.world.apps["milestone"].state.registry_transport = httpx.ASGITransport(
        app=district.world.apps["registry"]
    )
    portal = district.portal
    anonymous = await portal.client.get("/bulletins/2023-03-X2.pdf", follow_redirects=False)
    assert anonymous.status_code in (302, 303)
    assert "/login" in anonymous.headers["location"]
    await portal.add_user("leader", Role.VIEWER, ())
    await portal.login("leader")
    got = await portal.client.get("/bulletins/2023-03-X2.pdf")
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/pdf"
    assert got.content.startswith(b"%PDF")
    disposition = got.headers["content-disposition"]
    assert disposition == "inline; filename*=UTF-8''%E9%80%9A%E6%8A%A5-2023-03-X2.pdf"
    # Anything but a 旬 or a month is no page (never passed on to the service's URL).
    for bad in ("2023-3-X2", "2023-03-X4", "2023-03-X2%3Fformat%3Djson"):
        refused = await portal.client.get(f"/bulletins/{bad}.pdf")
        assert refused.status_code == 404, bad
