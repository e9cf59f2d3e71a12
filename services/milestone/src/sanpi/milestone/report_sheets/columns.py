"""The columns of a 旬报/月报 sheet (one row per project), as the template writes them and the
import reads them: Chinese headers, the units in the note row."""

from __future__ import annotations

from dataclasses import dataclass

from sanpi.office.templates import Field, Kind

WAN = "整数，单位万元"


@dataclass(frozen=True)
class Column:
    key: str  # the batch report's field, or a reference column (read_only)
    zh: str
    note: str = ""
    kind: Kind = Kind.TEXT
    read_only: bool = False
    choices: tuple[str, ...] = ()
    max_value: float | None = None


COLUMNS: tuple[Column, ...] = (
    Column("project_id", "项目ID", "系统编号，请勿修改"),
    Column("name", "项目名称", "只读", read_only=True),
    Column("park", "园区", "只读", read_only=True),
    Column("period_key", "填报期", "如 2023-03-X2（3月中旬）或 2023-03（3月）"),
    Column("completed_investment_cum", "累计完成投资(万元)", WAN + "；开工以来累计", Kind.INT),
    Column("completed_investment_ytd", "本年完成投资(万元)", WAN + "；1月1日以来", Kind.INT),
    Column("funds_arrived_cum", "累计到位资金(万元)", WAN + "；可空", Kind.INT),
    Column("physical_progress_pct", "形象进度(%)", "0 到 100", Kind.NUMBER, max_value=100),
    Column("narrative", "进展情况", "本期主要进展"),
    Column("problems", "存在问题", "多个问题用；分隔；可空"),
    Column("correction", "更正", "更正已报的同期数据时选“是”", choices=("是", "否")),
    Column(
        "previous_cum", "上期累计完成投资(万元)", "只读：上期报送的数字，供参考", read_only=True
    ),
)


def fields() -> list[Field]:
    return [
        Field(
            c.zh,
            note=c.note,
            kind=c.kind,
            choices=c.choices,
            read_only=c.read_only,
            required=c.key
            in ("project_id", "period_key", "completed_investment_cum", "completed_investment_ytd"),
            max_value=c.max_value,
        )
        for c in COLUMNS
    ]
