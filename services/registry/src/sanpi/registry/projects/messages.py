"""What a project's request is refused for, in Chinese and English (the reader's language)."""

from __future__ import annotations

from sanpi.kit.messages import Bilingual, template

UNKNOWN_PARK = template(
    "project.unknown_park", zh="没有这个园区：应为 {parks} 之一", en="unknown park; one of {parks}"
)
ABOVE_TOTAL = template(
    "project.above_total",
    zh="{label} {amount} 万元大于总投资 {total} 万元",
    en="{label} {amount} is above the total investment of {total} (10k yuan)",
)
DATE_BEFORE = template(
    "project.date_before",
    zh="不能早于{previous_label}（{day}）",
    en="must not be before {previous} ({day})",
)
STARTED_DATE_ONLY = template(
    "project.started_date_only",
    zh="仅直接开工（初始阶段为 在建）的项目填写开工日期",
    en="only for a project registered UNDER_CONSTRUCTION",
)
NOT_FOUND = template(
    "project.not_found",
    zh="项目库中没有项目 {project_id}",
    en="project {project_id} is not in the registry",
)
CURSOR_OF_OTHER_SORT = template(
    "project.cursor_sort",
    zh="这个翻页位置属于排序 sort={made}，不是 sort={wanted}：请从第一页重新读取",
    en="this cursor belongs to sort={made}, not sort={wanted}",
)
CURSOR_MADE_FOR = template(
    "project.cursor_made_for", zh="属于排序 sort={made}", en="made for sort={made}"
)
# What the kit's stale-version refusal (kit.concurrency.STALE) names here.
PROJECT = Bilingual(zh="项目", en="project")
FROZEN = template(
    "project.frozen",
    zh="项目 {project_id} 已取消，主数据不能再修改",
    en="project {project_id} is cancelled; its master data is frozen",
)
NOT_NULL = template("project.not_null", zh="必填，不能清空", en="may not be null")
CANNOT_CLEAR = template(
    "project.cannot_clear", zh="必填字段不能清空", en="required fields cannot be cleared"
)
WITHDRAWN_NEEDS_DATE = template(
    "project.withdrawn_needs_date",
    zh="调出须注明决定生效的日期",
    en="a withdrawal from the assessment (WITHDRAWN) needs the day its decision took effect",
)
WITHDRAWN_DATE_FIELD = template(
    "project.withdrawn_date_field",
    zh="调出（WITHDRAWN）必须填写生效日期，如 2023-12-31",
    en="required for WITHDRAWN, e.g. 2023-12-31",
)
ALREADY_CANCELLED = template(
    "project.already_cancelled",
    zh="项目 {project_id} 已于 {day} 取消",
    en="project {project_id} was already cancelled on {day}",
)
NO_LONGER_CANCELLABLE = template(
    "project.no_longer_cancellable",
    zh="项目 {project_id} 处于 {stage} 阶段，不能再取消",
    en="project {project_id} is {stage}; it can no longer be cancelled",
)
MIN_ABOVE_MAX = template(
    "project.min_above_max",
    zh="最小投资额大于最大投资额",
    en="min_investment is above max_investment",
)
MIN_ABOVE_MAX_FIELD = template(
    "project.min_above_max_field", zh="不能大于 max_investment", en="must not exceed max_investment"
)
VERSION_REQUIRED = template(
    "project.version_required",
    zh="请带上读到的 ETag（If-Match 请求头）或读到的 version，以免覆盖他人同时所做的修改",
    en="send If-Match with the ETag you read, or the `version` you read, so that a concurrent "
    "change is not overwritten",
)
VERSION_REQUIRED_FIELD = template(
    "project.version_required_field",
    zh="必须填写（或在请求体中给出 version）",
    en="required (or body.version)",
)
