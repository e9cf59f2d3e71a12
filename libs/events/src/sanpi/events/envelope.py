"""The CloudEvents 1.0 envelope (structured JSON mode) and its mapping to and from Kafka records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"
HEADER_TYPE = "ce_type"
HEADER_ID = "ce_id"
HEADER_CONTENT_TYPE = "content-type"


class EventDecodeError(ValueError):
    """A Kafka record whose value is not a CloudEvents 1.0 structured JSON event."""


class CloudEvent(BaseModel):
    """One CloudEvents 1.0 event. `data` is the JSON object of the typed event model."""

    # Extension attributes are allowed by the spec and kept as they come.
    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    subject: str | None = None
    time: datetime
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]

    @staticmethod
    def new(*, type: str, source: str, subject: str | None, data: dict[str, Any]) -> CloudEvent:
        """Returns a new event with a fresh id and the current UTC time."""
        return CloudEvent(
            id=str(uuid.uuid4()),
            source=source,
            type=type,
            subject=subject,
            time=datetime.now(UTC),
            data=data,
        )


@dataclass(frozen=True)
class KafkaRecord:
    """What the producer sends: topic, key (project id or scope), value (the event) and headers."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def to_record(event: CloudEvent, *, topic: str, key: str) -> KafkaRecord:
    """Encodes an event as a Kafka record: structured JSON value, ce_type / ce_id headers."""
    return KafkaRecord(
        topic=topic,
        key=key.encode(),
        value=event.model_dump_json(exclude_none=True).encode(),
        headers=[
            (HEADER_TYPE, event.type.encode()),
            (HEADER_ID, event.id.encode()),
            (HEADER_CONTENT_TYPE, CONTENT_TYPE.encode()),
        ],
    )


def from_value(value: bytes | None) -> CloudEvent:
    """Decodes a Kafka record value into an envelope, or raises EventDecodeError saying why."""
    if value is None:
        raise EventDecodeError("record has no value (tombstone)")
    try:
        return CloudEvent.model_validate_json(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "value"
        raise EventDecodeError(
            f"not a CloudEvents 1.0 JSON event: {where}: {first['msg']}"
        ) from exc
