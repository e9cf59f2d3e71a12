"""When a project may go on a period's list, as a pure function (the API and the import share it).

A PRODUCE listing must come from a started project. The campaign's own rule is rolling
conversion: "all 907 projects in the 8th period's production batch came from the 7th period's
start lists" (docs/domain.md#rolling-conversion), so an earlier START listing is the first proof, and it becomes the
listing's `source_period`. The stage projection is the second: a project registered already under
construction, or started between events without a START listing (the district lists ~3.5 starts a
period but starts ~29 projects a year, docs/domain.md#district-demo), has reached UNDER_CONSTRUCTION without one. Either
suffices; an earlier START listing is preferred because it holds even while the milestone
service's stage_changed is still on its way.
"""

from __future__ import annotations

from collections.abc import Mapping

from sanpi.events import BatchType, PeriodStatus
from sanpi.kit.messages import Bilingual

# The order a project's lists come in: signed ≤ started < produced (a project may be signed and
# started at the same event, but it produces at a later one).
ORDER = (BatchType.SIGN, BatchType.START, BatchType.PRODUCE)
BATCH_ZH = {BatchType.SIGN: "签约", BatchType.START: "开工", BatchType.PRODUCE: "投产"}


class ListingRefused(ValueError):
    """Why a listing is refused; `field` names the input at fault when it is the caller's."""

    def __init__(self, reason: str, *, zh: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.said = Bilingual(zh=zh, en=reason)
        self.field = field


def _strictly_before(first: BatchType, second: BatchType) -> bool:
    return first is BatchType.START and second is BatchType.PRODUCE


def check_listing(
    *,
    batch: BatchType,
    period: int,
    period_status: PeriodStatus | None,
    existing: Mapping[BatchType, int],
    started: bool,
    cancelled: bool,
) -> int | None:
    """The listing's source_period (PRODUCE from an earlier START), or ListingRefused."""
    if period_status is None:
        raise ListingRefused(
            f"period {period} does not exist; create it first",
            zh=f"第 {period} 期不存在：请先创建该期",
            field="period",
        )
    if period_status is PeriodStatus.CLOSED:
        raise ListingRefused(
            f"period {period} is closed; its lists no longer change",
            zh=f"第 {period} 期已关闭，清单不能再变",
        )
    if cancelled:
        raise ListingRefused("the project is cancelled", zh="项目已取消，不能再列入清单")
    if batch in existing:
        raise ListingRefused(
            f"the project is already on period {existing[batch]}'s {batch} list",
            zh=f"项目已在第 {existing[batch]} 期的{BATCH_ZH[batch]}清单上",
        )
    for other, other_period in existing.items():
        first, second = sorted((batch, other), key=ORDER.index)
        p_first = period if first is batch else other_period
        p_second = period if second is batch else other_period
        if p_first > p_second or (_strictly_before(first, second) and p_first == p_second):
            word = "before" if _strictly_before(first, second) else "no later than"
            zh_word = "早于" if _strictly_before(first, second) else "不晚于"
            raise ListingRefused(
                f"a {first} listing (period {p_first}) must come {word} its {second} listing "
                f"(period {p_second})",
                zh=f"期次顺序不对：{BATCH_ZH[first]}清单（第 {p_first} 期）应{zh_word}"
                f"{BATCH_ZH[second]}清单（第 {p_second} 期）",
                field="period",
            )
    if batch is BatchType.PRODUCE:
        start_period = existing.get(BatchType.START)
        if start_period is not None:
            return start_period
        if not started:
            raise ListingRefused(
                "a PRODUCE listing needs an earlier START listing or a project that has started "
                "(stage UNDER_CONSTRUCTION or later)",
                zh="投产清单需要更早的开工清单，或项目已开工",
            )
    return None
