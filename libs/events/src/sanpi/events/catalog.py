"""The catalogue of event types: each type string maps to its data model and its topic."""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Callable
from enum import Enum
from functools import cache
from typing import Any, ClassVar, Generic, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError

from sanpi.events.envelope import (
    CloudEvent,
    EventAttributes,
    EventDecodeError,
    KafkaRecord,
    from_value,
    to_record,
)


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


_SCALARS = (str, int, float, bool, type(None), dt.date)  # dt.datetime is a dt.date


def _is_flat(annotation: Any) -> bool:
    """Whether a field's values are scalars or lists of them: no model, dict or Any inside,
    where exclude_none would act below the top level (or, for a dict, would not)."""
    origin = get_origin(annotation)
    if origin is Literal:
        return True
    if origin in (Union, types.UnionType, list):
        return all(_is_flat(arg) for arg in get_args(annotation))
    return isinstance(annotation, type) and (
        issubclass(annotation, _SCALARS) or issubclass(annotation, Enum)
    )


@cache
def _flat(model: type[EventData]) -> bool:
    # A serializer could turn a value into None, which exclude_none (it looks at the value) keeps.
    decorators = model.__pydantic_decorators__
    return (
        not decorators.field_serializers
        and not decorators.model_serializers
        and not model.model_computed_fields
        and all(_is_flat(field.annotation) for field in model.model_fields.values())
    )


def envelope_data(data: EventData, dumped: dict[str, Any] | None = None) -> dict[str, Any]:
    """The envelope's `data`: data.model_dump(mode="json", exclude_none=True). `dumped` is
    data.model_dump(mode="json") if the caller has it (the milestone timeline stores it): for
    a model of flat fields, dropping its None values gives the same dict without a second dump."""
    if dumped is not None and _flat(type(data)):
        return {name: value for name, value in dumped.items() if value is not None}
    return data.model_dump(mode="json", exclude_none=True)


def build_event(
    data: EventData,
    *,
    source: str,
    dumped: dict[str, Any] | None = None,
    traceparent: str | None = None,
) -> CloudEvent:
    """Wraps typed event data in a new CloudEvents envelope (`dumped`: see envelope_data;
    `traceparent`: the trace the event is made in, as its CloudEvents extension)."""
    return CloudEvent.new(
        type=data.TYPE,
        source=source,
        subject=data.subject(),
        data=envelope_data(data, dumped),
        traceparent=traceparent,
    )


def build_record(
    data: EventData, *, source: str, dumped: dict[str, Any] | None = None
) -> tuple[CloudEvent, KafkaRecord]:
    """Returns the envelope and the Kafka record (topic, key, value, headers) for `data`
    (`dumped`: see envelope_data)."""
    event = build_event(data, source=source, dumped=dumped)
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


D = TypeVar("D", bound=EventData)


class TypedEvent(EventAttributes, Generic[D]):
    """An event whose data is decoded straight into its type's model (decode_typed)."""

    data: D


@cache
def _typed(model: type[EventData]) -> type[TypedEvent[Any]]:
    return TypedEvent[model]  # type: ignore[valid-type]


def decode_typed(value: bytes | None, type_hint: str | None) -> tuple[EventAttributes, EventData]:
    """A record value's attributes and typed data, as from_value then parse_data give them, in
    one pass over its JSON when `type_hint` (the record's sanpi_type header) names a known
    type: without the envelope's data as a dict of its own, ~25% less CPU a record (a bulk
    replay decodes every record of a topic). A value that is not of the hinted type (a header
    that lies, a record that is not an event) takes the two steps, which raise
    EventDecodeError saying why."""
    model = EVENT_TYPES.get(type_hint) if type_hint is not None and value is not None else None
    if model is not None and value is not None:
        try:
            event = _typed(model).model_validate_json(value)
        except ValidationError:
            pass
        else:
            if event.type == model.TYPE:
                return event, event.data
    envelope = from_value(value)
    return envelope, parse_data(envelope)


def json_schemas() -> dict[str, dict[str, Any]]:
    """Returns the JSON Schema of every event type's data, keyed by type (the published contract)."""
    return {name: model.model_json_schema() for name, model in sorted(EVENT_TYPES.items())}
