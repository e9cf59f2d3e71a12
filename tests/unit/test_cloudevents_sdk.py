"""The official CloudEvents SDK reads every sanpi record with its mode auto-detection (issue 27
item 8): structured mode, no `ce_` header; records written before still decode in sanpi."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings import kafka as ce_kafka

from sanpi.events import (
    CONTENT_TYPE,
    EVENT_TYPES,
    CloudEvent,
    KafkaRecord,
    encoded_headers,
    from_value,
    header_id,
    header_type,
    header_values,
    renamed_headers,
    to_record,
)
from scripts.docs_gen import example_event


def sdk_read(record: KafkaRecord) -> BaseCloudEvent:
    message = ce_kafka.KafkaMessage(
        headers=dict(record.headers), key=record.key, value=record.value
    )
    return ce_kafka.from_kafka_event(message)


def same_event(read: BaseCloudEvent, event: CloudEvent) -> None:
    assert read.get_specversion() == "1.0"
    assert (read.get_id(), read.get_source(), read.get_type()) == (
        event.id,
        event.source,
        event.type,
    )
    assert (read.get_subject(), read.get_time()) == (event.subject, event.time)
    assert read.get_datacontenttype() == "application/json"
    assert read.get_data() == event.data


def record_of(type_: str) -> tuple[CloudEvent, KafkaRecord]:
    event = example_event(type_)
    model = EVENT_TYPES[type_]
    key = model.model_validate(event.data).partition_key()
    return event, to_record(event, topic=model.TOPIC, key=key)


@pytest.mark.parametrize("type_", sorted(EVENT_TYPES))
def test_the_sdk_reads_every_event_type_as_structured_mode(type_: str) -> None:
    event, record = record_of(type_)
    assert not [name for name, _value in record.headers if name.lower().startswith("ce_")]
    assert dict(record.headers)["content-type"] == CONTENT_TYPE.encode()
    read = sdk_read(record)
    same_event(read, event)
    assert read.get_extension("partitionkey") == record.key.decode()
    # Routing without the body: the type and id are still in headers of their own.
    assert (header_type(record.headers), header_id(record.headers)) == (event.type, event.id)


def legacy_record(event: CloudEvent) -> KafkaRecord:
    """A record as sanpi wrote them before: the same value, `ce_type` / `ce_id` headers."""
    headers = {"ce_type": event.type, "ce_id": event.id, "content-type": CONTENT_TYPE}
    return KafkaRecord(
        topic="sanpi.projects",
        key=b"p-1",
        value=json.dumps(event.model_dump(mode="json", exclude_none=True)).encode(),
        headers=[(name, value.encode()) for name, value in headers.items()],
    )


def test_records_written_before_still_decode_and_are_renamed_when_sent_again() -> None:
    event, _record = record_of("sanpi.project.registered.v1")
    old = legacy_record(event)
    # What the issue saw: the SDK takes the ce_ headers for binary mode and finds no source.
    with pytest.raises(Exception, match="source"):
        sdk_read(old)
    # sanpi reads the value alone, and the headers under either name.
    assert from_value(old.value) == event
    assert (header_type(old.headers), header_id(old.headers)) == (event.type, event.id)
    # Sent again (a redriven dead letter, an outbox row of the previous version), it is renamed.
    again = KafkaRecord(old.topic, old.key, old.value, renamed_headers(old.headers))
    same_event(sdk_read(again), event)
    stored: dict[str, Any] = {
        "ce_type": event.type,
        "ce_id": event.id,
        "content-type": CONTENT_TYPE,
    }
    assert encoded_headers(stored) == [
        (name, value.encode()) for name, value in header_values(event).items()
    ]
