"""Logging in and out of the portal, and the attacks a login page draws: session fixation, CSRF,
open redirects after login, clickjacking, password guessing."""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import unquote, urlsplit

import pytest

from sanpi.kit import Role
from sanpi.kit.ratelimit import RateLimiter
from tests.support.portal import PASSWORD, Portal, csrf_of

pytestmark = pytest.mark.db_independent


def set_cookies(response_headers: list[str]) -> dict[str, str]:
    """Each Set-Cookie header by cookie name, whole (value and attributes)."""
    found = {}
    for header in response_headers:
        name = header.split("=", 1)[0]
        found[name] = header
    return found


async def test_a_good_login_opens_a_session_cookie_that_scripts_cannot_read(portal: Portal) -> None:
    await portal.add_user("zhang", parks=("梧桐",), display_name="张三")
    answer = await portal.login("zhang", next_url="/alerts")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/alerts"
    cookie = set_cookies(answer.headers.get_list("set-cookie"))["sanpi_session"]
    attributes = cookie.lower()
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "secure" not in attributes  # plain HTTP here; see the HTTPS test
    home = await portal.client.get("/")
    assert home.status_code == 200
    assert "张三" in home.text


async def test_the_session_cookie_is_secure_behind_https(portal: Portal) -> None:
    await portal.add_user("zhang")
    portal.client.base_url = "https://sanpi.test"  # cookie_secure=auto: Secure over HTTPS
    answer = await portal.login("zhang")
    cookie = set_cookies(answer.headers.get_list("set-cookie"))["sanpi_session"]
    assert "secure" in cookie.lower()


async def test_without_a_session_a_page_sends_the_browser_to_the_login_page(
    portal: Portal,
) -> None:
    answer = await portal.client.get("/?park=梧桐")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")
    page = await portal.client.get(answer.headers["location"])
    assert page.status_code == 200
    assert "登录" in page.text  # Chinese by default


async def test_a_wrong_password_is_refused_in_chinese_without_saying_which_part_was_wrong(
    portal: Portal,
) -> None:
    await portal.add_user("zhang")
    wrong = await portal.login("zhang", "not the password")
    unknown = await portal.login("nobody", "whatever it is")
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码错误" in wrong.text
    assert "用户名或密码错误" in unknown.text
    assert "sanpi_session" not in wrong.headers.get("set-cookie", "")


async def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(
    portal: Portal,
) -> None:
    await portal.add_user("zhang")
    for _ in range(4):
        assert (await portal.login("zhang", "wrong password")).status_code == 401
    fifth = await portal.login("zhang", "wrong password")
    assert fifth.status_code == 401
    assert "锁定" in fifth.text
    right = await portal.login("zhang", PASSWORD)
    assert right.status_code == 401
    assert "锁定" in right.text
    assert "sanpi_session" not in right.headers.get("set-cookie", "")


async def test_logins_from_one_address_are_rate_limited(portal: Portal) -> None:
    # A bucket that does not refill within the test (argon2 makes each attempt slow).
    portal.app.state.login_limit = RateLimiter(per_s=1 / 3600, burst=10)
    for number in range(10):
        answer = await portal.login(f"user{number}", "guess guess")
        assert answer.status_code == 401
    limited = await portal.login("user11", "guess guess")
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "请等待" in limited.text or "秒" in limited.text


async def test_a_session_id_planted_before_login_does_not_survive_it(portal: Portal) -> None:
    """Session fixation: an attacker logs in as themselves and plants their session id in the
    victim's browser; after the victim logs in, that id must be worthless."""
    await portal.add_user("attacker")
    await portal.add_user("victim", display_name="受害人")
    await portal.login("attacker")
    planted = portal.client.cookies["sanpi_session"]

    answer = await portal.login("victim")
    assert answer.status_code == 303
    fresh = set_cookies(answer.headers.get_list("set-cookie"))["sanpi_session"]
    fresh_value = SimpleCookie(fresh)["sanpi_session"].value
    assert fresh_value != planted

    portal.client.cookies.clear()
    portal.client.cookies.set("sanpi_session", planted)
    reused = await portal.client.get("/")
    assert reused.status_code == 303  # to the login page: the planted id logs nobody in

    portal.client.cookies.set("sanpi_session", fresh_value)
    mine = await portal.client.get("/")
    assert mine.status_code == 200
    assert "受害人" in mine.text


