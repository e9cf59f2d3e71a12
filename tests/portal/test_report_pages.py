"""填报: an operator posts for the projects of their parks only, and every form checks its fields
on the server, with the error beside the field, before the milestone service checks them again."""

from __future__ import annotations

from sanpi.kit import Role
from tests.support.portal import District, csrf_of, post_forms_without_token


async def two_parks(d: District) -> dict[str, str]:
    ids = {
        "mine": await d.project(
            "梧桐在建项目", "梧桐", initial_stage="UNDER_CONSTRUCTION", started_date="2023-03-01"
        ),
        "theirs": await d.project(
            "石佛在建项目", "石佛", initial_stage="UNDER_CONSTRUCTION", started_date="2023-03-01"
        ),
    }
    await d.evaluate("2023-06-15")
    return ids


async def test_an_operator_never_gets_a_form_for_another_parks_project(district: District) -> None:
    ids = await two_parks(district)
    portal = district.portal
    await portal.add_user("wutong", Role.OPERATOR, ("梧桐",))
    await portal.login("wutong")
    for path in (
        f"/report/milestone?project={ids['theirs']}",
        f"/report/progress?project={ids['theirs']}",
    ):
        page = await portal.client.get(path)
        assert page.status_code == 403, path
        assert "<form" not in page.text.replace('action="/logout"', "").split("<main")[1]
    mine = await portal.client.get(f"/report/milestone?project={ids['mine']}")
    assert mine.status_code == 200
    assert 'enctype="multipart/form-data"' in mine.text
    hub = await portal.client.get("/report")
    assert "梧桐在建项目" in hub.text
    assert "石佛在建项目" not in hub.text


async def test_a_viewer_has_no_report_pages(district: District) -> None:
    await two_parks(district)
    portal = district.portal
    await portal.add_user("leader", Role.VIEWER, ())
    await portal.login("leader")
    assert (await portal.client.get("/report")).status_code == 403
    home = await portal.client.get("/")
    assert 'href="/report"' not in home.text


async def test_a_start_without_a_photo_is_refused_beside_the_photo(district: District) -> None:
    ids = await two_parks(district)
    portal = district.portal
    await portal.add_user("wutong", Role.OPERATOR, ("梧桐",))
    await portal.login("wutong")
    form = await portal.client.get(f"/report/milestone?project={ids['mine']}")
    answer = await portal.client.post(
        "/report/milestone",
        data={
            "csrf_token": csrf_of(form.text),
            "project": ids["mine"],
            "kind": "STARTED",
            "date": "2023-03-01",
        },
        files={"photo": ("", b"", "application/octet-stream")},
    )
    assert answer.status_code == 422
    assert 'id="photo-error"' in answer.text
    assert "现场照片" in answer.text
    no_date = await portal.client.post(
        "/report/milestone",
        data={
            "csrf_token": csrf_of(form.text),
            "project": ids["mine"],
            "kind": "CUSTOM",
            "date": "20230301",
        },
    )
    assert 'id="date-error"' in no_date.text
    assert 'id="label-error"' in no_date.text


async def test_report_figures_are_checked_beside_each_field(district: District) -> None:
    ids = await two_parks(district)
    portal = district.portal
    await portal.add_user("wutong", Role.OPERATOR, ("梧桐",))
    await portal.login("wutong")
    form = await portal.client.get(f"/report/progress?project={ids['mine']}")
    assert form.status_code == 200, form.text
    assert "2023年6月上旬" in form.text  # the 旬 owed, chosen already
    answer = await portal.client.post(
        "/report/progress",
        data={
            "csrf_token": csrf_of(form.text),
            "project": ids["mine"],
            "period_key": "2023-06-X1",
            "completed_investment_cum": "约3亿",
            "completed_investment_ytd": "5000",
            "physical_progress_pct": "120",
        },
    )
    assert answer.status_code == 422
    assert 'id="completed_investment_cum-error"' in answer.text
    assert "整数" in answer.text
    assert 'id="physical_progress_pct-error"' in answer.text
    assert 'value="约3亿"' in answer.text  # what was typed stays


async def test_the_batch_page_lists_the_parks_projects_for_a_xun(district: District) -> None:
    await two_parks(district)
    portal = district.portal
    await portal.add_user("wutong", Role.OPERATOR, ("梧桐",))
    await portal.login("wutong")
    page = await portal.client.get("/report/batch", params={"period_key": "2023-06-X1"})
    assert page.status_code == 200, page.text
    assert "梧桐在建项目" in page.text
    assert "石佛在建项目" not in page.text
    month = await portal.client.get("/report/batch", params={"period_key": "2023-06"})
    assert "批量填报只针对旬报" in month.text or 'id="period_key-error"' in month.text


async def test_every_form_an_operator_posts_carries_the_csrf_token(district: District) -> None:
    """A macro imported without the page's context rendered the milestone form's CSRF field with
    no name: Chromium left it out of the upload and every milestone with a photo was refused as
    an expired form."""
    ids = await two_parks(district)
    portal = district.portal
    await portal.add_user("wutong", Role.OPERATOR, ("梧桐",))
    await portal.login("wutong")
    for path in (
        f"/report/milestone?project={ids['mine']}",
        f"/report/progress?project={ids['mine']}",
        "/subscriptions/new",
    ):
        page = await portal.client.get(path)
        assert page.status_code == 200, path
        assert "<form" in page.text, path
        assert post_forms_without_token(page.text) == [], path
