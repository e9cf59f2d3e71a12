"""sanpi.events: the event contracts every service and outside system can depend on."""

from sanpi.events.envelope import (
    CONTENT_TYPE,
    HEADER_ID,
    HEADER_TYPE,
    CloudEvent,
    EventDecodeError,
    KafkaRecord,
    from_value,
    to_record,
)
from sanpi.events.models import (
    MilestoneAchieved,
    ProjectEvent,
    ProjectRegistered,
    ProjectStageChanged,
)
from sanpi.events.registry import (
    EVENT_TYPES,
    EventData,
    UnknownEventType,
    build_event,
    build_record,
    event_type,
    json_schemas,
    parse_data,
)
from sanpi.events.topics import ALL_TOPICS, DLQ_SUFFIX, Topic, dead_letter_topic
from sanpi.events.vocabulary import (
    SEVERITY_ORDER,
    ZHENGZHOU_HIGH_TECH_PARKS,
    MilestoneKind,
    Severity,
    Stage,
)

__all__ = [
    "ALL_TOPICS",
    "CONTENT_TYPE",
    "DLQ_SUFFIX",
    "EVENT_TYPES",
    "HEADER_ID",
    "HEADER_TYPE",
    "SEVERITY_ORDER",
    "ZHENGZHOU_HIGH_TECH_PARKS",
    "CloudEvent",
    "EventData",
    "EventDecodeError",
    "KafkaRecord",
    "MilestoneAchieved",
    "MilestoneKind",
    "ProjectEvent",
    "ProjectRegistered",
    "ProjectStageChanged",
    "Severity",
    "Stage",
    "Topic",
    "UnknownEventType",
    "build_event",
    "build_record",
    "dead_letter_topic",
    "event_type",
    "from_value",
    "json_schemas",
    "parse_data",
    "to_record",
]
