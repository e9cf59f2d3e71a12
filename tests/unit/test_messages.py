"""The message catalogue (sanpi.kit.messages): languages, labels, row lines, pydantic in Chinese."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
import re

import pytest
from pydantic import AnyHttpUrl, BaseModel, Field, ValidationError

import sanpi
from sanpi.kit.messages import (
    CATALOGUE,
    FieldMessage,
    MessageError,
    from_validation_errors,
    language,
    template,
    zh_date,
)

pytestmark = pytest.mark.db_independent


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "zh"),
        ("", "zh"),
        ("*", "zh"),
        ("fr-FR, de;q=0.8", "zh"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en;q=0.5, zh-TW;q=0.8", "zh"),
        ("fr, en;q=0.3", "en"),
        ("zh;q=0, en", "en"),
        ("en;q=bad, zh;q=0.1", "zh"),
    ],
)
def test_the_language_is_the_best_of_zh_and_en(header: str | None, expected: str) -> None:
    assert language(header) == expected


def test_an_english_default_keeps_english_without_a_header() -> None:
    assert language(None, default="en") == "en"
    assert language("zh-CN", default="en") == "zh"


class Row(BaseModel):
    total_investment: int = Field(ge=1, le=100_000_000)
    name: str = Field(min_length=1, max_length=5)
    narrative: str = ""


def problems(data: dict[str, object]) -> list[FieldMessage]:
    with pytest.raises(ValidationError) as caught:
        Row.model_validate(data)
    return from_validation_errors(caught.value.errors())


def test_pydantic_errors_read_in_chinese_with_the_field_label_and_unit() -> None:
    found = problems({"total_investment": "约3亿", "name": "", "extra": 1})
    assert [p.field for p in found] == ["total_investment", "name"]
    assert found[0].for_row(12, "zh") == '第 12 行「总投资」：应为整数万元，收到 "约3亿"'
    assert found[0].render("zh") == {
        "field": "total_investment",
        "message": '「总投资」：应为整数万元，收到 "约3亿"',
    }
    assert found[1].text("zh") == "「项目名称」：不能为空"
    english = found[0].for_row(12, "en")
    assert english.startswith("Row 12 total investment: Input should be a valid integer")
    assert problems({"total_investment": 0, "name": "长长长长长长"})[0].text("zh") == (
        "「总投资」：不能小于 1万元"
    )
    too_long = problems({"total_investment": 1, "name": "长长长长长长"})[0]
    assert too_long.text("zh") == "「项目名称」：最多 5 个字符，收到 6 个"
    assert problems({"name": "x"})[0].text("zh") == "「总投资」：必须填写"


def test_a_bad_url_reads_in_chinese_and_in_pydantics_english() -> None:
    class Hook(BaseModel):
        url: AnyHttpUrl

    def said(url: str) -> FieldMessage:
        with pytest.raises(ValidationError) as caught:
            Hook.model_validate({"url": url})
        [found] = from_validation_errors(caught.value.errors())
        return found

    scheme = said("gopher://example.cn/hook")
    assert (
        scheme.message.render("zh")
        == '网址应以 http 或 https 开头，收到 "gopher://example.cn/hook"'
    )
    assert scheme.message.render("en") == "URL scheme should be 'http' or 'https'"
    assert said("hook").message.render("zh") == (
        '应为网址（如 https://example.cn/hook），收到 "hook"'
    )


def test_a_validator_speaks_both_languages_through_message_error() -> None:
    said = template("test.odd", zh="{n} 不是偶数", en="{n} is not even")

    class Even(BaseModel):
        n: int

        def model_post_init(self, _context: object) -> None:
            if self.n % 2:
                raise MessageError(said(n=self.n))

    with pytest.raises(ValidationError) as caught:
        Even(n=3)
    (problem,) = from_validation_errors(caught.value.errors())
    assert problem.text("zh") == "3 不是偶数"
    assert problem.message.render("en") == "3 is not even"
    assert "test.odd" in CATALOGUE


def test_a_code_means_one_message() -> None:
    template("test.once", zh="一", en="one")
    template("test.once", zh="一", en="one")  # the same again: a module imported twice
    with pytest.raises(ValueError, match="defined twice"):
        template("test.once", zh="二", en="two")


def test_nested_fields_and_dates_read_as_people_write_them() -> None:
    said = template("test.plain", zh="太长", en="too long")
    nested = FieldMessage("problems.2.description", said())
    assert nested.text("zh") == "「存在问题第 3 项描述」：太长"
    assert nested.text("en") == "problems #3 description: too long"
    assert FieldMessage("", said()).for_row(4, "zh") == "第 4 行：太长"
    assert zh_date(dt.date(2023, 3, 1)) == "2023年3月1日"


# Han, CJK punctuation and radicals, kana, fullwidth forms.
CJK = re.compile(
    "[\u2e80-\u2fdf\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
    "\U00020000-\U0002ffff]"
)


def test_the_english_of_every_catalogued_message_is_english() -> None:
    """Every service's module imported (templates register on import; migrations and entry
    points aside), no template's English carries Chinese. A proper name a message needs (a
    park, a project) is data: it comes in as a parameter, not written into the text."""
    for module in pkgutil.walk_packages(sanpi.__path__, "sanpi."):
        if ".migrations" not in module.name and not module.name.endswith(".__main__"):
            importlib.import_module(module.name)
    assert len(CATALOGUE) > 150  # the services' catalogues, not only this file's
    chinese = {code: t.en for code, t in CATALOGUE.items() if CJK.search(t.en)}
    assert chinese == {}
