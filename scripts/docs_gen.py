"""Generates the reference parts of the docs from the code, so that they cannot drift from it.

    .venv/bin/python scripts/docs_gen.py           write them
    .venv/bin/python scripts/docs_gen.py --check   exit 1 naming every stale file (a test runs this)

What it writes:
  docs/events.md          the event catalogue (between its `generated:events` markers), from the
                          models in libs/events: type, topic, key, fields, an example
  docs/events/schemas/    the JSON Schema of every event type's `data`
  docs/openapi/           the OpenAPI document of each service, as /openapi.json serves it
  docs/operations.md      the configuration reference (between its `generated:settings` markers),
                          from the settings classes: every SANPI_* variable, its default, its meaning
A meaning is the comment written above the setting in the code (or after it, on its line); the
few settings without one take theirs from FALLBACK_MEANINGS below.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import enum
import inspect
import io
import json
import sys
import textwrap
import tokenize
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from sanpi.events import (
    CATEGORY_LABELS,
    CHAIN_TAG_LABELS,
    EVENT_TYPES,
    AlertEvent,
    CloudEvent,
    EventData,
    PeriodEvent,
    ProjectEvent,
    TargetSet,
    Topic,
    build_event,
    dead_letter_topic,
    to_record,
)
from sanpi.events import vocabulary as vocabulary_module
from sanpi.events.models.notifications import NotificationEvent, SupervisionEvent
from sanpi.kit.settings import SHARED_FIELDS, ServiceSettings
from sanpi.milestone.app import create_app as milestone_app
from sanpi.milestone.settings import MilestoneSettings
from sanpi.notification.app import create_app as notification_app
from sanpi.notification.settings import NotificationSettings
from sanpi.portal.app import create_app as portal_app
from sanpi.portal.settings import PortalSettings
from sanpi.registry.app import create_app as registry_app
from sanpi.registry.settings import RegistrySettings

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EVENTS_MD = DOCS / "events.md"
SCHEMAS = DOCS / "events" / "schemas"
OPENAPI = DOCS / "openapi"
OPERATIONS_MD = DOCS / "operations.md"

SERVICES: dict[str, tuple[type[ServiceSettings], Callable[[Any], FastAPI]]] = {
    "registry": (RegistrySettings, registry_app),
    "milestone": (MilestoneSettings, milestone_app),
    "notification": (NotificationSettings, notification_app),
}
# Deployables whose settings are documented but that have no API document (the portal: pages).
SETTINGS_ONLY: dict[str, tuple[type[ServiceSettings], Callable[[Any], FastAPI]]] = {
    "portal": (PortalSettings, portal_app),
}
# Every deployable whose settings the configuration reference lists.
DEPLOYABLES = {**SERVICES, **SETTINGS_ONLY}


# --- splicing generated text into hand-written pages -------------------------------------------


def begin_marker(name: str) -> str:
    return f"<!-- generated:{name}:begin (scripts/docs_gen.py writes this part; do not edit) -->"


def end_marker(name: str) -> str:
    return f"<!-- generated:{name}:end -->"


def splice(text: str, name: str, generated: str) -> str:
    """`text` with the part between the `name` markers replaced by `generated`."""
    begin, end = begin_marker(name), end_marker(name)
    head, found, rest = text.partition(begin)
    if not found or end not in rest:
        raise ValueError(f"markers for {name!r} missing: add {begin!r} ... {end!r}")
    tail = rest.split(end, 1)[1]
    return f"{head}{begin}\n{generated.strip()}\n{end}{tail}"


# --- comments in class bodies: the meanings of settings and of vocabulary members ---------------


def member_comments(cls: type) -> dict[str, str]:
    """Name → the comment block above a class-body assignment, plus a comment on its own line."""
    source = textwrap.dedent(inspect.getsource(cls))
    lines = source.splitlines()
    comments = {
        token.start[0]: token.string.lstrip("#").strip()
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    }
    classdef = ast.parse(source).body[0]
    assert isinstance(classdef, ast.ClassDef)
    found: dict[str, str] = {}
    for node in classdef.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name = node.target.id
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            name = node.targets[0].id
        else:
            continue
        above: list[str] = []
        line = node.lineno - 1
        while line >= 1 and lines[line - 1].strip().startswith("#"):
            above.insert(0, comments[line])
            line -= 1
        inline = [
            comments[n]
            for n in range(node.lineno, (node.end_lineno or node.lineno) + 1)
            if n in comments and not lines[n - 1].strip().startswith("#")
        ]
        text = " ".join(c for c in [*above, *inline] if c and not c.startswith("noqa"))
        if text:
            found[name] = text
    return found


# --- the event catalogue ------------------------------------------------------------------------

EXAMPLE_PROJECT = "0b6f3c1e-5d2a-4f7e-9a43-2c8d1e6b7f10"
EXAMPLE_SUBSCRIPTION = "6f1d2c3b-8a9e-4b7c-a1d2-e3f4a5b6c7d8"
EXAMPLE_EVALUATION = "3c9e7a1b-2d4f-4e6a-8b0c-1d2e3f4a5b6c"
EXAMPLE_TIME = dt.datetime(2023, 3, 1, 2, 30, tzinfo=dt.UTC)
# Where the example's events come from: the producing service by topic.
SOURCES = {
    Topic.PROJECTS: "/sanpi/registry",
    Topic.MILESTONES: "/sanpi/milestone",
    Topic.ALERTS: "/sanpi/milestone",
    Topic.NOTIFICATIONS: "/sanpi/notification",
}

_MASTER_DATA: dict[str, Any] = {
    "project_id": EXAMPLE_PROJECT,
    "version": 1,
    "name": "雄韬氢能产业园",
    "park": "梧桐",
    "total_investment": 150000,
    "contract_amount": 150000,
    "annual_plan_investment": 30000,
    "enterprise": {"name": "深圳市雄韬电源科技股份有限公司", "origin": "OUT_OF_PROVINCE"},
    "category": "STRATEGIC_EMERGING",
    "chain_tag": "HYDROGEN_STORAGE",
    "is_manufacturing": True,
    "funding_origin": "OUT_OF_PROVINCE",
    "responsible_unit": "梧桐园区运营中心",
    "responsible_person": "张伟",
    "sponsor_leader": "李强",
    "signed_date": "2023-01-28",
    "planned_start_date": "2023-03-01",
    "planned_production_date": "2024-06-30",
}
_ALERT: dict[str, Any] = {
    "alert_key": f"R04:{EXAMPLE_PROJECT}:XUN",
    "rule": "R04",
    "severity": "yellow",
    "scope": "project",
    "project_id": EXAMPLE_PROJECT,
    "project_name": "雄韬氢能产业园",
    "park": "梧桐",
    "chain_tag": "HYDROGEN_STORAGE",
    "category": "STRATEGIC_EMERGING",
    "total_investment": 150000,
    "periods": [7],
    "responsible_person": "张伟",
    "title": "雄韬氢能产业园: 投资完成低于序时进度 (旬)",
    "message": "截至 2023年3月下旬 年度完成 1875 万元 / 计划 15000 万元 = 12.5%, 序时进度 27.8%, "
    "落后 15.3 个百分点",
    "title_en": "雄韬氢能产业园: investment completed below time progress (by the ten-day reports)",
    "message_en": "by late March 2023 completed this year 1875 / plan 15000 (10k yuan) = 12.5%, "
    "time progress 27.8%, behind by 15.3 percentage points",
    "metric_value": 15.3,
    "threshold": 10.0,
    "as_of": "2023-04-10",
    "evaluation_id": EXAMPLE_EVALUATION,
    "first_raised_at": "2023-04-10T01:00:00Z",
}
_PERIOD: dict[str, Any] = {"period": 7, "event_date": "2023-01-28", "quarter": "2023Q1"}
_NOTIFICATION: dict[str, Any] = {"subscription_id": EXAMPLE_SUBSCRIPTION, "channel": "webhook"}
_SUPERVISION: dict[str, Any] = {
    "item_id": "9d8c7b6a-5f4e-4d3c-b2a1-0f9e8d7c6b5a",
    "alert_key": f"R04:{EXAMPLE_PROJECT}:XUN",
    "project_id": EXAMPLE_PROJECT,
    "park": "梧桐",
    "unit": "梧桐园区运营中心",
}

# One realistic `data` per event type (郑州高新区, 7th period); each is validated by its model.
EXAMPLES: dict[str, dict[str, Any]] = {
    "sanpi.project.registered.v1": {**_MASTER_DATA, "stage": "SIGNED"},
    "sanpi.project.updated.v1": {
        **_MASTER_DATA,
        "version": 2,
        "annual_plan_investment": 36000,
        "changed": ["annual_plan_investment"],
        "updated_by": "operator-wutong",
    },
    "sanpi.project.listed.v1": {
        "project_id": EXAMPLE_PROJECT,
        "period": 7,
        "batch": "SIGN",
        "event_date": "2023-01-28",
        "listed_total_investment": 150000,
        "listed_annual_plan": 30000,
        "listed_by": "admin",
    },
    "sanpi.project.cancelled.v1": {
        "project_id": EXAMPLE_PROJECT,
        "version": 3,
        "reason_code": "INVESTOR_FUNDING",
        "reason": "投资方资金未到位, 项目终止",
        "effective_date": "2023-09-30",
        "cancelled_by": "admin",
    },
    "sanpi.period.opened.v1": {**_PERIOD, "status": "OPEN_FOR_DECLARATION"},
    "sanpi.period.held.v1": {**_PERIOD, "status": "HELD"},
    "sanpi.period.closed.v1": {**_PERIOD, "status": "CLOSED"},
    "sanpi.target.set.v1": {
        "year": 2023,
        "scope": "郑州高新区",
        "kind": "SIGN_AMOUNT",
        "value": 4000000,
        "set_by": "admin",
    },
    "sanpi.project.stage_changed.v1": {
        "project_id": EXAMPLE_PROJECT,
        "from_stage": "SIGNED",
        "to_stage": "UNDER_CONSTRUCTION",
        "effective_date": "2023-03-01",
        "reason": "MILESTONE",
        "milestone_kind": "STARTED",
        "evidence": ["https://photos.example/site-2023-03-01.jpg"],
        "changed_by": "operator-wutong",
        "version": 1,
    },
    "sanpi.milestone.achieved.v1": {
        "project_id": EXAMPLE_PROJECT,
        "milestone_id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
        "kind": "STARTED",
        "date": "2023-03-01",
        "evidence": ["https://photos.example/site-2023-03-01.jpg"],
        "recorded_by": "operator-wutong",
    },
    "sanpi.milestone.replanned.v1": {
        "project_id": EXAMPLE_PROJECT,
        "kind": "IN_PRODUCTION",
        "baseline_date": "2024-06-30",
        "previous_forecast_date": "2024-06-30",
        "forecast_date": "2024-09-30",
        "reason": "设备进场推迟",
        "replanned_by": "operator-wutong",
    },
    "sanpi.milestone.due_soon.v1": {
        "project_id": EXAMPLE_PROJECT,
        "kind": "TOPPED_OUT",
        "due_date": "2023-08-31",
        "days_to_due": 7,
        "as_of": "2023-08-24",
    },
    "sanpi.milestone.overdue.v1": {
        "project_id": EXAMPLE_PROJECT,
        "kind": "TOPPED_OUT",
        "due_date": "2023-08-31",
        "days_overdue": 10,
        "as_of": "2023-09-10",
    },
    "sanpi.progress.reported.v1": {
        "project_id": EXAMPLE_PROJECT,
        "report_id": "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8",
        "period_kind": "XUN",
        "period_key": "2023-04-X1",
        "completed_investment_cum": 3750,
        "completed_investment_ytd": 3750,
        "funds_arrived_cum": 5000,
        "physical_progress_pct": 8.0,
        "reported_by": "operator-wutong",
    },
    "sanpi.assigned_issue.raised.v1": {
        "project_id": EXAMPLE_PROJECT,
        "issue_id": "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
        "category": "POWER",
        "description": "双回路电力接入方案未批复",
        "responsible_unit": "区供电公司",
        "term": "ROUTINE",
        "raised_by": "区长办公会",
        "raised_on": "2023-04-21",
        "feedback_due_on": "2023-04-25",
        "due_on": "2023-05-04",
        "red_on": "2023-05-12",
        "recorded_by": "operator-wutong",
    },
    "sanpi.assigned_issue.feedback_added.v1": {
        "project_id": EXAMPLE_PROJECT,
        "issue_id": "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
        "feedback_id": "8b9c0d1e-2f3a-4b5c-9d6e-7f8a9b0c1d2e",
        "text": "已报市供电公司，方案 4 月 28 日上会",
        "by": "operator-wutong",
        "at": "2023-04-24T02:30:00Z",
        "first": True,
    },
    "sanpi.assigned_issue.closed.v1": {
        "project_id": EXAMPLE_PROJECT,
        "issue_id": "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
        "closed_on": "2023-05-08",
        "closed_by": "operator-wutong",
        "evidence": ["https://oa.example.gov.cn/供电方案批复-2023-051.pdf"],
        "note": "方案已批复，施工已排期",
        "days_overdue": 4,
    },
    "sanpi.alert.raised.v1": _ALERT,
    "sanpi.alert.updated.v1": {
        **_ALERT,
        "severity": "red",
        "previous_severity": "yellow",
        "metric_value": 31.0,
        "threshold": 30.0,
        "message": "完成投资 12.5 %, 序时进度 43.5 %: 31.0 个百分点",
        "as_of": "2023-05-20",
    },
    "sanpi.alert.resolved.v1": {
        **_ALERT,
        "severity": "green",
        "as_of": "2023-06-30",
        "resolved_at": "2023-06-30T01:00:00Z",
    },
    "sanpi.notification.delivered.v1": {
        **_NOTIFICATION,
        "notification_id": "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
        "event_ids": ["5c2f0c8e-6a1b-4d2e-9f3a-7b8c9d0e1f2a"],
        "attempts": 1,
        "latency_ms": 412,
    },
    "sanpi.notification.failed.v1": {
        **_NOTIFICATION,
        "notification_id": "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
        "event_ids": ["5c2f0c8e-6a1b-4d2e-9f3a-7b8c9d0e1f2a"],
        "attempts": 8,
        "error": "HTTP 503",
        "final": True,
    },
    "sanpi.notification.endpoint_disabled.v1": {
        **_NOTIFICATION,
        "owner": "official-wutong",
        "reason": "HTTP 410 Gone",
    },
    "sanpi.notification.escalated.v1": {
        **_NOTIFICATION,
        "alert_key": f"R04:{EXAMPLE_PROJECT}:XUN",
        "project_id": EXAMPLE_PROJECT,
        "level": 1,
        "contact": "wutong-head@example.gov.cn",
        "escalated_at": "2023-05-20T05:00:00Z",
    },
    "sanpi.notification.supervision_opened.v1": {
        **_SUPERVISION,
        "contact_id": "3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d",
        "contact_name": "王建国",
        "level": 1,
        "opened_at": "2023-05-22T05:00:00Z",
        "due_at": "2023-05-25T05:00:00Z",
    },
    "sanpi.notification.supervision_responded.v1": {
        **_SUPERVISION,
        "response": "已约谈企业，承诺6月30日前完成设备进场",
        "responded_by": "wang-jianguo",
        "responded_at": "2023-05-24T02:30:00Z",
    },
    "sanpi.notification.supervision_closed.v1": {
        **_SUPERVISION,
        "closed_by": "official-district",
        "closed_at": "2023-05-26T07:00:00Z",
        "note": "整改到位，同意办结",
    },
    "sanpi.notification.supervision_overdue.v1": {
        **_SUPERVISION,
        "level": 2,
        "contact_id": "4b5c6d7e-8f9a-4b1c-8d2e-3f4a5b6c7d8e",
        "contact_name": "李明",
        "was_due_at": "2023-05-25T05:00:00Z",
        "due_at": "2023-05-30T05:00:00Z",
        "overdue_count": 1,
    },
    "sanpi.notification.acknowledged.v1": {
        **_NOTIFICATION,
        "alert_key": f"R04:{EXAMPLE_PROJECT}:XUN",
        "acknowledged_by": "official-wutong",
        "acknowledged_at": "2023-05-20T06:12:00Z",
    },
}

# What the Kafka record key of each family of events is (the partition_key() of its base class).
KEYS: list[tuple[type[EventData], str]] = [
    (ProjectEvent, "the project id"),
    (AlertEvent, "the project id; `<scope>:<park or all>` for a park or district alert"),
    (PeriodEvent, "`period-<n>`"),
    (TargetSet, "`target-<year>-<scope>`"),
    (NotificationEvent, "the subscription id"),
    (SupervisionEvent, "the 督办 item id"),
]


# What the types without a docstring of their own mean (a docstring on the model wins).
FALLBACK_DESCRIPTIONS: dict[str, str] = {
    "sanpi.milestone.due_soon.v1": "A planned milestone is due within the pre-warning window "
    "(rule R17's `milestone_days`, 7 days).",
    "sanpi.milestone.overdue.v1": "A planned milestone's date has passed without it being reached.",
    "sanpi.notification.delivered.v1": "A notification reached its receiver (webhook 2xx, e-mail "
    "accepted by the SMTP server, inbox item stored).",
    "sanpi.notification.failed.v1": "A delivery attempt failed; `final` when it was the last one "
    "and the notification became a dead letter.",
}


def key_rule(model: type[EventData]) -> str:
    for base, rule in KEYS:
        if issubclass(model, base):
            return rule
    raise ValueError(f"{model.__name__}: no key rule; add its base class to KEYS")


def example_event(type_: str) -> CloudEvent:
    """The example envelope of `type_`: fixed id and time so that the page is reproducible."""
    model = EVENT_TYPES[type_]
    if type_ not in EXAMPLES:
        raise ValueError(f"{type_}: no example; add one to EXAMPLES in scripts/docs_gen.py")
    data = model.model_validate(EXAMPLES[type_])
    event = build_event(data, source=SOURCES[Topic(model.TOPIC)])
    return event.model_copy(
        update={"id": "5c2f0c8e-6a1b-4d2e-9f3a-7b8c9d0e1f2a", "time": EXAMPLE_TIME}
    )


def type_of(schema: dict[str, Any]) -> str:
    """A short human name of a JSON Schema type."""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in schema:
        kinds = [type_of(s) for s in schema["anyOf"] if s.get("type") != "null"]
        return " or ".join(kinds)
    if "const" in schema:
        return f"`{json.dumps(schema['const'], ensure_ascii=False)}`"
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {type_of(schema.get('items', {}))}"
    if kind == "string" and "format" in schema:
        return str(schema["format"])
    return str(kind)


def constraints(schema: dict[str, Any]) -> list[str]:
    found = []
    for keyword, sign in (("minimum", "≥"), ("maximum", "≤"), ("minLength", "length ≥")):
        if keyword in schema:
            found.append(f"{sign} {schema[keyword]}")
    for option in schema.get("anyOf", []):
        found.extend(constraints(option))
    return found


def field_rows(schema: dict[str, Any]) -> Iterator[str]:
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        notes = [prop.get("description", ""), *constraints(prop)]
        if "default" in prop and prop["default"] not in (None, [], ""):
            notes.append(f"default `{json.dumps(prop['default'], ensure_ascii=False)}`")
        text = "; ".join(n for n in notes if n).replace("|", "\\|")
        yield f"| `{name}` | {type_of(prop)} | {'yes' if name in required else ''} | {text} |"


def doc_of(cls: type) -> str:
    """The class's own docstring (not an inherited one), on one line."""
    doc = cls.__dict__.get("__doc__") or ""
    return " ".join(doc.split())


