"""The ledger's sheet columns and how a cell becomes a value, as pure functions (no I/O).

Headers are matched after NFKC normalisation (full-width （） become ()), case and spaces
ignored, so 总投资（万元）, 总投资(万元), "Total_Investment" and total_investment all match.
Enum cells take the API code (ADVANCED_MANUFACTURING) or the Chinese label (先进制造业).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sanpi.events import (
    CATEGORY_LABELS,
    CHAIN_TAG_LABELS,
    EnterpriseOrigin,
    FundingOrigin,
    Stage,
)
from sanpi.events.vocabulary import STAGE_ZH
from sanpi.kit.errors import Said, said_in
from sanpi.kit.messages import Bilingual
from sanpi.office.templates import Field
from sanpi.office.templates import Kind as FieldKind
from sanpi.registry.imports.messages import quoted

ORIGIN_LABELS: dict[str, str] = {
    "LOCAL": "本地",
    "OUT_OF_PROVINCE": "省外",
    "FOREIGN": "境外",
    "HK_MO_TW": "港澳台",
}
# Words officials also write for a stage or a yes/no.
STAGE_SYNONYMS = {"开工": Stage.UNDER_CONSTRUCTION.value, "已开工": Stage.UNDER_CONSTRUCTION.value}
TRUE_WORDS = {"是", "y", "yes", "true", "1", "√"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "×"}
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S")


class Kind(StrEnum):
    TEXT = "TEXT"
    INT = "INT"
    BOOL = "BOOL"
    DATE = "DATE"
    PERIOD = "PERIOD"
    ENUM = "ENUM"


@dataclass(frozen=True)
class Column:
    key: str  # ProjectCreate field, enterprise_* column, a listing period, or a read-only value
    zh: str  # the header written on export
    en: str
    kind: Kind = Kind.TEXT
    labels: Mapping[str, str] = field(default_factory=dict)  # enum code → Chinese label
    aliases: tuple[str, ...] = ()
    required: bool = False
    importable: bool = True  # False: exported for reading, ignored on import
    note: str = ""  # unit and format, written above the header of templates and exports

    def header(self, chinese: bool) -> str:
        return self.zh if chinese else self.en

    def label(self, lang: str) -> str:
        """The column as a message names it: 总投资 (no unit: the message says it)."""
        return _UNIT.sub("", self.zh) if lang == "zh" else self.en


_UNIT = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")


def _labels(mapping: Mapping[Any, str]) -> dict[str, str]:
    return {str(k.value if hasattr(k, "value") else k): v for k, v in mapping.items()}


WAN = "整数，单位万元（1亿元 = 10000万元）"
DAY = "日期，如 2023-03-01"
PERIOD = "期次数字，如 7 或 第7期"
COLUMNS: tuple[Column, ...] = (
    Column("id", "项目ID", "id", aliases=("项目编号",), note="系统编号；新项目留空"),
    Column(
        "version",
        "版本",
        "version",
        Kind.INT,
        note="导出时的版本，请勿修改：用于发现他人的修改",
    ),
    Column("name", "项目名称", "name", required=True),
    Column("park", "所属园区", "park", required=True, aliases=("园区",), note="从列表选择"),
    Column("enterprise_name", "企业名称", "enterprise_name", aliases=("投资主体", "项目单位")),
    Column(
        "enterprise_uscc",
        "统一社会信用代码",
        "enterprise_uscc",
        aliases=("信用代码",),
        note="18 位",
    ),
    Column(
        "enterprise_origin",
        "企业来源",
        "enterprise_origin",
        Kind.ENUM,
        _labels({o: ORIGIN_LABELS[o.value] for o in EnterpriseOrigin}),
    ),
    Column("enterprise_origin_region", "企业来源地", "enterprise_origin_region", note="如 上海"),
    Column("category", "项目类别", "category", Kind.ENUM, _labels(CATEGORY_LABELS)),
    Column("chain_tag", "产业链", "chain_tag", Kind.ENUM, _labels(CHAIN_TAG_LABELS)),
    Column("is_manufacturing", "是否制造业", "is_manufacturing", Kind.BOOL, aliases=("制造业",)),
    Column(
        "funding_origin",
        "资金来源",
        "funding_origin",
        Kind.ENUM,
        _labels({o: ORIGIN_LABELS[o.value] for o in FundingOrigin}),
    ),
    Column(
        "total_investment",
        "总投资(万元)",
        "total_investment",
        Kind.INT,
        required=True,
        aliases=("总投资",),
        note=WAN,
    ),
    Column(
        "contract_amount",
        "签约额(万元)",
        "contract_amount",
        Kind.INT,
        aliases=("合同引资(万元)",),
        note=WAN,
    ),
    Column(
        "annual_plan_investment",
        "年度计划投资(万元)",
        "annual_plan_investment",
        Kind.INT,
        note=WAN,
    ),
    Column("construction_content", "建设规模及内容", "construction_content", aliases=("建设内容",)),
    Column(
        "expected_annual_output",
        "预计年产值(万元)",
        "expected_annual_output",
        Kind.INT,
        note=WAN,
    ),
    Column(
        "expected_jobs",
        "预计带动就业(人)",
        "expected_jobs",
        Kind.INT,
        aliases=("带动就业",),
        note="整数，单位人",
    ),
    Column("responsible_unit", "责任单位", "responsible_unit"),
    Column("responsible_person", "责任人", "responsible_person"),
    Column("sponsor_leader", "分包领导", "sponsor_leader"),
    Column(
        "national_project_code",
        "项目代码",
        "national_project_code",
        aliases=("国家项目代码",),
        note="全国投资项目代码，如 2020-410171-39-03-012345；无项目ID时据此更新",
    ),
    Column(
        "initial_stage",
        "初始阶段",
        "initial_stage",
        Kind.ENUM,
        _labels({s: STAGE_ZH[s] for s in (Stage.SIGNED, Stage.UNDER_CONSTRUCTION)}),
        note="新项目：签约 或 在建（直接开工）",
    ),
    Column("signed_date", "签约日期", "signed_date", Kind.DATE, note=DAY),
    Column(
        "started_date",
        "开工日期",
        "started_date",
        Kind.DATE,
        note="仅直接开工（在建）的项目填写",
    ),
    Column("planned_fulfill_date", "计划履约日期", "planned_fulfill_date", Kind.DATE, note=DAY),
    Column("planned_start_date", "计划开工日期", "planned_start_date", Kind.DATE, note=DAY),
    Column(
        "planned_completion_date", "计划竣工日期", "planned_completion_date", Kind.DATE, note=DAY
    ),
    Column(
        "planned_production_date", "计划投产日期", "planned_production_date", Kind.DATE, note=DAY
    ),
    Column("planned_effective_date", "计划达效日期", "planned_effective_date", Kind.DATE, note=DAY),
    Column("sign_period", "签约期次", "sign_period", Kind.PERIOD, note=PERIOD),
    Column("start_period", "开工期次", "start_period", Kind.PERIOD, note=PERIOD),
    Column("produce_period", "投产期次", "produce_period", Kind.PERIOD, note=PERIOD),
    Column(
        "stage",
        "当前阶段",
        "stage",
        Kind.ENUM,
        _labels(STAGE_ZH),
        importable=False,
        note="只读：由里程碑决定",
    ),
    Column(
        "total_investment_yi",
        "总投资(亿元)",
        "total_investment_yi",
        importable=False,
        note="只读：总投资换算",
    ),
)
BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}
PERIOD_KEYS = ("sign_period", "start_period", "produce_period")


def normalise(header: str) -> str:
    """The form headers are compared in: NFKC, no spaces or underscores, lower case."""
    text = unicodedata.normalize("NFKC", header)
    return re.sub(r"[\s_]+", "", text).lower()


HEADER_INDEX: dict[str, Column] = {}
for _column in COLUMNS:
    for _name in (_column.zh, _column.en, _column.key, *_column.aliases):
        HEADER_INDEX[normalise(_name)] = _column


def is_column(header: str) -> bool:
    """Does a header cell name a ledger column (how the reader finds the header row)?"""
    return normalise(header) in HEADER_INDEX


def fields(*, chinese: bool, parks: Sequence[str]) -> list[Field]:
    """Every column as a workbook field: its note, and the dropdown of its allowed values."""
    out = []
    for column in COLUMNS:
        choices: Sequence[str] = ()
        kind = FieldKind.TEXT
        if column.key == "park":
            choices = parks
        elif column.kind is Kind.ENUM:
            choices = list(column.labels.values()) if chinese else list(column.labels)
        elif column.kind is Kind.BOOL:
            choices = ["是", "否"] if chinese else ["true", "false"]
        elif column.kind is Kind.INT:
            kind = FieldKind.INT
        elif column.kind is Kind.DATE:
            kind = FieldKind.DATE
        out.append(
            Field(
                column.header(chinese),
                note=column.note,
                kind=kind,
                choices=choices,
                read_only=not column.importable,
                required=column.required,
            )
        )
    return out


class CellError(ValueError):
    """Why a cell cannot be read; the reason names what would have been accepted."""

    def __init__(self, said: Said) -> None:
        super().__init__(said_in(said, "en"))
        self.said = said


def _text(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


def parse_cell(column: Column, raw: Any) -> Any:
    """The cell's value for the API (None when empty), or CellError."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if column.kind is Kind.INT:
        return _integer(raw, wan="万元" in column.zh, unit="人" if "(人)" in column.zh else "")
    if column.kind is Kind.PERIOD:
        text = _text(raw)
        match = re.fullmatch(r"第?\s*(\d+)\s*期?", text)
        if match is None:
            raise CellError(
                Bilingual(
                    f"应为期次（7 或 第7期），收到 {quoted(text)}",
                    f"{text!r} is not a period number (7, 第7期)",
                )
            )
        return int(match.group(1))
    if column.kind is Kind.BOOL:
        if isinstance(raw, bool):
            return raw
        word = _text(raw).lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise CellError(
            Bilingual(f"应为 是 或 否，收到 {quoted(_text(raw))}", f"{word!r} is not 是 or 否")
        )
    if column.kind is Kind.DATE:
        return _date(raw)
    if column.kind is Kind.ENUM:
        return _enum(column, _text(raw))
    return _text(raw)