async def test_an_invented_session_id_logs_nobody_in(portal: Portal) -> None:
    portal.client.cookies.set("sanpi_session", "chosen-by-the-attacker")
    await portal.add_user("victim")
    answer = await portal.login("victim")
    value = SimpleCookie(set_cookies(answer.headers.get_list("set-cookie"))["sanpi_session"])
    assert value["sanpi_session"].value != "chosen-by-the-attacker"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "http:evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        " //evil.example",
        "////evil.example",
        "https:/evil.example",
        "/\tevil.example",
    ],
)
async def test_after_login_the_browser_never_leaves_the_site(portal: Portal, target: str) -> None:
    await portal.add_user("zhang")
    answer = await portal.login("zhang", next_url=target)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"


async def test_an_encoded_line_break_in_next_stays_a_path_of_the_site(portal: Portal) -> None:
    await portal.add_user("zhang")
    answer = await portal.login("zhang", next_url="/%0d%0aLocation:%20https://evil.example")
    location = answer.headers["location"]
    parts = urlsplit(location)
    assert parts.scheme == parts.netloc == ""
    assert location.startswith("/")
    assert not location.startswith("//")
    assert "\r" not in location
    assert "\n" not in location


async def test_a_local_next_page_is_kept(portal: Portal) -> None:
    await portal.add_user("zhang")
    answer = await portal.login("zhang", next_url="/projects?park=梧桐&page=2")
    assert unquote(answer.headers["location"]) == "/projects?park=梧桐&page=2"


async def test_a_login_without_the_form_token_is_refused(portal: Portal) -> None:
    await portal.add_user("zhang")
    answer = await portal.client.post(
        "/login", data={"username": "zhang", "password": PASSWORD, "next": "/"}
    )
    assert answer.status_code == 403
    assert "sanpi_session" not in answer.headers.get("set-cookie", "")


async def test_forms_of_a_session_need_its_token(portal: Portal) -> None:
    await portal.add_user("zhang")
    await portal.login("zhang")
    missing = await portal.client.post("/logout", data={})
    forged = await portal.client.post("/logout", data={"csrf_token": "forged"})
    assert missing.status_code == forged.status_code == 403
    assert "表单已过期" in missing.text
    still_in = await portal.client.get("/")
    assert still_in.status_code == 200


async def test_log_out_ends_the_session_on_the_server(portal: Portal) -> None:
    await portal.add_user("zhang")
    await portal.login("zhang")
    token = portal.client.cookies["sanpi_session"]
    page = await portal.client.get("/")
    answer = await portal.client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert answer.status_code == 303
    portal.client.cookies.set("sanpi_session", token)
    assert (await portal.client.get("/")).status_code == 303


async def test_a_disabled_account_cannot_log_in(portal: Portal) -> None:
    await portal.add_user("zhang")
    async with portal.app.state.runtime.db.transaction() as uow:
        from sanpi.portal.accounts import repository

        account = await repository.get(uow.session, "zhang")
        assert account is not None
        account.disabled = True
        repository.save(uow.session, account)
    answer = await portal.login("zhang")
    assert answer.status_code == 401
    assert "停用" in answer.text


@pytest.mark.parametrize("path", ["/login", "/", "/nonexistent"])
async def test_no_page_may_be_framed_or_run_inline_script(portal: Portal, path: str) -> None:
    await portal.add_user("zhang", role=Role.VIEWER, parks=())
    await portal.login("zhang")
    answer = await portal.client.get(path)
    assert answer.headers["x-frame-options"] == "DENY"
    policy = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "script-src 'self'" in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in answer.text  # no inline script block
    assert " on" + "click=" not in answer.text


async def test_the_portal_has_no_api_document_or_docs_page(portal: Portal) -> None:
    assert (await portal.client.get("/openapi.json")).status_code == 404
    assert (await portal.client.get("/docs")).status_code == 404


async def test_what_a_person_typed_is_escaped(portal: Portal) -> None:
    await portal.add_user("zhang", display_name='<script>alert("x")</script>')
    await portal.login("zhang")
    page = await portal.client.get("/")
    assert '<script>alert("x")</script>' not in page.text
    assert "&lt;script&gt;" in page.text


async def test_english_is_a_switch(portal: Portal) -> None:
    switched = await portal.client.get("/lang/en?next=/login")
    assert switched.status_code == 303
    assert switched.headers["location"] == "/login"
    page = await portal.client.get("/login")
    assert "Log in" in page.text
    assert "登录" not in page.text.replace("中文", "")