def event_section(type_: str) -> str:
    model = EVENT_TYPES[type_]
    schema = model.model_json_schema()
    event = example_event(type_)
    record = to_record(
        event, topic=model.TOPIC, key=model.model_validate(event.data).partition_key()
    )
    description = doc_of(model) or FALLBACK_DESCRIPTIONS.get(type_, "")
    if not description:
        raise ValueError(f"{type_}: no description; add a docstring to {model.__name__}")
    lines = [
        f"### `{type_}`",
        "",
        description,
        "",
        f"- topic: `{model.TOPIC}` · key: {key_rule(model)} · model: `sanpi.events.{model.__name__}`",
        f"- JSON Schema of `data`: [events/schemas/{type_}.json](events/schemas/{type_}.json)",
        "",
        "| field | type | required | meaning |",
        "|---|---|---|---|",
        *field_rows(schema),
        "",
        "Example record: key `"
        + record.key.decode()
        + "`, headers "
        + ", ".join(f"`{k}: {v.decode()}`" for k, v in record.headers)
        + ", value:",
        "",
        "```json",
        json.dumps(json.loads(record.value), indent=2, ensure_ascii=False),
        "```",
        "",
    ]
    return "\n".join(lines)


def shared_types() -> str:
    """The enums and nested objects the event fields refer to, with their Chinese names."""
    definitions: dict[str, dict[str, Any]] = {}
    for model in EVENT_TYPES.values():
        definitions.update(model.model_json_schema().get("$defs", {}))
    lines = ["## Vocabulary and shared types", ""]
    for name in sorted(definitions):
        definition = definitions[name]
        lines += [f"### {name}", ""]
        cls = getattr(vocabulary_module, name, None)
        if cls is not None and issubclass(cls, enum.Enum):
            doc = doc_of(cls)
            if doc:
                lines += [doc, ""]
            labels = {**member_comments(cls)}
            if cls is vocabulary_module.ChainTag:
                labels = {k.value: v for k, v in CHAIN_TAG_LABELS.items()}
            elif cls is vocabulary_module.Category:
                labels = {k.value: v for k, v in CATEGORY_LABELS.items()}
            lines += [
                f"- `{member.value}`"
                + (f": {labels[member.name]}" if member.name in labels else "")
                for member in cls
            ]
            lines.append("")
        else:
            lines += [
                definition.get("description", ""),
                "",
                "| field | type | required | meaning |",
                "|---|---|---|---|",
                *field_rows(definition),
                "",
            ]
    return "\n".join(lines)


