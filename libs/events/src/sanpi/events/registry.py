"""The catalogue of event types: each type string maps to its data model and its topic."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from sanpi.events.envelope import CloudEvent, EventDecodeError, KafkaRecord, to_record


class UnknownEventType(EventDecodeError):
    """A well-formed CloudEvent whose type no sanpi contract declares (e.g. from a newer producer)."""


class EventData(BaseModel):
    """Base of every event's `data`. Unknown fields are ignored so that additions stay compatible."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    TYPE: ClassVar[str]
    TOPIC: ClassVar[str]

    def partition_key(self) -> str:
        """The Kafka record key: the project id, or the scope for events about a park or period."""
        raise NotImplementedError

    def subject(self) -> str | None:
        """The CloudEvents `subject`: the project id where the event is about one project."""
        return self.partition_key()


EVENT_TYPES: dict[str, type[EventData]] = {}

E = TypeVar("E", bound=type[EventData])


def event_type(type_: str, *, topic: str) -> Callable[[E], E]:
    """Declares a model as the data of event type `type_`, published on `topic`."""

    def register(cls: E) -> E:
        if type_ in EVENT_TYPES:
            raise ValueError(f"event type {type_} declared twice")
        cls.TYPE = type_
        cls.TOPIC = topic
        EVENT_TYPES[type_] = cls
        return cls

    return register


def build_event(data: EventData, *, source: str) -> CloudEvent:
    """Wraps typed event data in a new CloudEvents envelope."""
    return CloudEvent.new(
        type=data.TYPE,
        source=source,
        subject=data.subject(),
        data=data.model_dump(mode="json", exclude_none=True),
    )


def build_record(data: EventData, *, source: str) -> tuple[CloudEvent, KafkaRecord]:
    """Returns the envelope and the Kafka record (topic, key, value, headers) for `data`."""
    event = build_event(data, source=source)
    return event, to_record(event, topic=data.TOPIC, key=data.partition_key())


def parse_data(event: CloudEvent) -> EventData:
    """Validates an envelope's data against its type's model."""
    model = EVENT_TYPES.get(event.type)
    if model is None:
        raise UnknownEventType(f"unknown event type {event.type!r}")
    try:
        return model.model_validate(event.data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise EventDecodeError(f"{event.type}: data.{where}: {first['msg']}") from exc


def json_schemas() -> dict[str, dict[str, Any]]:
    """Returns the JSON Schema of every event type's data, keyed by type (the published contract)."""
    return {name: model.model_json_schema() for name, model in sorted(EVENT_TYPES.items())}