def _integer(raw: Any, *, wan: bool, unit: str) -> int:
    zh = "应为整数万元" if wan else f"应为整数{unit}"
    en = "a whole number of 10k yuan" if wan else "a whole number"

    def refused() -> CellError:
        shown = _text(raw) if not isinstance(raw, float) else repr(raw)
        return CellError(Bilingual(f"{zh}，收到 {quoted(shown)}", f"{shown!r} is not {en}"))

    if isinstance(raw, bool):
        raise refused()
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if raw.is_integer():
            return int(raw)
        raise refused()
    text = str(raw).strip().replace(",", "").replace("，", "")
    if re.fullmatch(r"[+-]?\d+(\.0+)?", text):
        return int(float(text)) if "." in text else int(text)
    raise refused()


# A date cell without a date format reaches us as Excel's serial day (days since 1899-12-30).
# Only serials of 1954-2119 are taken for days: a bare year (2023) or an amount is not one.
EXCEL_EPOCH = dt.date(1899, 12, 30)
SERIAL_DAYS = range(20_000, 80_000)


def _date(raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = _text(raw)
    serial = raw if isinstance(raw, int | float) and not isinstance(raw, bool) else None
    if serial is None and text.isdigit():
        serial = int(text)
    if serial is not None and float(serial).is_integer() and int(serial) in SERIAL_DAYS:
        return EXCEL_EPOCH + dt.timedelta(days=int(serial))
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar day, no zone
        except ValueError:
            continue
    raise CellError(
        Bilingual(
            f"应为日期（2023-01-28、2023/1/28 或 2023年1月28日），收到 {quoted(text)}",
            f"{text!r} is not a date (2023-01-28, 2023/1/28, 2023年1月28日)",
        )
    )


def _enum(column: Column, text: str) -> str:
    code = text.upper()
    if code in column.labels:
        return code
    synonyms = STAGE_SYNONYMS if column.key == "initial_stage" else {}
    for candidate, label in column.labels.items():
        if text == label:
            return candidate
    if text in synonyms:
        return synonyms[text]
    zh_choices = "、".join(column.labels.values())
    choices = ", ".join(f"{label} ({code})" for code, label in column.labels.items())
    raise CellError(
        Bilingual(
            f"应为 {zh_choices} 之一，收到 {quoted(text)}", f"{text!r} is not one of {choices}"
        )
    )


def export_value(column: Column, value: Any, *, chinese: bool) -> Any:
    """A value as a sheet cell: Chinese labels and 是/否 for the Chinese sheet, codes otherwise."""
    if value is None:
        return None
    if column.kind is Kind.ENUM:
        code = str(value.value if hasattr(value, "value") else value)
        return column.labels.get(code, code) if chinese else code
    if column.kind is Kind.BOOL:
        return ("是" if value else "否") if chinese else ("true" if value else "false")
    return value