def events_catalogue() -> str:
    by_topic: dict[str, list[str]] = {topic.value: [] for topic in Topic}
    # Declaration order (registered before updated before cancelled), grouped by topic.
    for type_, model in EVENT_TYPES.items():
        by_topic[model.TOPIC].append(type_)
    lines = ["## Catalogue", "", "| type | topic | key |", "|---|---|---|"]
    for topic, types in by_topic.items():
        for type_ in types:
            anchor = type_.replace(".", "")
            lines.append(f"| [`{type_}`](#{anchor}) | `{topic}` | {key_rule(EVENT_TYPES[type_])} |")
    lines.append("")
    for topic, types in by_topic.items():
        producer = SOURCES[Topic(topic)].rsplit("/", 1)[-1]
        lines += [
            f"## Topic `{topic}` (written by {producer}; poison records go to "
            f"`{dead_letter_topic(topic)}`)",
            "",
        ]
        lines += [event_section(type_) for type_ in types]
    lines.append(shared_types())
    return "\n".join(lines)


def event_schemas() -> dict[Path, str]:
    return {
        SCHEMAS / f"{type_}.json": json.dumps(
            EVENT_TYPES[type_].model_json_schema(), indent=2, ensure_ascii=False
        )
        + "\n"
        for type_ in sorted(EVENT_TYPES)
    }


