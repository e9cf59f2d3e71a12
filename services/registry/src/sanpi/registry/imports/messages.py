"""What an import says about a row, in Chinese (the default) or English: each message is made
once with both texts (the kit's Bilingual) and rendered in the reader's language (the kit's
`language` of Accept-Language)."""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import ErrorDetails

from sanpi.kit.messages import Bilingual, Lang


def quoted(value: Any) -> str:
    """A value a person typed, quoted as JSON writes it with its Chinese readable: "约3亿"."""
    return json.dumps(value if isinstance(value, str) else str(value), ensure_ascii=False)


def row_line(row: int, column: str, reason: str, lang: Lang) -> str:
    """One line of a sheet's report: 第 12 行「总投资」：应为整数万元，收到 "约3亿"."""
    if lang == "zh":
        return f"第 {row} 行「{column}」：{reason}" if column else f"第 {row} 行：{reason}"
    return f"Row {row} {column}: {reason}" if column else f"Row {row}: {reason}"


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def from_pydantic(error: ErrorDetails, *, wan: bool) -> Bilingual:
    """One of pydantic's errors about a cell, in both languages."""
    kind = error.get("type", "")
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    en = str(error.get("msg", "invalid"))
    unit = "万元" if wan else ""
    given = quoted(error.get("input"))
    if kind == "missing":
        return Bilingual("必须填写", "required")
    if kind == "greater_than":
        return Bilingual(f"应大于 {_number(ctx.get('gt'))}{unit}，收到 {given}", en)
    if kind == "greater_than_equal":
        return Bilingual(f"不能小于 {_number(ctx.get('ge'))}{unit}，收到 {given}", en)
    if kind == "less_than_equal":
        return Bilingual(f"不能大于 {_number(ctx.get('le'))}{unit}，收到 {given}", en)
    if kind == "string_too_long":
        return Bilingual(f"最多 {ctx.get('max_length')} 个字符", en)
    if kind == "string_too_short":
        return Bilingual("不能为空", en)
    if kind == "string_pattern_mismatch":
        return Bilingual(f"格式不对，收到 {given}", en)
    if kind in ("enum", "literal_error"):
        return Bilingual(f"应为 {ctx.get('expected', '?')} 之一，收到 {given}", en)
    return Bilingual(f"不合法：{en}", en)
