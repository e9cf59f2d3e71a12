"""Refusals in the reader's language: a Problem that carries a catalogued message is answered in
Chinese unless the request asks for English, its field reasons too; plain strings stay as written."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from sanpi.kit.errors import Conflict, FieldProblem, InvalidInput, install_problem_handlers
from sanpi.kit.messages import Bilingual, template
from sanpi.kit.pagination import decode_cursor
from sanpi.kit.ratelimit import RateLimiter

pytestmark = pytest.mark.db_independent

TAKEN = template("test.taken", zh="第 {n} 期已存在", en="period {n} already exists")
AFTER = template("test.after", zh="应晚于 {day}", en="must be after {day}")


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/taken")
    async def taken() -> None:
        raise Conflict(TAKEN(n=8), period=8)

    @app.get("/fields")
    async def fields() -> None:
        raise InvalidInput.naming(
            [
                FieldProblem("event_date", AFTER(day="2023-01-28")),
                FieldProblem("name", "不能为空"),
            ]
        )

    @app.get("/cursor")
    async def cursor() -> None:
        decode_cursor("%%%")

    @app.post("/json")
    async def body(given: dict[str, int]) -> None:
        del given

    @app.get("/race")
    async def race() -> None:
        raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))

    @app.get("/limited")
    async def limited() -> None:
        limiter = RateLimiter(per_s=0.5, burst=1)
        limiter.check("k")
        limiter.check("k", what=Bilingual(zh="登录尝试", en="login attempts"))

    return app


@pytest.fixture
async def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=_app())
    return httpx.AsyncClient(transport=transport, base_url="http://sanpi.test")


async def test_a_refusal_is_chinese_by_default_and_english_when_asked(
    client: httpx.AsyncClient,
) -> None:
    default = (await client.get("/taken")).json()
    assert default["detail"] == "第 8 期已存在"
    assert default["period"] == 8
    english = await client.get("/taken", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert english.json()["detail"] == "period 8 already exists"
    preferred = await client.get("/taken", headers={"Accept-Language": "en;q=0.5, zh;q=0.9"})
    assert preferred.json()["detail"] == "第 8 期已存在"


async def test_each_field_reason_follows_the_language_and_the_detail_lists_them(
    client: httpx.AsyncClient,
) -> None:
    zh = (await client.get("/fields")).json()
    assert zh["errors"] == [
        {"field": "event_date", "reason": "应晚于 2023-01-28"},
        {"field": "name", "reason": "不能为空"},
    ]
    assert zh["detail"] == "「event_date」：应晚于 2023-01-28；「项目名称」：不能为空"
    en = (await client.get("/fields", headers={"Accept-Language": "en"})).json()
    assert en["errors"][0] == {"field": "event_date", "reason": "must be after 2023-01-28"}
    assert en["detail"] == "event_date: must be after 2023-01-28; name: 不能为空"


async def test_the_kits_own_refusals_are_catalogued(client: httpx.AsyncClient) -> None:
    zh = (await client.get("/cursor")).json()
    assert zh["detail"].startswith("cursor 不是本接口返回的翻页位置")
    assert zh["errors"] == [{"field": "cursor", "reason": "无法识别的翻页位置"}]
    en = (await client.get("/cursor", headers={"Accept-Language": "en"})).json()
    assert en["errors"] == [{"field": "cursor", "reason": "malformed cursor"}]


def test_outside_a_request_detail_is_chinese_and_the_log_line_english() -> None:
    problem = Conflict(TAKEN(n=3))
    assert problem.detail == "第 3 期已存在"
    assert str(problem) == "period 3 already exists"
    assert Conflict("as written").detail_in("en") == "as written"


async def test_the_handlers_own_answers_follow_the_language(client: httpx.AsyncClient) -> None:
    en = {"Accept-Language": "en"}
    as_json = {"content-type": "application/json"}
    zh_json = (await client.post("/json", content=b"{", headers=as_json)).json()
    assert (zh_json["status"], zh_json["detail"]) == (400, "请求体不是有效的 JSON")
    assert zh_json["errors"] == [{"field": "body", "reason": "JSON 格式错误"}]
    en_json = await client.post("/json", content=b"{", headers={**en, **as_json})
    assert en_json.json()["detail"].startswith("request body is not valid JSON: ")
    assert en_json.json()["errors"] == [{"field": "body", "reason": "malformed JSON"}]
    race = await client.get("/race")
    assert (race.status_code, race.json()["detail"]) == (
        409,
        "与同时进行的另一项修改冲突；本次没有写入任何内容，请重试",
    )
    race_en = await client.get("/race", headers=en)
    assert race_en.json()["detail"] == (
        "a concurrent change conflicted with this one; nothing was written, retry"
    )
    limited = await client.get("/limited")
    assert limited.status_code == 429
    assert limited.json()["detail"] == "登录尝试过于频繁：最多连续 1 次、每秒 0.5 次；请 2 秒后再试"
    limited_en = await client.get("/limited", headers=en)
    assert limited_en.json()["detail"] == (
        "too many login attempts: at most 1 at once and 0.5 a second; retry in 2 s"
    )