# --- OpenAPI ------------------------------------------------------------------------------------


def openapi_documents() -> dict[Path, str]:
    documents = {}
    for name, (settings_cls, factory) in SERVICES.items():
        # Defaults, never this shell's environment: the committed file must not depend on it.
        app = factory(settings_cls.model_construct())
        documents[OPENAPI / f"{name}.json"] = (
            json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"
        )
    return documents


# --- the configuration reference ----------------------------------------------------------------

# Meanings of the settings that have no comment in the code (the code's comment wins when added).
FALLBACK_MEANINGS: dict[str, str] = {
    "env": "`development`, `test` or `production`; production refuses the development JWT "
    "secret and (notification) private webhook targets",
    "host": "the address the HTTP server binds (0.0.0.0 in containers)",
    "port": "the HTTP port",
    "log_level": "DEBUG, INFO, WARNING or ERROR; one record per line on stderr (in "
    "`log_format`), secrets masked",
    "data_dir": "where the default SQLite file `<service>.db` lives",
    "kafka_enabled": "false serves the API without a broker: events wait in the outbox",
    "kafka_bootstrap": "the Kafka bootstrap servers, `host:port[,host:port…]`",
    "kafka_partitions": "partitions of the topics a service creates at start-up (and of their "
    ".dlq): the most replicas of a service that share the consumption",
    "kafka_replication_factor": "replicas of each topic a service creates: 1 locally, 3 in "
    "production",
    "consumer_backoff_ms": "the first retry delay of a failing event handler, doubled per attempt",
    "jwt_secret": "the HS256 secret that signs and verifies bearer tokens; the development "
    "default, and any secret shorter than 32 bytes, is refused when env=production",
    "webhook_timeout_s": "seconds a webhook receiver has to answer one attempt",
    "delivery_backoff_base_s": "first retry delay of a failed delivery, doubled per attempt",
    "delivery_backoff_max_s": "the longest delay between two delivery attempts",
    "delivery_concurrency": "deliveries sent at the same time by one replica",
    "smtp_port": "SMTP port (25, 587 with STARTTLS, 465 is not supported)",
    "smtp_from": "the From: of notification e-mails",
    "smtp_password": "SMTP password (with smtp_username)",
    "smtp_starttls": "upgrade the SMTP connection with STARTTLS",
    "smtp_timeout_s": "seconds for one SMTP exchange",
    "stream_retention_s": "how long events stay replayable for an SSE client's Last-Event-ID",
    "stream_poll_s": "how often an open SSE stream looks for new events",
    "smtp_username": "SMTP user name; empty means no AUTH",
    "import_max_bytes": "the largest import upload accepted (413 above)",
    "month_report_due_day": "the day of the next month by which a monthly report is due",
    "endpoint_disable_min_failures": "with endpoint_disable_after_s: failures in a row before a "
    "subscription is disabled",
    "rules": "alert rule thresholds, one variable per threshold (the rows below)",
}


