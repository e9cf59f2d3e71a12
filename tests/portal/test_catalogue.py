"""The pages speak Chinese first: every message marked in the code and templates has a Chinese
translation in the catalogue, and no template writes Chinese words outside the catalogue."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from sanpi.events import AlertRule, MilestoneKind
from sanpi.events.vocabulary import (
    ALERT_RULE_ZH,
    BATCH_ZH,
    ISSUE_CATEGORY_LABELS,
    MILESTONE_KIND_ZH,
    STAGE_ZH,
    TARGET_ZH,
)
from sanpi.portal import i18n, labels

pytestmark = pytest.mark.db_independent

PORTAL = Path(__file__).resolve().parents[2] / "services" / "portal"
PACKAGE = PORTAL / "src" / "sanpi" / "portal"
METHODS = [("src/sanpi/portal/**.py", "python"), ("src/sanpi/portal/templates/**.html", "jinja2")]
OPTIONS = {"src/sanpi/portal/templates/**.html": {"trim_blocks": "True", "lstrip_blocks": "True"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
# What a template may write in Chinese without the catalogue: the brand, and the name of the
# language the switch leads to (always written in that language).
ALLOWED_CHINESE = {"三批", "中文"}


def extracted() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        PORTAL, METHODS, options_map=OPTIONS, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_has_a_chinese_translation() -> None:
    with (PACKAGE / "locale" / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = {
            (m.id[0] if isinstance(m.id, tuple) else m.id): (
                m.string[0] if isinstance(m.string, tuple) else m.string
            )
            for m in read_po(po)
            if m.id
        }
    messages = extracted()
    assert len(messages) > 100
    missing = sorted(m for m in messages if not catalogue.get(m))
    assert missing == [], f"run `make portal-messages` and translate: {missing[:20]}"
    stale = sorted(set(catalogue) - messages)
    assert stale == [], f"no longer used (run `make portal-messages`): {stale[:20]}"


def test_templates_keep_their_chinese_in_the_catalogue() -> None:
    han = re.compile(r"[\u4e00-\u9fff]+")
    for template in (PACKAGE / "templates").rglob("*.html"):
        words = set(han.findall(template.read_text())) - ALLOWED_CHINESE
        assert not words, f"{template.name} writes {sorted(words)} outside the catalogue"


def test_dates_and_amounts_read_as_officials_write_them() -> None:
    import datetime as dt

    with i18n.use_language("zh"):
        assert i18n.day(dt.date(2023, 3, 1)) == "2023年3月1日"
        assert i18n.amount(5_000) == "5,000万元"
        assert i18n.amount(123_456) == "12.35亿元"
        assert i18n.amount(10_000) == "1.00亿元"
    with i18n.use_language("en"):
        assert i18n.day(dt.date(2023, 3, 1)) == "Mar 1, 2023"
        assert i18n.amount(5_000) == "CNY 50.0 m"
        assert i18n.amount(123_456) == "CNY 1.23 bn"


# The portal's tables whose Chinese is sanpi.events' own, with that table.
ONE_SOURCE: list[tuple[labels.Named[Any], dict[Any, str]]] = [
    (labels.MILESTONES, MILESTONE_KIND_ZH),
    (labels.ISSUE_CATEGORIES, ISSUE_CATEGORY_LABELS),
    (labels.RULES, ALERT_RULE_ZH),
    (labels.STAGES, STAGE_ZH),
    (labels.BATCHES, BATCH_ZH),
    (labels.TARGETS, TARGET_ZH),
]


def test_names_sanpi_events_gives_are_edited_there_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The alerts, the bulletin, the registry's sheets and the pages call a milestone kind, an
    issue category, a rule, a stage, a batch or a target the same: the pages read the Chinese
    from sanpi.events, not from a catalogue entry beside it."""
    for table, zh in ONE_SOURCE:
        with i18n.use_language("zh"):
            assert set(zh) == set(table.codes.__members__.values())
            assert {code: labels.label(table, code) for code in zh} == zh
            first = next(iter(zh))
            monkeypatch.setitem(zh, first, "改过的名称")
            assert labels.label(table, first) == "改过的名称"
            assert labels.label(table, "NOT_A_CODE") == "NOT_A_CODE"
        with i18n.use_language("en"):
            named = [labels.label(table, code) for code in zh]
            # Every code has an English name of its own (the code itself is the fallback).
            assert not [n for n in named if n.isupper() or not n.isascii()], named
    with i18n.use_language("en"):
        assert labels.label(labels.MILESTONES, MilestoneKind.TOPPED_OUT) == "Topped out"
        assert labels.label(labels.RULES, AlertRule.R18) == "Projected to miss the plan"


def test_report_periods_read_as_sanpi_events_names_them() -> None:
    with i18n.use_language("zh"):
        assert i18n.report_period("2023-06-X1") == "2023年6月上旬"
        assert i18n.report_period("2023-06") == "2023年6月"
        assert i18n.report_period("2023-6") == "2023-6"
    with i18n.use_language("en"):
        assert i18n.report_period("2023-06-X3") == "late June 2023"
        assert i18n.report_period("2023-06") == "June 2023"
