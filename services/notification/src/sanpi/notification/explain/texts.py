"""What an explanation says to people, in Chinese or English: filter conditions, times, outcomes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sanpi.events import CATEGORY_LABELS, CHAIN_TAG_LABELS, Category, ChainTag
from sanpi.kit import CAMPAIGN_TZ
from sanpi.kit.messages import Lang
from sanpi.notification.channels.templates import EVENT_LABELS, RULES, SEVERITY
from sanpi.notification.routing.filters import Check, Routing


def say(lang: Lang, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def when(at: dt.datetime, lang: Lang) -> str:
    """An instant on the Asia/Shanghai wall clock, as the officials read it."""
    local = at.astimezone(CAMPAIGN_TZ).strftime("%Y-%m-%d %H:%M")
    return say(lang, f"{local}（北京时间）", f"{local} Asia/Shanghai")


def _join(values: Iterable[str], lang: Lang) -> str:
    return say(lang, "、", ", ").join(values)


def event_label(event_type: str, lang: Lang) -> str:
    known = EVENT_LABELS[lang].get(event_type)
    if known is None and event_type.startswith("sanpi.alert."):
        state = event_type.removeprefix("sanpi.alert.").split(".")[0]
        known = {
            "raised": say(lang, "预警触发", "alert raised"),
            "updated": say(lang, "预警变化", "alert changed"),
            "resolved": say(lang, "预警解除", "alert resolved"),
        }.get(state)
    return (
        f"{known}（{event_type}）"
        if known and lang == "zh"
        else (f"{known} ({event_type})" if known else event_type)
    )


def colour(value: str | None, lang: Lang) -> str:
    if value is None:
        return say(lang, "无", "none")
    return SEVERITY[lang].get(str(value), str(value))


def rule(value: str, lang: Lang) -> str:
    return f"{value} {RULES[lang].get(value, '')}".strip()


def _chain(value: str, lang: Lang) -> str:
    if lang == "zh" and value in ChainTag.__members__:
        return CHAIN_TAG_LABELS[ChainTag(value)]
    return value


def _category(value: str, lang: Lang) -> str:
    if lang == "zh" and value in Category.__members__:
        return CATEGORY_LABELS[Category(value)]
    return value


def _period(value: int, lang: Lang) -> str:
    return say(lang, f"第 {value} 期", f"period {value}")


def _wan(value: int, lang: Lang) -> str:
    return say(lang, f"{value:,} 万元", f"{value:,} 万元 (10k yuan)")


LABELS = {
    "event_types": ("事件类型", "event type"),
    "min_severity": ("颜色", "colour"),
    "parks": ("园区", "park"),
    "chain_tags": ("产业链", "industry chain"),
    "categories": ("项目类别", "category"),
    "periods": ("期次", "period"),
    "project_ids": ("项目", "project"),
    "min_investment": ("总投资", "total investment"),
}


def _wanted(check: Check, lang: Lang) -> str:
    name, wanted = check.condition, check.wanted
    if name == "min_severity":
        return say(lang, f"{colour(wanted, lang)}及以上", f"{colour(wanted, lang)} or above")
    if name == "min_investment":
        return say(lang, f"不少于 {_wan(wanted, lang)}", f"at least {_wan(wanted, lang)}")
    if name == "event_types":
        shown = [p if p.endswith("*") else event_label(p, lang) for p in wanted]
    elif name == "chain_tags":
        shown = [_chain(v, lang) for v in sorted(wanted)]
    elif name == "categories":
        shown = [_category(v, lang) for v in sorted(wanted)]
    elif name == "periods":
        shown = [_period(v, lang) for v in sorted(wanted)]
    else:
        shown = sorted(wanted)
    if len(shown) == 1:
        return shown[0]
    return say(lang, f"{_join(shown, lang)} 之一", f"one of {_join(shown, lang)}")


def _actual(check: Check, routing: Routing, lang: Lang) -> str:
    name, actual = check.condition, check.actual
    missing = {
        "min_severity": ("事件不是预警，没有颜色", "the event is not an alert: it has no colour"),
        "parks": ("事件没有园区（不是关于某个已登记的项目）", "the event names no park"),
        "chain_tags": ("事件的项目没有产业链", "the event's project has no chain"),
        "categories": ("事件的项目没有类别", "the event's project has no category"),
        "periods": ("事件的项目未列入任何期次", "the event's project is on no period's list"),
        "project_ids": ("事件不是关于某个项目", "the event is about no project"),
        "min_investment": ("事件的项目总投资未知", "the event's project has no known total"),
    }
    if actual is None or actual == frozenset():
        zh, en = missing.get(name, ("事件没有此项", "the event does not carry it"))
        return say(lang, zh, en)
    if name == "event_types":
        return event_label(actual, lang)
    if name == "min_severity":
        return colour(actual, lang)
    if name == "chain_tags":
        return _chain(actual, lang)
    if name == "categories":
        return _category(actual, lang)
    if name == "periods":
        return _join((_period(v, lang) for v in sorted(actual)), lang)
    if name == "min_investment":
        return _wan(actual, lang)
    if name == "project_ids" and routing.project_name:
        return (
            f"{routing.project_name}（{actual}）"
            if lang == "zh"
            else f"{routing.project_name} ({actual})"
        )
    return str(actual)


def condition(check: Check, routing: Routing, lang: Lang) -> str:
    """One filter condition and its outcome: 园区：要求 梧桐 之一，事件为 双桥 → 不符."""
    zh_label, en_label = LABELS[check.condition]
    label = say(lang, zh_label, en_label)
    if check.passed is None:
        return say(lang, f"{label}：不限", f"{label}: any")
    verdict = say(lang, "符合", "matches") if check.passed else say(lang, "不符", "does not match")
    wanted, actual = _wanted(check, lang), _actual(check, routing, lang)
    return say(
        lang,
        f"{label}：要求 {wanted}，事件为 {actual} → {verdict}",
        f"{label}: wanted {wanted}, the event has {actual} → {verdict}",
    )


def json_value(value: Any) -> Any:
    """A filter's or routing's value as JSON shows it (sets as sorted lists)."""
    if isinstance(value, frozenset | set | tuple):
        return sorted(value)
    return value