def default_text(info: FieldInfo) -> str:
    value = info.get_default(call_default_factory=True)
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, list):
        value = [v.get_secret_value() if isinstance(v, SecretStr) else v for v in value]
    if isinstance(value, BaseModel):
        return "(below)"
    if isinstance(value, Path):
        value = str(value)
    if value == "":
        return "empty"
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def meaning(name: str, comments: dict[str, str], where: str) -> str:
    text = comments.get(name) or FALLBACK_MEANINGS.get(name)
    if not text:
        raise ValueError(
            f"{where}.{name} has no meaning: write a comment above it in the settings class"
        )
    return text.replace("|", "\\|")


def settings_comments(cls: type[BaseModel]) -> dict[str, str]:
    """Comments of `cls` and its bases; the most derived class's comment wins."""
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass in (BaseModel, object) or not issubclass(klass, BaseModel):
            continue
        if klass.__module__.startswith(("pydantic", "pydantic_settings")):
            continue
        found.update(member_comments(klass))
    return found


def env_names(service: str, name: str) -> str:
    specific = f"`SANPI_{service.upper()}_{name.upper()}`"
    return f"{specific} or `SANPI_{name.upper()}`" if name in SHARED_FIELDS else specific


def settings_reference() -> str:
    base_comments = settings_comments(ServiceSettings)
    lines = [
        "Every service reads `SANPI_<SERVICE>_<NAME>`; the settings marked *shared* may also "
        "come from `SANPI_<NAME>` (the service-specific one wins). Lists are JSON "
        '(`SANPI_REGISTRY_PARKS=\'["梧桐","双桥"]\'`).',
        "",
        "### Every service",
        "",
        "| variable (`<SERVICE>` = REGISTRY, MILESTONE, NOTIFICATION, PORTAL) | default | meaning |",
        "|---|---|---|",
    ]
    for name, info in ServiceSettings.model_fields.items():
        variable = f"`SANPI_<SERVICE>_{name.upper()}`"
        if name in SHARED_FIELDS:
            variable += f" or `SANPI_{name.upper()}` (shared)"
        default = default_text(info)
        if name == "port":
            default = ", ".join(
                f"{s} `{cls.model_fields['port'].default}`" for s, (cls, _) in DEPLOYABLES.items()
            )
        if name == "database_url":
            default = "empty: SQLite `<data_dir>/<service>.db`"
        lines.append(
            f"| {variable} | {default} | {meaning(name, base_comments, 'ServiceSettings')} |"
        )
    for service, (cls, _) in DEPLOYABLES.items():
        comments = settings_comments(cls)
        own = [n for n in cls.model_fields if n not in ServiceSettings.model_fields]
        lines += ["", f"### {service}", "", "| variable | default | meaning |", "|---|---|---|"]
        for name in own:
            info = cls.model_fields[name]
            lines.append(
                f"| {env_names(service, name)} | {default_text(info)} | "
                f"{meaning(name, comments, cls.__name__)} |"
            )
            nested = info.get_default(call_default_factory=True)
            if isinstance(nested, BaseModel):
                lines += list(nested_rows(service, name, nested))
    return "\n".join(lines)


