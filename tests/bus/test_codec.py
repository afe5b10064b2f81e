"""The codec: Confluent wire format, cached schema ids, cross-version reads and typed errors."""

from __future__ import annotations

import copy
import io
import json
import re
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bus import SchemaError, ValidationError
from bus.codec import (
    BadMagicByte,
    Codec,
    IncompatibleSchema,
    InMemorySchemaSource,
    PayloadMismatch,
    SchemaSource,
    TruncatedPayload,
    UnknownSchemaId,
)
from bus.records import catalog, validate
from bus.records.models import CaseOpenedV1, CaseOpenedV2
from tests.bus._strategies import records

RECORDS = [t for t in catalog().records() if t.kind == "record"]
EVOLVED = [name for name in catalog().names() if len(catalog().versions(name)) > 1]
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class CountingSource(InMemorySchemaSource):
    """Counts how often the codec asks the registry."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0
        self.fetches = 0

    def id_for(self, subject: str, schema: dict[str, Any]) -> int:
        self.lookups += 1
        return super().id_for(subject, schema)

    def schema_by_id(self, schema_id: int) -> dict[str, Any]:
        self.fetches += 1
        return super().schema_by_id(schema_id)


@pytest.fixture
def codec() -> Codec:
    return Codec(InMemorySchemaSource())


def test_in_memory_source_satisfies_the_protocol() -> None:
    assert isinstance(InMemorySchemaSource(), SchemaSource)


def test_payload_is_magic_byte_then_big_endian_id_then_plain_avro() -> None:
    source = InMemorySchemaSource()
    for _ in range(299):  # push the id past one byte so the byte order shows
        source.id_for("filler", {"type": "record", "name": f"F{_}", "fields": []})
    case = catalog().get("CaseOpened", 1)
    payload = Codec(source).encode(case, case.example())
    assert payload[0] == 0
    assert payload[1:5] == (300).to_bytes(4, "big")
    body = io.BytesIO()
    fastavro.schemaless_writer(body, case.parsed, case.example())
    assert payload[5:] == body.getvalue()
    assert source.subjects()["mx.gob.crm.CaseOpened"] == [300]


def test_standard_tools_read_the_body_with_the_registered_schema(codec: Codec) -> None:
    case = catalog().get("CaseUpdated")
    payload = codec.encode(case, case.example())
    writer = codec.source.schema_by_id(codec.writer_id(payload))
    parsed = fastavro.parse_schema(writer, catalog().shared_named_schemas())
    assert fastavro.schemaless_reader(io.BytesIO(payload[5:]), parsed) == case.example()


def test_schema_id_is_looked_up_once_and_writer_schema_fetched_once() -> None:
    source = CountingSource()
    codec = Codec(source)
    case = catalog().get("CaseOpened")
    payloads = [codec.encode(case, case.example()) for _ in range(50)]
    for payload in payloads:
        codec.decode(payload, case)
        codec.decode(payload, catalog().get("CaseOpened", 1))
    assert (source.lookups, source.fetches) == (1, 1)


@pytest.mark.parametrize("record_type", RECORDS, ids=lambda t: f"{t.name}-v{t.version}")
def test_every_record_and_version_round_trips(codec: Codec, record_type) -> None:
    example = record_type.example()
    assert codec.decode(codec.encode(record_type, example), record_type) == example


@pytest.mark.parametrize("name", EVOLVED)
def test_old_reader_reads_new_record_and_new_reader_reads_old(codec: Codec, name: str) -> None:
    old, new = catalog().versions(name)[:2]
    from_new = codec.decode(codec.encode(new, new.example()), old)
    assert validate(old, from_new) == []
    assert set(from_new) == {f["name"] for f in old.schema["fields"]}
    from_old = codec.decode(codec.encode(old, old.example()), new)
    assert validate(new, from_old) == []
    assert set(from_old) == {f["name"] for f in new.schema["fields"]}


def test_v1_reader_sees_new_enum_symbols_as_the_enum_default(codec: Codec) -> None:
    v2 = catalog().get("CaseOpened", 2)
    payload = codec.encode(v2, v2.example() | {"channel": "WHATSAPP"})
    assert codec.decode(payload, catalog().get("CaseOpened", 1))["channel"] == "UNKNOWN"


def test_v2_reader_fills_new_fields_with_their_defaults(codec: Codec) -> None:
    v1 = catalog().get("TaxpayerStatusChanged", 1)
    record = codec.decode(codec.encode(v1, v1.example()), catalog().get("TaxpayerStatusChanged", 2))
    assert record["previousStatus"] is None
    case = catalog().get("CaseOpened", 1)
    assert codec.decode(codec.encode(case, case.example()), catalog().get("CaseOpened"))["priority"] == "NORMAL"


def test_models_encode_and_decode_across_versions(codec: Codec) -> None:
    v2 = CaseOpenedV2.from_avro(catalog().get("CaseOpened", 2).example())
    as_v1 = codec.decode_model(codec.encode_model(v2), CaseOpenedV1)
    assert isinstance(as_v1, CaseOpenedV1)
    assert as_v1.case_id == v2.case_id
    assert as_v1.channel == "UNKNOWN"  # WHATSAPP is new in v2


def test_self_contained_writer_schema_is_read_too() -> None:
    source = InMemorySchemaSource()
    case = catalog().get("CaseOpened", 1)
    inline = copy.deepcopy(case.schema)
    contact = next(f for f in inline["fields"] if f["name"] == "contact")
    contact["type"] = ["null", catalog().get("Contact").schema]
    schema_id = source.id_for(case.subject, inline)
    body = io.BytesIO()
    fastavro.schemaless_writer(body, case.parsed, case.example())
    payload = b"\x00" + schema_id.to_bytes(4, "big") + body.getvalue()
    assert Codec(source).decode(payload, case) == case.example()


# --- errors ----------------------------------------------------------------------------------


def _payload(codec: Codec, name: str = "CaseOpened") -> bytes:
    record_type = catalog().get(name)
    return codec.encode(record_type, record_type.example())


@pytest.mark.parametrize("size", [0, 1, 4])
def test_payload_shorter_than_the_header_is_truncated(codec: Codec, size: int) -> None:
    with pytest.raises(TruncatedPayload, match=f"payload has {size} byte"):
        codec.decode(_payload(codec)[:size], catalog().get("CaseOpened"))


def test_payload_cut_inside_the_record_is_truncated(codec: Codec) -> None:
    payload = _payload(codec)
    for cut in range(5, len(payload)):
        with pytest.raises(TruncatedPayload, match="cut short"):
            codec.decode(payload[:cut], catalog().get("CaseOpened"))


def test_wrong_magic_byte_is_named(codec: Codec) -> None:
    payload = b"\x01" + _payload(codec)[1:]
    with pytest.raises(BadMagicByte, match="starts with byte 0x01, expected 0x00"):
        codec.decode(payload, catalog().get("CaseOpened"))


def test_unknown_schema_id_is_named(codec: Codec) -> None:
    payload = b"\x00" + (4242).to_bytes(4, "big") + _payload(codec)[5:]
    with pytest.raises(UnknownSchemaId, match="schema id 4242") as raised:
        codec.decode(payload, catalog().get("CaseOpened"))
    assert raised.value.schema_id == 4242


def test_trailing_bytes_are_a_mismatch(codec: Codec) -> None:
    with pytest.raises(PayloadMismatch, match="2 byte\\(s\\) left over"):
        codec.decode(_payload(codec) + b"\x00\x00", catalog().get("CaseOpened"))


def test_bytes_of_another_shape_under_an_id_are_a_mismatch(codec: Codec) -> None:
    payload = _payload(codec)
    garbage = payload[:5] + b"\x02\xff\xff\xff\xff\x0f" + payload[11:]  # a string with a negative length
    with pytest.raises(PayloadMismatch, match="do not match the writer's schema"):
        codec.decode(garbage, catalog().get("CaseOpened"))


def test_payload_of_another_record_is_refused(codec: Codec) -> None:
    with pytest.raises(IncompatibleSchema, match=re.escape("is a mx.gob.crm.CaseUpdated, not a mx.gob.crm.CaseOpened")):
        codec.decode(_payload(codec, "CaseUpdated"), catalog().get("CaseOpened"))


def test_writer_schema_the_reader_cannot_resolve_is_incompatible() -> None:
    source = InMemorySchemaSource()
    case = catalog().get("CaseOpened", 1)
    changed = copy.deepcopy(case.schema)
    changed["fields"][0] = {"name": "caseId", "type": "boolean", "doc": "changed type"}
    schema_id = source.id_for(case.subject, changed)
    parsed = fastavro.parse_schema(changed, catalog().shared_named_schemas())
    body = io.BytesIO()
    fastavro.schemaless_writer(body, parsed, case.example() | {"caseId": True})
    payload = b"\x00" + schema_id.to_bytes(4, "big") + body.getvalue()
    with pytest.raises(IncompatibleSchema, match=re.escape("cannot be read as mx.gob.crm.CaseOpened v1")):
        Codec(source).decode(payload, case)


def test_all_codec_errors_are_schema_errors() -> None:
    for error in (TruncatedPayload, BadMagicByte, UnknownSchemaId, PayloadMismatch, IncompatibleSchema):
        assert issubclass(error, SchemaError)


def test_encoding_a_record_that_does_not_fit_lists_every_problem(codec: Codec) -> None:
    case = catalog().get("CaseOpened")
    data = case.example() | {"colour": "blue", "channel": "FAX"}
    del data["status"]
    with pytest.raises(ValidationError) as raised:
        codec.encode(case, data)
    assert {(p.path, p.rule) for p in raised.value.problems} == {
        ("/colour", "avro.unknown_field"),
        ("/channel", "avro.enum"),
        ("/status", "avro.required"),
    }


def test_encoding_an_unknown_field_alone_is_refused_not_dropped(codec: Codec) -> None:
    case = catalog().get("CaseOpened")
    with pytest.raises(ValidationError, match="has no field 'colour'"):
        codec.encode(case, case.example() | {"colour": "blue"})


# --- properties ------------------------------------------------------------------------------


@pytest.mark.parametrize("record_type", RECORDS, ids=lambda t: f"{t.name}-v{t.version}")
@PROPERTY
@given(data=st.data())
def test_generated_records_are_valid_and_round_trip(record_type, data) -> None:
    codec = Codec(InMemorySchemaSource())
    record = data.draw(records(record_type))
    assert validate(record_type, record) == []
    assert codec.decode(codec.encode(record_type, record), record_type) == record
    assert record_type.model.from_avro(record).to_avro() == record


@pytest.mark.parametrize("name", EVOLVED)
@PROPERTY
@given(data=st.data())
def test_generated_new_records_read_as_old_keep_the_old_fields(name: str, data) -> None:
    codec = Codec(InMemorySchemaSource())
    old, new = catalog().versions(name)[:2]
    record = data.draw(records(new))
    as_old = codec.decode(codec.encode(new, record), old)
    enums = {f["name"]: f["type"] for f in old.parsed["fields"] if isinstance(f["type"], dict)}
    for field, value in as_old.items():
        symbols = enums.get(field, {}).get("symbols")
        if symbols and record[field] not in symbols:
            assert value == enums[field]["default"]
        else:
            assert value == record[field]


@PROPERTY
@given(body=st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_raise_a_schema_error(body: bytes) -> None:
    codec = Codec(InMemorySchemaSource())
    case = catalog().get("CaseOpened")
    header = codec.encode(case, case.example())[:5]
    try:
        record = codec.decode(header + body, case)
    except SchemaError:
        return
    assert isinstance(record, dict)


@PROPERTY
@given(data=st.data())
def test_every_prefix_of_a_payload_is_truncated(data) -> None:
    codec = Codec(InMemorySchemaSource())
    request = catalog().get("ServiceRequestSubmitted")
    payload = codec.encode(request, data.draw(records(request)))
    cut = data.draw(st.integers(0, len(payload) - 1))
    with pytest.raises(TruncatedPayload):
        codec.decode(payload[:cut], request)


def test_json_of_registered_schema_is_the_avsc(codec: Codec) -> None:
    case = catalog().get("CaseOpened")
    payload = codec.encode(case, case.example())
    assert codec.source.schema_by_id(codec.writer_id(payload)) == json.loads(case.path.read_text())


def test_registry_not_found_answer_becomes_unknown_schema_id() -> None:
    class NotFound(Exception):
        error_code = 40403

    class Registry(InMemorySchemaSource):
        def schema_by_id(self, schema_id: int) -> dict[str, Any]:
            raise NotFound(f"Schema {schema_id} not found")

    payload = b"\x00" + (7).to_bytes(4, "big") + b"\x00"
    with pytest.raises(UnknownSchemaId, match="schema id 7 is unknown"):
        Codec(Registry()).decode(payload, catalog().get("CaseOpened"))
