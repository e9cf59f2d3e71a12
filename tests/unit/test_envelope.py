"""The CloudEvents envelope and the event catalogue, without a broker."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from sanpi.events import (
    EVENT_TYPES,
    HEADER_ID,
    HEADER_TYPE,
    AlertRaised,
    AlertRule,
    EnterpriseInfo,
    EventDecodeError,
    ProjectRegistered,
    ProjectStageChanged,
    Severity,
    Stage,
    Topic,
    UnknownEventType,
    build_record,
    decode_typed,
    from_value,
    json_schemas,
    new_id,
    parse_data,
)

# Pure code, no database: the PostgreSQL pass of make test would repeat these to the letter.
pytestmark = pytest.mark.db_independent


def registered(project_id: str = "p-1") -> ProjectRegistered:
    return ProjectRegistered(
        project_id=project_id,
        version=1,
        name="雄韬氢能产业园",
        park="梧桐",
        total_investment=150_000,
        stage=Stage.SIGNED,
        planned_start_date=dt.date(2023, 3, 1),
    )


def test_record_is_structured_cloudevent_keyed_by_project() -> None:
    event, record = build_record(registered("p-42"), source="/sanpi/registry")

    assert record.topic == Topic.PROJECTS
    assert record.key == b"p-42"
    body = json.loads(record.value)
    assert body["specversion"] == "1.0"
    assert body["type"] == "sanpi.project.registered.v1"
    assert body["source"] == "/sanpi/registry"
    assert body["subject"] == "p-42"
    assert body["id"] == event.id
    assert body["datacontenttype"] == "application/json"
    assert dt.datetime.fromisoformat(body["time"]).tzinfo is not None
    assert body["data"]["name"] == "雄韬氢能产业园"
    headers = dict(record.headers)
    assert headers[HEADER_TYPE] == b"sanpi.project.registered.v1"
    assert headers[HEADER_ID] == event.id.encode()


def test_round_trip_gives_the_same_typed_data() -> None:
    original = registered()
    _, record = build_record(original, source="/sanpi/registry")
    decoded = parse_data(from_value(record.value))
    assert decoded == original


def test_new_ids_are_canonical_random_uuids() -> None:
    ids = {new_id() for _ in range(2000)}
    assert len(ids) == 2000
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def alert(**fields: object) -> AlertRaised:
    return AlertRaised.model_validate(
        {
            "alert_key": "R02:p-1",
            "rule": AlertRule.R02,
            "severity": Severity.ORANGE,
            "scope": "project",
            "project_id": "p-1",
            "title": '签约后 "120" 天未开工',
            "as_of": dt.date(2025, 1, 5),
            "evaluation_id": "e-1",
            "first_raised_at": dt.datetime(2025, 1, 5, 8, 0, tzinfo=dt.UTC),
            **fields,
        }
    )


@pytest.mark.parametrize(
    "data",
    [
        alert(),
        alert(park="梧桐", periods=[3, 4], metric_value=float("inf"), threshold=0.1 + 0.2),
        alert(project_id=None, scope="park", park="梧桐", message="\n\t\u0001"),
        # Nested: exclude_none drops the enterprise's None fields too, which a top-level
        # filter of the dump would keep.
        ProjectRegistered(
            project_id="p-1",
            version=2,
            name="雄韬氢能产业园",
            park="梧桐",
            total_investment=150_000,
            stage=Stage.SIGNED,
            enterprise=EnterpriseInfo(name="雄韬", uscc=None),
        ),
    ],
)
def test_a_record_built_from_the_dump_at_hand_is_the_one_pydantic_gives(
    data: AlertRaised | ProjectRegistered,
) -> None:
    # The timeline passes its dump of the data to spare a second one: same bytes either way.
    event, record = build_record(
        data, source="/sanpi/milestone", dumped=data.model_dump(mode="json")
    )
    assert list(event.data.items()) == list(data.model_dump(mode="json", exclude_none=True).items())
    assert record.value == event.model_dump_json(exclude_none=True).encode()
    plain, again = build_record(data, source="/sanpi/milestone")
    assert list(plain.data.items()) == list(event.data.items())
    assert again.value.replace(plain.id.encode(), b"").replace(
        plain.time.isoformat().replace("+00:00", "Z").encode(), b""
    ) == record.value.replace(event.id.encode(), b"").replace(
        event.time.isoformat().replace("+00:00", "Z").encode(), b""
    )


def test_stage_changed_goes_to_the_milestones_topic() -> None:
    data = ProjectStageChanged(
        project_id="p-1",
        from_stage=Stage.SIGNED,
        to_stage=Stage.UNDER_CONSTRUCTION,
        effective_date=dt.date(2023, 3, 1),
        reason="MILESTONE",
        changed_by="op",
    )
    _, record = build_record(data, source="/sanpi/milestone")
    assert record.topic == Topic.MILESTONES
    assert record.key == b"p-1"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "tombstone"),
        (b"{not json", "not a CloudEvents"),
        (b'"a string"', "not a CloudEvents"),
        (
            b'{"specversion":"0.3","id":"1","source":"s","type":"t","time":"2024-01-01T00:00:00Z","data":{}}',
            "specversion",
        ),
        (
            b'{"specversion":"1.0","source":"s","type":"t","time":"2024-01-01T00:00:00Z","data":{}}',
            "id",
        ),
        (b"\xff\xfe\x00", "not a CloudEvents"),
    ],
)
def test_undecodable_values_raise_decode_error(value: bytes | None, reason: str) -> None:
    with pytest.raises(EventDecodeError, match=reason):
        from_value(value)


def test_unknown_type_is_reported_as_such() -> None:
    _, record = build_record(registered(), source="/x")
    body = json.loads(record.value)
    body["type"] = "sanpi.project.registered.v9"
    with pytest.raises(UnknownEventType):
        parse_data(from_value(json.dumps(body).encode()))


def test_data_that_breaks_the_schema_names_the_field() -> None:
    _, record = build_record(registered(), source="/x")
    body = json.loads(record.value)
    body["data"]["total_investment"] = "a lot"
    with pytest.raises(EventDecodeError, match=r"data\.total_investment"):
        parse_data(from_value(json.dumps(body).encode()))


def test_additive_fields_from_a_newer_producer_are_ignored() -> None:
    _, record = build_record(registered(), source="/x")
    body = json.loads(record.value)
    body["data"]["field_added_later"] = 1
    body["extension_attribute"] = "kept"
    event = from_value(json.dumps(body).encode())
    assert parse_data(event) == registered()


def test_a_typed_decode_gives_what_the_two_steps_give() -> None:
    _, record = build_record(registered(), source="/sanpi/registry")
    body = json.loads(record.value)
    body["extension_attribute"] = "kept"
    value = json.dumps(body).encode()
    generic = from_value(value)
    attributes, data = decode_typed(value, dict(record.headers)[HEADER_TYPE].decode())
    assert type(data) is ProjectRegistered
    assert data == parse_data(generic) == registered()
    assert attributes.model_dump(exclude={"data"}) == generic.model_dump(exclude={"data"})
    assert attributes.model_dump()["extension_attribute"] == "kept"


def test_a_typed_decode_under_a_wrong_or_no_type_takes_the_two_steps() -> None:
    _, record = build_record(registered(), source="/x")
    for hint in ("sanpi.project.stage_changed.v1", "sanpi.unknown.v1", None):
        _attributes, data = decode_typed(record.value, hint)
        assert data == registered()
    body = json.loads(record.value)
    body["data"]["total_investment"] = "a lot"
    with pytest.raises(EventDecodeError, match=r"data\.total_investment"):
        decode_typed(json.dumps(body).encode(), "sanpi.project.registered.v1")
    with pytest.raises(EventDecodeError, match="tombstone"):
        decode_typed(None, "sanpi.project.registered.v1")


def test_every_event_type_exports_a_json_schema() -> None:
    schemas = json_schemas()
    assert set(schemas) == set(EVENT_TYPES)
    assert "project_id" in schemas["sanpi.project.registered.v1"]["properties"]
    for name in schemas:
        assert name.startswith("sanpi.")
        assert name.endswith(".v1")