def nested_rows(service: str, name: str, value: BaseModel) -> Iterator[str]:
    """One row per threshold of a nested settings model, e.g. SANPI_MILESTONE_RULES__R04__RED."""
    for group in type(value).model_fields:
        child = getattr(value, group)
        if not isinstance(child, BaseModel):
            raise ValueError(f"{name}.{group}: expected a model of thresholds")
        rule = doc_of(type(child))
        comments = member_comments(type(child))
        for leaf, leaf_info in type(child).model_fields.items():
            text = " ".join(t for t in (rule, comments.get(leaf, "")) if t).replace("|", "\\|")
            variable = f"SANPI_{service.upper()}_{name.upper()}__{group.upper()}__{leaf.upper()}"
            yield f"| `{variable}` | {default_text(leaf_info)} | {group.upper()}: {text} |"


# --- all of it ----------------------------------------------------------------------------------


def expected_files() -> dict[Path, str]:
    """Every generated file with the content the code implies."""
    files = {
        EVENTS_MD: splice(EVENTS_MD.read_text(), "events", events_catalogue()),
        OPERATIONS_MD: splice(OPERATIONS_MD.read_text(), "settings", settings_reference()),
    }
    files.update(event_schemas())
    files.update(openapi_documents())
    return files


def stale_files() -> list[str]:
    """The generated files that differ from what the code implies, or should not exist."""
    expected = expected_files()
    stale = [
        shown(path)
        for path, text in expected.items()
        if not path.exists() or path.read_text() != text
    ]
    for directory in (SCHEMAS, OPENAPI):
        for path in directory.glob("*.json"):
            if path not in expected:
                stale.append(f"{shown(path)} (no longer generated)")
    return sorted(stale)


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is stale")
    args = parser.parse_args()
    if args.check:
        stale = stale_files()
        for name in stale:
            print(f"stale: {name}", file=sys.stderr)
        if stale:
            print("run `make docs` (scripts/docs_gen.py) and commit the result", file=sys.stderr)
        return 1 if stale else 0
    for directory in (SCHEMAS, OPENAPI):
        directory.mkdir(parents=True, exist_ok=True)
        for path in directory.glob("*.json"):
            path.unlink()
    files = expected_files()
    for path, text in files.items():
        path.write_text(text)
    print(f"wrote {len(files)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
