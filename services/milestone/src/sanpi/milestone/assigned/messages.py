"""Why an assigned issue, its feedback or its closing out is refused, in Chinese and English."""

from __future__ import annotations

from sanpi.kit.messages import Bilingual, template

# What the kit's stale-version refusal (kit.concurrency.STALE) names here.
ISSUE = Bilingual(zh="交办事项", en="assigned issue")

NO_UNIT = template(
    "issue.no_unit",
    zh="请填写责任单位（交办事项必须明确责任单位）",
    en="responsible_unit is required: an assigned issue needs a responsible unit",
)
NO_DESCRIPTION = template(
    "issue.no_description",
    zh="请填写问题描述",
    en="description is required",
)
DUE_BEFORE_RAISED = template(
    "issue.due_before_raised",
    zh="办结期限 {due_on} 早于交办日期 {raised_on}",
    en="due_on {due_on} is before raised_on {raised_on}",
)
RAISED_IN_FUTURE = template(
    "issue.raised_in_future",
    zh="交办日期 {raised_on} 晚于今天 {today}",
    en="raised_on {raised_on} is after today ({today})",
)
NO_EVIDENCE = template(
    "issue.no_evidence",
    zh="销号须附办结佐证（批文、照片或函件的链接）",
    en="closing an issue needs evidence: at least one URI of a permit, photo or letter",
)
CLOSED_BEFORE_RAISED = template(
    "issue.closed_before_raised",
    zh="销号日期 {closed_on} 早于交办日期 {raised_on}",
    en="closed_on {closed_on} is before raised_on {raised_on}",
)
ALREADY_CLOSED = template(
    "issue.already_closed",
    zh="该交办事项已于 {closed_on} 销号，不能再反馈或销号",
    en="the issue was closed on {closed_on}: no more feedback or closing",
)
NO_TEXT = template("issue.no_text", zh="请填写反馈内容", en="text is required")
CLOSED_IN_FUTURE = template(
    "issue.closed_in_future",
    zh="销号日期 {closed_on} 晚于今天 {today}",
    en="closed_on {closed_on} is after today ({today})",
)
OPEN_BUT_CLOSED = template(
    "issue.open_but_closed",
    zh="open=true 与 status=closed 矛盾",
    en="open=true contradicts status=closed",
)
CONTRADICTS_OPEN = template(
    "issue.contradicts_open",
    zh="与 open=true 矛盾（open=true 即 status=open）",
    en="contradicts open=true (open=true means status=open)",
)
NO_ISSUE = template(
    "issue.missing", zh="交办事项 {issue_id} 不存在", en="assigned issue {issue_id} not found"
)
