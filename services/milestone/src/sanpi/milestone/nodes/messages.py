"""What a milestone is refused for, in Chinese and English: every route answers in the
reader's language (Accept-Language), Chinese unless English is asked for."""

from __future__ import annotations

from sanpi.kit.messages import template

STATISTICS_BEFORE_START = template(
    "milestone.statistics_before_start",
    zh="入库纳统只能在开工后登记，项目尚未开工（{stage}）",
    en=(
        "entering the investment statistics (IN_STATISTICS) can be recorded only once the "
        "project has started; it has not ({stage})"
    ),
)
BEFORE_START = template(
    "milestone.before_start",
    zh="早于开工日期 {day}",
    en="is before the start day, {day}",
)
ALREADY_ACHIEVED = template(
    "milestone.already_achieved",
    zh="{kind} 已于 {date} 达成",
    en="{kind} was already achieved on {date}",
)
CANNOT_HAVE_HAPPENED = template(
    "milestone.cannot_have_happened",
    zh="里程碑不可能已经发生",
    en="the milestone cannot have happened yet",
)
CUSTOM_NEEDS_LABEL = template(
    "milestone.custom_needs_label",
    zh="自定义里程碑（CUSTOM）须填写名称 label",
    en="a CUSTOM milestone is named by its label",
)
LABEL_REQUIRED = template(
    "milestone.label_required", zh="CUSTOM 里程碑必须填写", en="a CUSTOM milestone needs a label"
)
ACHIEVED_NOT_REPLANNABLE = template(
    "milestone.achieved_not_replannable",
    zh="{node} 已于 {date} 达成，不能再调整计划",
    en="{node} was achieved on {date}; it cannot be replanned",
)
ORIGINAL_NAME = template(
    "baseline.original_name",
    zh="「{name}」是原计划的名称，调整不能用它",
    en="{name} names the original plan",
)
ORIGINAL_NAME_FIELD = template(
    "baseline.original_name_field",
    zh="「{name}」是原计划的名称",
    en="{name} is the original plan's name",
)
BASELINE_EXISTS = template(
    "baseline.exists",
    zh="项目已有名为「{name}」的计划调整",
    en="the project already has a baseline named {name}",
)
RESUME_BEFORE_SUSPENSION = template(
    "lifecycle.resume_before_suspension",
    zh="预计复工日期早于停工日期",
    en="expected_resume_date is before the suspension",
)
IS_BEFORE = template("date.is_before", zh="早于 {day}", en="is before {day}")
SAME_IN_BATCH = template(
    "batch.same_milestone",
    zh="本批第 {other} 条已经登记了这个项目的 {kind}",
    en="row {other} of this batch already records {kind} of this project",
)
# The state machine's refusals (lifecycle.state_machine.stage_after_milestone).
CANCELLED = template(
    "milestone.project_cancelled",
    zh="项目已取消，不能再登记里程碑",
    en="the project is CANCELLED; no milestone can be recorded",
)
SUSPENDED = template(
    "milestone.project_suspended",
    zh="项目已暂停，恢复后才能登记 {kind}",
    en="the project is SUSPENDED; resume it before recording {kind}",
)
ALREADY_AT = template(
    "milestone.already_at_stage", zh="项目已处于 {stage} 阶段", en="the project is already {stage}"
)
NO_SUCH_MOVE = template(
    "milestone.illegal_move",
    zh="{kind} 不能把项目从 {current} 推进到 {target}",
    en="{kind} cannot move a project from {current} to {target}",
)
NEEDS_EVIDENCE = template(
    "milestone.needs_evidence",
    zh="{kind} 需要至少一份注明日期的佐证材料（填写拍摄日期 taken_at，或在地址中写明日期）",
    en="{kind} needs evidence: at least one dated attachment reference "
    "(give taken_at, or a URI with the date in it)",
)
NOT_RECORDED = template("milestone.not_recorded", zh="不能登记：{reason}", en="{reason}")
NOT_BLANK = template("milestone.not_blank", zh="不能为空白", en="must not be blank")
