"""How the fields people fill in are called, in Chinese and English, with their units: one
catalogue for the services' messages (sanpi.kit.messages) and the command line's sheet headers,
which reads it without the kit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Label:
    """How a field is called in the sheets and forms, and its unit (万元 amounts, %)."""

    zh: str
    en: str
    unit_zh: str = ""
    unit_en: str = ""


LABELS: dict[str, Label] = {}


def label(name: str, *, zh: str, en: str, unit_zh: str = "", unit_en: str = "") -> Label:
    """Registers a field's label (the same field name means the same thing in every service)."""
    found = LABELS[name] = Label(zh, en, unit_zh, unit_en)
    return found


WAN = {"unit_zh": "万元", "unit_en": " (万元)"}
label("project_id", zh="项目", en="project")
label("period_key", zh="填报期", en="period")
label("period_kind", zh="期间类型", en="period kind")
label("completed_investment_cum", zh="累计完成投资", en="cumulative investment", **WAN)
label("completed_investment_ytd", zh="本年完成投资", en="investment this year", **WAN)
label("funds_arrived_cum", zh="累计到位资金", en="funds arrived", **WAN)
label("physical_progress_pct", zh="形象进度", en="physical progress", unit_zh="%", unit_en=" %")
label("narrative", zh="进展情况", en="narrative")
label("problems", zh="存在问题", en="problems")
label("description", zh="描述", en="description")
label("category", zh="类别", en="category")
label("assigned_unit", zh="责任单位", en="assigned unit")
label("correction", zh="更正", en="correction")
label("raised_on", zh="交办日期", en="raised on")
label("raised_by", zh="交办人", en="raised by")
label("term", zh="办理时限", en="term")
label("due_on", zh="办结期限", en="due on")
label("closed_on", zh="销号日期", en="closed on")
label("text", zh="反馈内容", en="text")
label("issue_id", zh="交办事项", en="issue")
label("submitted_on", zh="填报日期", en="submitted on")
label("kind", zh="里程碑", en="milestone kind")
label("date", zh="日期", en="date")
label("label", zh="名称", en="label")
label("evidence", zh="佐证材料", en="evidence")
label("uri", zh="地址", en="URI")
label("taken_at", zh="拍摄日期", en="taken on")
label("file", zh="文件", en="file")
label("total_investment", zh="总投资", en="total investment", **WAN)
label("name", zh="项目名称", en="name")
label("park", zh="园区", en="park")
label("body", zh="请求", en="request")
# A project's dates, in the order its plan runs (a refusal names the one a date may not precede).
label("signed_date", zh="签约日期", en="signed date")
label("planned_fulfill_date", zh="计划履约日期", en="planned fulfil date")
label("planned_start_date", zh="计划开工日期", en="planned start date")
label("planned_completion_date", zh="计划竣工日期", en="planned completion date")
label("planned_production_date", zh="计划投产日期", en="planned production date")
label("planned_effective_date", zh="计划达效日期", en="planned effective date")


def field_of_header(header: str, fields: Iterable[str]) -> str | None:
    """Which of `fields` a sheet's column header names: the field itself, or its label in
    either language, with or without a unit (累计完成投资（万元）, 形象进度(%)); None if none."""
    text = header.strip().lstrip("\ufeff").strip()
    for opening, closing in (("（", "）"), ("(", ")")):
        if text.endswith(closing) and opening in text:
            text = text[: text.rindex(opening)].strip()
    folded = text.lower()
    for name in fields:
        known = LABELS.get(name)
        names = {name.lower()}
        if known is not None:
            names |= {known.zh.lower(), known.en.lower()}
        if folded in names:
            return name
    return None
