"""管理: the administrator creates accounts (errors beside the fields), changes a role, disables an
account (its sessions end) and resets a password; keeps periods and their lists; checks and
imports a ledger sheet with each bad row named, and exports it."""

from __future__ import annotations

import re

from sanpi.kit import Role
from tests.support.portal import PASSWORD, District, csrf_of, post_forms_without_token


async def as_admin(d: District) -> str:
    await d.portal.add_user("root", Role.ADMIN, ())
    await d.portal.login("root")
    return csrf_of((await d.portal.client.get("/admin/accounts")).text)


async def test_the_admin_creates_an_account_after_fixing_the_fields(district: District) -> None:
    portal = district.portal
    token = await as_admin(district)
    bad = await portal.client.post(
        "/admin/accounts/new",
        data={
            "csrf_token": token,
            "username": "Zhang San!",
            "display_name": "",
            "role": "operator",
            "password": "short",
            "password_confirm": "different",
        },
    )
    assert bad.status_code == 422
    for field in ("username", "display_name", "password", "parks"):
        assert f'id="{field}-error"' in bad.text, field
    assert "至少10个字符" in bad.text
    assert "园区填报员至少要有一个园区" in bad.text
    assert 'value="short"' not in bad.text  # a password is never sent back

    good = await portal.client.post(
        "/admin/accounts/new",
        data={
            "csrf_token": token,
            "username": "zhangsan",
            "display_name": "张三",
            "role": "operator",
            "parks": "梧桐",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert good.status_code == 303, good.text
    taken = await portal.client.post(
        "/admin/accounts/new",
        data={
            "csrf_token": token,
            "username": "zhangsan",
            "display_name": "另一个张三",
            "role": "viewer",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert "该用户名已被使用" in taken.text
    listed = await portal.client.get("/admin/accounts")
    assert "张三" in listed.text


async def test_disabling_an_account_ends_its_sessions_and_a_reset_lets_it_in_again(
    district: District,
) -> None:
    portal = district.portal
    await portal.add_user("zhangsan", Role.OPERATOR, ("梧桐",))
    await portal.login("zhangsan")
    his_session = portal.client.cookies["sanpi_session"]
    token = await as_admin(district)
    disabled = await portal.client.post(
        "/admin/accounts/zhangsan",
        data={
            "csrf_token": token,
            "display_name": "张三",
            "role": "operator",
            "parks": "梧桐",
            "disabled": "on",
        },
    )
    assert disabled.status_code == 303, disabled.text
    admin_session = portal.client.cookies["sanpi_session"]
    portal.client.cookies.set("sanpi_session", his_session)
    assert (await portal.client.get("/")).status_code == 303  # his session is over
    portal.client.cookies.set("sanpi_session", admin_session)
    await portal.client.post(
        "/admin/accounts/zhangsan",
        data={"csrf_token": token, "display_name": "张三", "role": "viewer"},
    )
    reset = await portal.client.post(
        "/admin/accounts/zhangsan/password",
        data={
            "csrf_token": token,
            "password": "a new long password",
            "password_confirm": "a new long password",
        },
    )
    assert reset.status_code == 200
    assert "密码已重置" in reset.text
    assert (await portal.login("zhangsan", "a new long password")).status_code == 303


async def test_an_admin_cannot_lock_themselves_out(district: District) -> None:
    portal = district.portal
    token = await as_admin(district)
    answer = await portal.client.post(
        "/admin/accounts/root",
        data={"csrf_token": token, "display_name": "root", "role": "viewer"},
    )
    assert answer.status_code == 422
    assert "不能停用自己" in answer.text


async def test_only_the_admin_reaches_the_admin_pages(district: District) -> None:
    portal = district.portal
    await portal.add_user("zhangsan", Role.OPERATOR, ("梧桐",))
    await portal.login("zhangsan")
    for path in ("/admin/accounts", "/admin/accounts/new", "/admin/periods", "/admin/ledger"):
        assert (await portal.client.get(path)).status_code == 403, path


async def test_periods_and_their_lists(district: District) -> None:
    project = await district.project("列入名单的项目", "梧桐")
    portal = district.portal
    token = await as_admin(district)
    created = await portal.client.post(
        "/admin/periods", data={"csrf_token": token, "number": "7", "event_date": "2023-01-28"}
    )
    assert created.status_code == 303, created.text
    again = await portal.client.post(
        "/admin/periods", data={"csrf_token": token, "number": "7", "event_date": "2023-01-28"}
    )
    assert "第7期已存在" in again.text
    bad_date = await portal.client.post(
        "/admin/periods", data={"csrf_token": token, "number": "8", "event_date": "2023-02-30"}
    )
    assert 'id="event_date-error"' in bad_date.text
    found = await portal.client.get("/admin/periods/7", params={"q": "列入名单"})
    assert "列入名单的项目" in found.text
    listed = await portal.client.post(
        "/admin/periods/7/listings", data={"csrf_token": token, "project": project, "batch": "SIGN"}
    )
    assert listed.status_code == 303
    page = await portal.client.get("/admin/periods/7")
    assert "签约一批" in page.text
    assert "列入名单的项目" in page.text
    closed = await portal.client.post("/admin/periods/7/close", data={"csrf_token": token})
    assert closed.status_code == 303
    assert "已关闭" in (await portal.client.get("/admin/periods/7")).text


async def test_a_ledger_sheet_is_checked_row_by_row_then_imported_and_exported(
    district: District,
) -> None:
    portal = district.portal
    token = await as_admin(district)
    bad = "项目名称,所属园区,总投资(万元),签约日期\n好项目,梧桐,1000,2023-01-28\n坏项目,梧桐,很多,2023-13-01\n"
    checked = await portal.client.post(
        "/admin/ledger",
        data={"csrf_token": token, "mode": "check"},
        files={"file": ("台账.csv", bad.encode(), "text/csv")},
    )
    assert checked.status_code == 422
    rows = re.findall(r'<td data-label="行号" class="num">(\d+)</td>', checked.text)
    assert rows == ["3", "3"]
    assert "应为整数万元" in checked.text
    assert "应为日期" in checked.text

    good = "项目名称,所属园区,总投资(万元)\n导入的项目,梧桐,1000\n"
    imported = await portal.client.post(
        "/admin/ledger",
        data={"csrf_token": token, "mode": "import"},
        files={"file": ("台账.csv", good.encode(), "text/csv")},
    )
    assert imported.status_code == 200, imported.text
    assert "已导入1个项目" in imported.text
    exported = await portal.client.get("/admin/ledger/export", params={"format": "xlsx"})
    assert exported.status_code == 200
    assert exported.content[:2] == b"PK"
    assert "attachment" in exported.headers["content-disposition"]


async def test_a_ledger_sheets_problems_read_in_the_visitors_language(district: District) -> None:
    # The portal forwards its language to the registry, which words each problem in it: a
    # Chinese visitor reads Chinese, an English visitor (the switch) English, with no
    # translation by the portal between them.
    portal = district.portal
    token = await as_admin(district)
    bad = "项目名称,所属园区,总投资(万元),签约日期\n坏项目,梧桐,很多,2023-13-01\n"

    async def check() -> str:
        checked = await portal.client.post(
            "/admin/ledger",
            data={"csrf_token": token, "mode": "check"},
            files={"file": ("台账.csv", bad.encode(), "text/csv")},
        )
        assert checked.status_code == 422
        return checked.text

    chinese = await check()
    assert '应为整数万元，收到 "很多"' in chinese.replace("&#34;", '"').replace("&quot;", '"')
    assert "应为日期" in chinese
    assert "is not a" not in chinese
    assert (await portal.client.get("/lang/en?next=/admin/ledger")).status_code == 303
    english = await check()
    assert "is not a whole number of 10k yuan" in english
    assert "is not a date" in english
    assert "应为" not in english


async def test_every_admin_form_carries_the_csrf_token(district: District) -> None:
    await as_admin(district)
    for path in ("/admin/accounts/new", "/admin/periods", "/admin/ledger"):
        page = await district.portal.client.get(path)
        assert page.status_code == 200, path
        assert post_forms_without_token(page.text) == [], path
