"""The CloudEvents 1.0 envelope (structured JSON mode) and its mapping to and from Kafka records.

Records are in the Kafka protocol binding's structured content mode: the value is the whole
event, the `content-type` header says `application/cloudevents+json`, and no header starts with
`ce_` (in that binding, `ce_` headers mean binary mode: a CloudEvents SDK that detects the mode
would look for every attribute there). The event's type and id are repeated in `sanpi_type` and
`sanpi_id` headers, so that tools route and filter without parsing the value. Records written
before carried them as `ce_type` / `ce_id`: readers accept both (`header_type`, `header_id`)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"
HEADER_TYPE = "sanpi_type"
HEADER_ID = "sanpi_id"
HEADER_CONTENT_TYPE = "content-type"
# W3C Trace Context: the header of the record and the CloudEvents extension (Distributed Tracing
# extension) of the event, both written only when the event was made inside a traced operation.
TRACEPARENT = "traceparent"
# The names of the routing headers in records written before they left the `ce_` prefix.
LEGACY_HEADER_TYPE = "ce_type"
LEGACY_HEADER_ID = "ce_id"


class EventDecodeError(ValueError):
    """A Kafka record whose value is not a CloudEvents 1.0 structured JSON event."""


class EventAttributes(BaseModel):
    """A CloudEvents 1.0 event's context attributes: the event but its data. A bulk reader that
    decodes the data straight into its typed model keeps these of the envelope
    (sanpi.events.decode_typed)."""

    # Extension attributes are allowed by the spec and kept as they come.
    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    subject: str | None = None
    time: datetime
    datacontenttype: Literal["application/json"] = "application/json"


class CloudEvent(EventAttributes):
    """One CloudEvents 1.0 event. `data` is the JSON object of the typed event model."""

    data: dict[str, Any]

    @staticmethod
    def new(
        *,
        type: str,
        source: str,
        subject: str | None,
        data: dict[str, Any],
        traceparent: str | None = None,
    ) -> CloudEvent:
        """Returns a new event with a fresh id and the current UTC time; `traceparent`: the
        CloudEvents Distributed Tracing extension, when the event is made inside a trace."""
        return CloudEvent(
            id=new_id(),
            source=source,
            type=type,
            subject=subject,
            time=datetime.now(UTC),
            data=data,
            **(_NO_EXTENSIONS if traceparent is None else {TRACEPARENT: traceparent}),
        )


_NO_EXTENSIONS: dict[str, str] = {}

# The bits a version 4 UUID fixes (RFC 9562 §5.4): version 0b0100, variant 0b10.
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_id() -> str:
    """A random (version 4) UUID in its canonical text form, as str(uuid.uuid4()) gives it:
    without the UUID object, which cost ~2 µs of an event's ~15 µs to build."""
    value = int.from_bytes(os.urandom(16)) & _UUID4_CLEAR | _UUID4_SET
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True)
class KafkaRecord:
    """What the producer sends: topic, key (project id or scope), value (the event) and headers."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def to_value(event: CloudEvent) -> bytes:
    """The record value: the event as structured JSON, absent attributes left out."""
    # The serializer itself, not model_dump_json: the same bytes without its keyword handling.
    return _SERIALIZER.to_json(event, exclude_none=True)


_SERIALIZER = CloudEvent.__pydantic_serializer__


def header_values(event: CloudEvent) -> dict[str, str]:
    """The record headers as text: the structured mode's content type, the event's type and id
    (sanpi_type, sanpi_id), so that tools route without the body, and its `traceparent` when
    it was made inside a trace (Kafka tracing instrumentations read the header)."""
    headers = {HEADER_TYPE: event.type, HEADER_ID: event.id, HEADER_CONTENT_TYPE: CONTENT_TYPE}
    extensions = event.__pydantic_extra__
    if extensions and TRACEPARENT in extensions:
        headers[TRACEPARENT] = str(extensions[TRACEPARENT])
    return headers


# A record written before the routing headers left the `ce_` prefix, sent again (an outbox row
# left by the previous version, a redriven dead letter), goes out with today's names.
_RENAMED = {LEGACY_HEADER_TYPE: HEADER_TYPE, LEGACY_HEADER_ID: HEADER_ID}


def encoded_headers(headers: Mapping[str, str]) -> list[tuple[str, bytes]]:
    """Kafka headers from their text values (as the outbox stores them), legacy names renamed."""
    return [(_RENAMED.get(name, name), value.encode()) for name, value in headers.items()]


def renamed_headers(headers: Iterable[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Kafka headers with the legacy `ce_type` / `ce_id` renamed (a record written before)."""
    return [(_RENAMED.get(name, name), value) for name, value in headers]


def _header(headers: Iterable[tuple[str, bytes]] | None, *names: str) -> str | None:
    found = dict(headers or ())
    for name in names:
        if name in found:
            return found[name].decode(errors="replace")
    return None


def header_type(headers: Iterable[tuple[str, bytes]] | None) -> str | None:
    """The event type a record's headers name (sanpi_type, or ce_type in older records)."""
    return _header(headers, HEADER_TYPE, LEGACY_HEADER_TYPE)


def header_id(headers: Iterable[tuple[str, bytes]] | None) -> str | None:
    """The event id a record's headers name (sanpi_id, or ce_id in older records)."""
    return _header(headers, HEADER_ID, LEGACY_HEADER_ID)


def to_record(event: CloudEvent, *, topic: str, key: str) -> KafkaRecord:
    """Encodes an event as a Kafka record: structured JSON value, sanpi_type / sanpi_id headers."""
    return KafkaRecord(
        topic=topic,
        key=key.encode(),
        value=to_value(event),
        headers=[(name, value.encode()) for name, value in header_values(event).items()],
    )


def from_value(value: bytes | None) -> CloudEvent:
    """Decodes a Kafka record value into an envelope, or raises EventDecodeError saying why.
    The value alone is the event in every record sanpi ever wrote (structured mode), whatever
    headers came with it: records from before the routing headers were renamed decode alike."""
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
