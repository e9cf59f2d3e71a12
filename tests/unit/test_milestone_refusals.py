"""The milestone service's refusals read in the reader's language: Chinese by default, English on
request (the bulletin's, a missing issue, photo or project, the plan and baseline checks)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from sanpi.kit.messages import from_validation_errors
from sanpi.milestone.bulletins import documents, service
from sanpi.milestone.nodes.schemas import BaselineCreate, MilestoneCreate
from sanpi.milestone.progress.schemas import PlanPut
from sanpi.office.pdf import FontMissing
from tests.support.milestone import Milestones, milestone_service

EN = {"Accept-Language": "en"}


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Milestones]:
    async with milestone_service(tmp_path) as running:
        yield running


async def test_a_bad_period_is_refused_in_the_readers_language(svc: Milestones) -> None:
    zh = await svc.client.get("/v1/bulletins/2023-13")
    assert zh.status_code == 422
    assert zh.json()["errors"] == [
        {
            "field": "period",
            "reason": '应为 2023-03-X2（旬，X1 上旬、X2 中旬、X3 下旬）或 2023-03（月），收到 "2023-13"',
        }
    ]
    en = await svc.client.get("/v1/bulletins/2023-13", headers=EN)
    assert en.json()["detail"] == "month must be 1..12, not 13"
    # The report sheet's template refuses a period in the same words.
    sheet = await svc.client.get(
        "/v1/progress/template", params={"period": "2023-X", "park": "梧桐"}
    )
    assert sheet.status_code == 422
    assert sheet.json()["errors"][0]["reason"] == (
        '应为 2023-03-X2（旬，X1 上旬、X2 中旬、X3 下旬）或 2023-03（月），收到 "2023-X"'
    )
    # The service's day is 2023-06-15.
    later = await svc.client.get("/v1/bulletins/2023-07-X1")
    assert later.status_code == 422
    assert (
        later.json()["detail"] == "2023年7月上旬尚未开始（今天是 2023-06-15）：没有可以通报的内容"
    )
    later_en = await svc.client.get("/v1/bulletins/2023-07-X1", headers=EN)
    assert later_en.json()["detail"] == (
        "early July 2023 has not begun (today is 2023-06-15): there is nothing to report"
    )


async def test_a_pdf_without_a_chinese_font_is_refused_in_the_readers_language(
    svc: Milestones, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bulletin itself is not what this is about: any composed bulletin, then no font.
    async def composed(*_args: Any, **_kwargs: Any) -> object:
        return object()

    def no_font(_bulletin: object) -> bytes:
        raise FontMissing("no Chinese TrueType font found (x.ttc): install fonts-wqy-zenhei")

    monkeypatch.setattr(service, "compose", composed)
    monkeypatch.setattr(documents, "pdf_bytes", no_font)
    zh = await svc.client.get("/v1/bulletins/2023-03-X2", params={"format": "pdf"})
    assert zh.status_code == 503
    assert zh.json()["detail"] == (
        "无法生成 PDF：服务器没有安装中文字体（运维人员可运行 make fonts-cjk 安装）"
    )
    en = await svc.client.get("/v1/bulletins/2023-03-X2", params={"format": "pdf"}, headers=EN)
    assert en.json()["detail"] == (
        "cannot produce the PDF: no Chinese TrueType font found (x.ttc): install fonts-wqy-zenhei"
    )


async def test_what_is_not_there_is_refused_in_the_readers_language(svc: Milestones) -> None:
    cases = [
        ("/v1/issues/i-9", "交办事项 i-9 不存在", "assigned issue i-9 not found"),
        ("/v1/evidence/e-9", "照片 e-9 不存在", "no evidence e-9"),
        (
            "/v1/projects/p-9/forecast",
            "项目 p-9 不存在（里程碑服务尚未收到它的登记）",
            "project p-9 is not known to the milestone service",
        ),
    ]
    for url, zh, en in cases:
        chinese = await svc.client.get(url)
        assert (chinese.status_code, chinese.json()["detail"]) == (404, zh), url
        english = await svc.client.get(url, headers=EN)
        assert english.json()["detail"] == en, url


def reasons(model: type[BaseModel], body: dict[str, Any]) -> dict[str, tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    found = from_validation_errors(caught.value.errors())
    return {f.field: (f.message.render("zh"), f.message.render("en")) for f in found}


def test_a_plan_and_a_baseline_are_refused_in_either_language() -> None:
    negative = reasons(PlanPut, {"annual_plan": 12, "monthly": [1] * 11 + [-1]})
    assert negative == {"monthly": ("金额不能为负数", "amounts must not be negative")}
    blank = reasons(
        BaselineCreate,
        {"name": " ", "reason": "年中调整", "dates": [{"kind": "STARTED", "date": "2023-09-01"}]},
    )
    assert blank["name"] == ("不能为空白", "must not be blank")
    custom = reasons(MilestoneCreate, {"kind": "CUSTOM", "date": "2023-03-01", "label": " "})
    assert custom == {"label": ("CUSTOM 里程碑必须填写", "a CUSTOM milestone needs a label")}
