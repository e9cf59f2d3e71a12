"""What an import says about a row, in Chinese (the default) or English: each message is made
once with both texts and rendered in the reader's language (Accept-Language)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic_core import ErrorDetails

Lang = Literal["zh", "en"]


@dataclass(frozen=True)
class Said:
    """One message in both languages."""

    zh: str
    en: str

    def text(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


def quoted(value: Any) -> str:
    """A value a person typed, quoted as JSON writes it with its Chinese readable: "约3亿"."""
    return json.dumps(value if isinstance(value, str) else str(value), ensure_ascii=False)


def language(accept_language: str | None) -> Lang:
    """zh unless the request prefers English (Accept-Language: en, en-US;q=0.9, …)."""
    best: tuple[float, int, Lang] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("zh", "en"):
            continue
        q = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                q = float(value)
            except ValueError:
                q = 0.0
        candidate = (-q, position, primary)
        if q > 0 and (best is None or candidate < best):
            best = candidate  # type: ignore[assignment]
    return best[2] if best is not None else "zh"


def row_line(row: int, column: str, reason: str, lang: Lang) -> str:
    """One line of a sheet's report: 第 12 行「总投资」：应为整数万元，收到 "约3亿"."""
    if lang == "zh":
        return f"第 {row} 行「{column}」：{reason}" if column else f"第 {row} 行：{reason}"
    return f"Row {row} {column}: {reason}" if column else f"Row {row}: {reason}"


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def from_pydantic(error: ErrorDetails, *, wan: bool) -> Said:
    """One of pydantic's errors about a cell, in both languages."""
    kind = error.get("type", "")
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    en = str(error.get("msg", "invalid"))
    unit = "万元" if wan else ""
    given = quoted(error.get("input"))
    if kind == "missing":
        return Said("必须填写", "required")
    if kind == "greater_than":
        return Said(f"应大于 {_number(ctx.get('gt'))}{unit}，收到 {given}", en)
    if kind == "greater_than_equal":
        return Said(f"不能小于 {_number(ctx.get('ge'))}{unit}，收到 {given}", en)
    if kind == "less_than_equal":
        return Said(f"不能大于 {_number(ctx.get('le'))}{unit}，收到 {given}", en)
    if kind == "string_too_long":
        return Said(f"最多 {ctx.get('max_length')} 个字符", en)
    if kind == "string_too_short":
        return Said("不能为空", en)
    if kind == "string_pattern_mismatch":
        return Said(f"格式不对，收到 {given}", en)
    if kind in ("enum", "literal_error"):
        return Said(f"应为 {ctx.get('expected', '?')} 之一，收到 {given}", en)
    return Said(f"不合法：{en}", en)
