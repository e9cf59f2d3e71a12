"""What a person reads in a digest (pure): the subject, the text of an e-mail and the labelled
lines a robot shows, in Chinese or English, from the digest's payload."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sanpi.events.xun import parse_period
from sanpi.kit.clock import CAMPAIGN_TZ
from sanpi.notification.channels.templates import RULES, Message, alert_title

SECTIONS = ("turned_red", "still_red", "resolved")
HEADINGS = {
    "zh": {"turned_red": "新变红", "still_red": "仍为红色", "resolved": "已解除"},
    "en": {"turned_red": "turned red", "still_red": "still red", "resolved": "resolved"},
}
# A robot's message has a size limit (企业微信 4096 bytes of markdown): it lists this many
# alerts and says how many more there are; the e-mail and the webhook carry them all.
ROBOT_ITEMS = 25


def _local(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value).astimezone(CAMPAIGN_TZ)


def _when(value: str | None, lang: str) -> str:
    moment = _local(value)
    if moment is None:
        return ""
    if lang == "zh":
        return f"{moment.month}月{moment.day}日 {moment:%H:%M}"
    return f"{moment:%Y-%m-%d %H:%M}"


def _park(park: str | None, lang: str) -> str:
    return park or ("全区" if lang == "zh" else "district")


def _counts(section: Mapping[str, Sequence[Any]], lang: str) -> str:
    names = HEADINGS[lang]
    if lang == "zh":
        return "，".join(f"{names[s]} {len(section.get(s, []))} 项" for s in SECTIONS)
    return ", ".join(f"{len(section.get(s, []))} {names[s]}" for s in SECTIONS)


def _slot_name(data: Mapping[str, Any], lang: str) -> str:
    slot = str(data.get("slot", ""))
    if data.get("kind") == "xun" and len(slot) == 10:
        period = parse_period(slot)
        return period.zh if lang == "zh" else f"{period.en} ({slot})"
    if lang == "zh" and len(slot) == 10:
        day = dt.date.fromisoformat(slot)
        return f"{day.year}年{day.month}月{day.day}日"
    return slot


def _item(item: Mapping[str, Any], section: str, lang: str) -> str:
    zh = lang == "zh"
    who = str(item.get("project_name") or item.get("project_id") or item.get("alert_key") or "")
    rule = str(item.get("rule") or "")
    rule_name = RULES["zh" if zh else "en"].get(rule, "")
    parts = [who, f"{rule} {rule_name}".strip()]
    if title := alert_title(item, lang):
        parts.append(title)
    line = "｜".join(p for p in parts if p) if zh else " | ".join(p for p in parts if p)
    if section == "resolved":
        ended = _when(item.get("red_ended_at"), lang)
        return f"{line}（{ended} 解除）" if zh else f"{line} (resolved {ended})"
    since = _when(item.get("red_since"), lang)
    note = f"{since} 起" if zh else f"since {since}"
    if item.get("acknowledged_by"):
        who_acked = item["acknowledged_by"]
        note += f"，{who_acked}已确认" if zh else f", acknowledged by {who_acked}"
    return f"{line}（{note}）" if zh else f"{line} ({note})"


def render(event: Mapping[str, Any], *, language: str) -> Message:
    """The message of a digest whose payload is `event` (sanpi.notification.digest.v1)."""
    lang = "en" if language == "en" else "zh"
    zh = lang == "zh"
    data: Mapping[str, Any] = event.get("data", {})
    parks: list[Mapping[str, Any]] = list(data.get("parks", []))
    totals: Mapping[str, Sequence[Any]] = {
        s: [i for p in parks for i in p.get(s, [])] for s in SECTIONS
    }
    xun = data.get("kind") == "xun"
    slot = _slot_name(data, lang)
    if zh:
        title = "旬红色预警汇总" if xun else "每日红色预警汇总"
        subject = f"【三批·{title}】{slot}：{_counts(totals, lang)}"
    else:
        title = "旬 digest of red alerts" if xun else "daily digest of red alerts"
        subject = f"[sanpi {title}] {slot}: {_counts(totals, lang)}"
    window = (
        f"{_when(data.get('window_start'), lang)} 至 {_when(data.get('window_end'), lang)}（北京时间）"
        if zh
        else f"{_when(data.get('window_start'), lang)} to {_when(data.get('window_end'), lang)} "
        "(Asia/Shanghai)"
    )
    lines = [("汇总时段：" if zh else "Period: ") + window]
    facts: list[tuple[str, str]] = [("汇总时段" if zh else "Period", window)]
    total_line = _counts(totals, lang)
    lines.append(("合计：" if zh else "Total: ") + total_line)
    facts.append(("合计" if zh else "Total", total_line))
    if not parks:
        nothing = "本期没有红色预警。" if zh else "No red alerts in this period."
        lines.append(nothing)
        facts.append(("说明" if zh else "Note", nothing))
    shown = 0
    hidden = 0
    for park in parks:
        name = _park(park.get("park"), lang)
        lines.append("")
        lines.append(
            f"【{name}】{_counts(park, lang)}" if zh else f"[{name}] {_counts(park, lang)}"
        )
        facts.append((name, _counts(park, lang)))
        for section in SECTIONS:
            items = park.get(section, [])
            if not items:
                continue
            heading = HEADINGS[lang][section]
            lines.append(f"  {heading}：" if zh else f"  {heading}:")
            for item in items:
                text = _item(item, section, lang)
                lines.append(f"  - {text}")
                if shown < ROBOT_ITEMS:
                    facts.append((f"{heading}·{name}" if zh else f"{heading}, {name}", text))
                    shown += 1
                else:
                    hidden += 1
    if hidden:
        facts.append(
            (
                "其余" if zh else "More",
                f"另有 {hidden} 项，见门户" if zh else f"{hidden} more in the portal",
            )
        )
    year = data.get("unknown_calendar_year")
    if year:
        note = (
            f"注：工作日历不含 {year} 年的节假日和调休安排，本汇总照常发送；请管理员升级 chinesecalendar 包。"
            if zh
            else f"Note: the working-day calendar does not know {year}'s holidays, so this digest "
            "went out anyway; ask the administrator to upgrade the chinesecalendar package."
        )
        lines.append("")
        lines.append(note)
        facts.append(("注" if zh else "Note", note))
    link = data.get("bulletin_url")
    link_label = None
    if data.get("bulletin_missing"):
        reason = str(data["bulletin_missing"])
        note = (
            f"本旬通报未能附上（{reason}）；本汇总照常发送，通报可稍后在门户查看。"
            if zh
            else f"This 旬's bulletin could not be attached ({reason}); the digest went out "
            "without it: open it in the portal later."
        )
        lines.append("")
        lines.append(note)
        facts.append(("通报" if zh else "Bulletin", note))
    elif data.get("bulletin_filename") or link:
        name = str(data.get("bulletin_filename") or "")
        link_label = f"查看本旬通报 {name}".strip() if zh else f"Open the bulletin {name}".strip()
        label = "本旬通报" if zh else "This 旬's bulletin"
        where = str(link) if link else name
        lines.append("")
        lines.append(f"{label}：{where}" if zh else f"{label}: {where}")
        # A robot's button or link opens it (Message.link): the line names the file.
        facts.append((label, name or where))
    return Message(
        subject,
        "\n".join(lines),
        facts=tuple(facts),
        link=str(link) if link else None,
        link_label=link_label if link else None,
    )
