"""Message templates in Chinese and English: the subject and text people read (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sanpi.events.vocabulary import ALERT_RULE_EN, ALERT_RULE_ZH


class Kind(StrEnum):
    EVENT = "EVENT"  # one event
    DIGEST = "DIGEST"  # the non-red alerts of one evaluation pass for one park, grouped
    REPEAT = "REPEAT"  # a still-firing, unacknowledged red alert, again
    ESCALATION = "ESCALATION"  # an unacknowledged red alert climbing the ladder (督办)
    SUPERVISION = "SUPERVISION"  # a 督办 item to its responsible contact: respond by its due time
    TEST = "TEST"  # asked for by the subscriber: does the channel reach them?
    # A subscription's scheduled digest of red alerts per park (digests/message.py renders it).
    DAILY_DIGEST = "DAILY_DIGEST"
    XUN_DIGEST = "XUN_DIGEST"


@dataclass(frozen=True)
class Attachment:
    """A file an e-mail carries (a 旬 digest's bulletin PDF); other channels link instead."""

    filename: str
    media_type: str  # e.g. application/pdf
    content: bytes


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    # What a robot shows as labelled lines (项目, 园区, 规则, 颜色, 变化, …), in the message's
    # language; the severity (blue…red) sets its colour and project_id its portal link.
    facts: tuple[tuple[str, str], ...] = ()
    severity: str | None = None
    project_id: str | None = None
    attachments: tuple[Attachment, ...] = ()
    # What a robot's button or link opens instead of the portal's page (a 旬 digest's bulletin),
    # and its label.
    link: str | None = None
    link_label: str | None = None


SEVERITY = {
    "zh": {"blue": "蓝色", "green": "绿色", "yellow": "黄色", "orange": "橙色", "red": "红色"},
    "en": {"blue": "BLUE", "green": "GREEN", "yellow": "YELLOW", "orange": "ORANGE", "red": "RED"},
}

# Named once, in sanpi.events (the rule book and the pages say the same words).
RULES = {
    "zh": {rule.value: name for rule, name in ALERT_RULE_ZH.items()},
    "en": {rule.value: name for rule, name in ALERT_RULE_EN.items()},
}

EVENT_LABELS = {
    "zh": {
        "sanpi.project.registered.v1": "项目登记",
        "sanpi.project.updated.v1": "项目信息变更",
        "sanpi.project.listed.v1": "项目列入批次名单",
        "sanpi.project.cancelled.v1": "项目终止",
        "sanpi.project.stage_changed.v1": "项目阶段变更",
        "sanpi.milestone.achieved.v1": "节点完成",
        "sanpi.milestone.replanned.v1": "节点调整",
        "sanpi.milestone.due_soon.v1": "节点临近",
        "sanpi.milestone.overdue.v1": "节点逾期",
        "sanpi.progress.reported.v1": "进度填报",
        "sanpi.assigned_issue.raised.v1": "交办事项",
        "sanpi.assigned_issue.feedback_added.v1": "交办事项反馈",
        "sanpi.assigned_issue.closed.v1": "交办事项销号",
        "sanpi.period.opened.v1": "活动期次开启",
        "sanpi.period.held.v1": "活动举行",
        "sanpi.period.closed.v1": "活动期次关闭",
        "sanpi.target.set.v1": "年度目标设定",
        "sanpi.notification.test.v1": "测试消息",
    },
    "en": {
        "sanpi.project.registered.v1": "Project registered",
        "sanpi.project.updated.v1": "Project updated",
        "sanpi.project.listed.v1": "Project listed",
        "sanpi.project.cancelled.v1": "Project cancelled",
        "sanpi.project.stage_changed.v1": "Stage changed",
        "sanpi.milestone.achieved.v1": "Milestone achieved",
        "sanpi.milestone.replanned.v1": "Milestone replanned",
        "sanpi.milestone.due_soon.v1": "Milestone due soon",
        "sanpi.milestone.overdue.v1": "Milestone overdue",
        "sanpi.progress.reported.v1": "Progress reported",
        "sanpi.assigned_issue.raised.v1": "Issue assigned",
        "sanpi.assigned_issue.feedback_added.v1": "Issue feedback",
        "sanpi.assigned_issue.closed.v1": "Issue closed out",
        "sanpi.period.opened.v1": "Period opened",
        "sanpi.period.held.v1": "Period held",
        "sanpi.period.closed.v1": "Period closed",
        "sanpi.target.set.v1": "Target set",
        "sanpi.notification.test.v1": "Test message",
    },
}

LEVELS = {
    "zh": {1: "责任单位负责人", 2: "分包领导", 3: "区级督办"},
    "en": {1: "unit head", 2: "sponsor leader", 3: "district"},
}

ALERT_PREFIX = "sanpi.alert."


def _colour(data: Mapping[str, Any], lang: str, key: str = "severity") -> str:
    """The alert's colour (蓝色…红色 / BLUE…RED), or what the event says if it is no colour."""
    value = str(data.get(key) or "")
    return SEVERITY[lang].get(value, value)


def _lang(language: str) -> str:
    return "en" if language == "en" else "zh"


def _who(data: Mapping[str, Any], name: str | None, lang: str = "zh") -> str:
    if _scoped(data):
        # R14/R15 judge a park or the whole district: named so, not as a project.
        return str(data.get("park") or ("全区" if lang == "zh" else "the district"))
    return str(data.get("project_name") or name or data.get("park") or data.get("scope") or "")


def _scoped(data: Mapping[str, Any]) -> bool:
    return data.get("scope") in ("park", "district")


def _rule(data: Mapping[str, Any], lang: str) -> str:
    rule = str(data.get("rule", ""))
    return RULES[lang].get(rule, rule)


def alert_title(data: Mapping[str, Any], lang: str) -> str:
    """An alert's title in the reader's language: the English when the event has it, else the
    Chinese (an alert event from before title_en was added, or a digest item without it)."""
    if lang == "en" and data.get("title_en"):
        return str(data["title_en"])
    return str(data.get("title") or "")


def alert_detail(data: Mapping[str, Any], lang: str) -> str:
    """An alert's message (what is late, by how much) in the reader's language, as alert_title."""
    if lang == "en" and data.get("message_en"):
        return str(data["message_en"])
    return str(data.get("message") or "")


def _alert_details(data: Mapping[str, Any], lang: str) -> list[str]:
    zh = lang == "zh"
    lines = [
        ("标题：" if zh else "Title: ") + alert_title(data, lang),
    ]
    if detail := alert_detail(data, lang):
        lines.append(("说明：" if zh else "Details: ") + detail)
    if data.get("park"):
        lines.append(("园区：" if zh else "Park: ") + str(data["park"]))
    if data.get("responsible_unit"):
        lines.append(("责任单位：" if zh else "Responsible unit: ") + str(data["responsible_unit"]))
    lines.append(("评估日期：" if zh else "Evaluated as of: ") + str(data.get("as_of", "")))
    lines.append(("预警编号：" if zh else "Alert key: ") + str(data.get("alert_key", "")))
    return lines


def _ack_hint(data: Mapping[str, Any], lang: str) -> str:
    key = data.get("alert_key", "")
    if lang == "zh":
        return f"请确认此预警以停止重复提醒和督办：POST /v1/alerts/{key}/ack"
    return f"Acknowledge to stop reminders and escalation: POST /v1/alerts/{key}/ack"


def render(
    kind: Kind,
    events: Sequence[Mapping[str, Any]],
    *,
    language: str,
    project_names: Mapping[str, str] | None = None,
    repeat: int = 0,
    level: int = 0,
    contact: str = "",
    supervision: Supervision | None = None,
) -> Message:
    """The message of a notification carrying `events` (CloudEvents as JSON objects)."""
    lang = _lang(language)
    names = project_names or {}
    if not events:
        raise ValueError("a notification carries at least one event")
    if kind is Kind.DIGEST and len(events) > 1:
        return _digest(events, lang, names)
    event = events[-1]
    data: Mapping[str, Any] = event.get("data", {})
    name = names.get(str(data.get("project_id", "")))
    if kind is Kind.SUPERVISION and supervision is not None:
        return _supervision(data, lang, name, supervision)
    if str(event.get("type", "")).startswith(ALERT_PREFIX):
        return _alert(kind, str(event["type"]), data, lang, name, repeat, level, contact)
    return _plain(event, data, lang, name)


@dataclass(frozen=True)
class Supervision:
    """What a 督办 message says of its item."""

    item_id: str
    unit: str
    contact: str
    level: int
    due: str  # the due time, Asia/Shanghai wall clock, "YYYY-MM-DD HH:MM"
    overdue_count: int = 0


def _supervision(
    data: Mapping[str, Any], lang: str, name: str | None, item: Supervision
) -> Message:
    zh = lang == "zh"
    who, rule = _who(data, name, lang), _rule(data, lang)
    ladder = LEVELS[lang].get(item.level, str(item.level))
    if zh:
        overdue = f"·逾期第{item.overdue_count}次" if item.overdue_count else ""
        tag = f"督办·第{item.level}级{overdue}"
        subject = f"【{tag}】{who}：{rule}"
        change = f"请于{item.due}前反馈整改说明（{ladder}：{item.contact}）"
        hint = f'反馈：sanpi supervision respond {item.item_id} "<整改说明>"'
    else:
        overdue = f", overdue {item.overdue_count}" if item.overdue_count else ""
        tag = f"Supervision level {item.level}{overdue}"
        subject = f"[{tag}] {who}: {rule}"
        change = f"respond by {item.due} ({ladder}: {item.contact})"
        hint = f'Respond: sanpi supervision respond {item.item_id} "<what was done>"'
    facts = list(_alert_facts(data, lang, name, change))
    facts.insert(-1, ("督办事项" if zh else "Item", item.item_id))
    text = "\n".join([change, *_alert_details(data, lang), hint])
    return Message(
        subject,
        text,
        facts=tuple(facts),
        severity=str(data.get("severity") or "") or None,
        project_id=str(data.get("project_id") or "") or None,
    )


def _alert(
    kind: Kind,
    event_type: str,
    data: Mapping[str, Any],
    lang: str,
    name: str | None,
    repeat: int,
    level: int,
    contact: str,
) -> Message:
    message = _alert_message(kind, event_type, data, lang, name, repeat, level, contact)
    change = _change(kind, event_type, data, lang, level, repeat, contact)
    return Message(
        message.subject,
        message.text,
        facts=_alert_facts(data, lang, name, change),
        severity=str(data.get("severity") or "") or None,
        project_id=str(data.get("project_id") or "") or None,
    )


def _change(
    kind: Kind,
    event_type: str,
    data: Mapping[str, Any],
    lang: str,
    level: int,
    repeat: int,
    contact: str,
) -> str:
    """What changed, in a few words: raised, severity moved, resolved, reminded, escalated."""
    zh = lang == "zh"
    severity = _colour(data, lang)
    if event_type == "sanpi.alert.resolved.v1":
        return "预警解除" if zh else "alert resolved"
    if kind is Kind.ESCALATION:
        ladder = LEVELS[lang].get(level, str(level))
        return (
            f"未确认，升级至{ladder}：{contact}" if zh else f"escalated to the {ladder}: {contact}"
        )
    if kind is Kind.REPEAT:
        return f"仍未确认，第{repeat}次提醒" if zh else f"still unacknowledged, reminder {repeat}"
    if event_type == "sanpi.alert.updated.v1" and data.get("previous_severity"):
        before = _colour(data, lang, "previous_severity")
        return f"由{before}变为{severity}" if zh else f"{before} to {severity}"
    return f"新触发{severity}预警" if zh else f"{severity} alert raised"


def _alert_facts(
    data: Mapping[str, Any], lang: str, name: str | None, change: str
) -> tuple[tuple[str, str], ...]:
    zh = lang == "zh"
    rule = str(data.get("rule", ""))
    facts = [
        (
            ("范围" if zh else "Scope") if _scoped(data) else ("项目" if zh else "Project"),
            _who(data, name, lang),
        ),
        ("园区" if zh else "Park", str(data.get("park") or ("全区" if zh else "district"))),
        ("规则" if zh else "Rule", f"{rule} {_rule(data, lang)}".strip()),
        ("颜色" if zh else "Colour", _colour(data, lang)),
        ("变化" if zh else "What changed", change),
    ]
    if detail := alert_detail(data, lang):
        facts.append(("说明" if zh else "Details", detail))
    if data.get("responsible_unit"):
        facts.append(("责任单位" if zh else "Responsible unit", str(data["responsible_unit"])))
    facts.append(("评估日期" if zh else "Evaluated as of", str(data.get("as_of", ""))))
    return tuple((label, value) for label, value in facts if value)


def _alert_message(
    kind: Kind,
    event_type: str,
    data: Mapping[str, Any],
    lang: str,
    name: str | None,
    repeat: int,
    level: int,
    contact: str,
) -> Message:
    zh = lang == "zh"
    severity = _colour(data, lang)
    who, rule = _who(data, name, lang), _rule(data, lang)
    details = _alert_details(data, lang)
    if event_type == "sanpi.alert.resolved.v1":
        subject = f"【预警解除】{who}：{rule}" if zh else f"[Alert resolved] {who}: {rule}"
        return Message(subject, "\n".join(details))
    if kind is Kind.ESCALATION:
        ladder = LEVELS[lang].get(level, str(level))
        if zh:
            subject = f"【督办·第{level}级】{who}：{rule}（{severity}预警未确认）"
            head = f"红色预警未按时确认，已升级至{ladder}：{contact}"
        else:
            subject = f"[Escalation level {level}] {who}: {rule} (unacknowledged {severity} alert)"
            head = f"Not acknowledged in time; escalated to the {ladder}: {contact}"
        return Message(subject, "\n".join([head, *details, _ack_hint(data, lang)]))
    if kind is Kind.REPEAT:
        if zh:
            subject = f"【{severity}预警·第{repeat}次提醒】{who}：{rule}"
        else:
            subject = f"[{severity} alert, reminder {repeat}] {who}: {rule}"
        return Message(subject, "\n".join([*details, _ack_hint(data, lang)]))
    subject = f"【{severity}预警】{who}：{rule}" if zh else f"[{severity} alert] {who}: {rule}"
    lines = details
    if data.get("severity") == "red":
        lines = [*details, _ack_hint(data, lang)]
    return Message(subject, "\n".join(lines))


def _digest(events: Sequence[Mapping[str, Any]], lang: str, names: Mapping[str, str]) -> Message:
    zh = lang == "zh"
    datas = [e.get("data", {}) for e in events]
    worst = max(
        (str(d.get("severity", "")) for d in datas),
        key=lambda s: list(SEVERITY["en"]).index(s) if s in SEVERITY["en"] else -1,
    )
    severity = SEVERITY[lang].get(worst, worst)
    park = str(datas[0].get("park") or ("全区" if zh else "district"))
    count = len(events)
    if zh:
        subject = f"【{severity}预警汇总】{park}：本轮评估共 {count} 条预警"
    else:
        subject = f"[{severity} alerts] {park}: {count} alerts in one evaluation"
    lines = []
    facts = [("园区" if zh else "Park", park), ("颜色" if zh else "Colour", severity)]
    for data in datas:
        who = _who(data, names.get(str(data.get("project_id", ""))), lang)
        tone = SEVERITY[lang].get(str(data.get("severity", "")), "")
        title = alert_title(data, lang)
        if zh:
            lines.append(f"- [{tone}] {who}：{_rule(data, lang)}｜{title}")
            facts.append((f"{tone}·{data.get('rule', '')}", f"{who}：{title}"))
        else:
            lines.append(f"- [{tone}] {who}: {_rule(data, lang)} | {title}")
            facts.append((f"{tone} {data.get('rule', '')}", f"{who}: {title}"))
    return Message(subject, "\n".join(lines), facts=tuple(facts), severity=worst or None)


def _plain(
    event: Mapping[str, Any], data: Mapping[str, Any], lang: str, name: str | None
) -> Message:
    event_type = str(event.get("type", ""))
    label = EVENT_LABELS[lang].get(event_type, event_type)
    who = name or str(data.get("name") or event.get("subject") or "")
    subject = f"【三批】{label}：{who}" if lang == "zh" else f"[sanpi] {label}: {who}"
    lines = [f"{key}: {value}" for key, value in data.items() if value not in (None, [], {})]
    lines.append(("事件时间：" if lang == "zh" else "Event time: ") + str(event.get("time", "")))
    facts = [
        ("事件" if lang == "zh" else "Event", label),
        ("项目" if lang == "zh" else "Project", who),
    ]
    return Message(
        subject,
        "\n".join(lines),
        facts=tuple((k, v) for k, v in facts if v),
        project_id=str(data.get("project_id") or "") or None,
    )
