"""The envelope: CloudEvents 1.0 binary mode over Kafka headers, with W3C trace context."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bus import ValidationError
from bus.envelope import (
    REQUIRED_HEADERS,
    Envelope,
    EnvelopeError,
    dataschema_uri,
    event_type,
    kafka_key,
    new_envelope,
)
from bus.envelope import _envelope as envelope_module
from bus.records import catalog

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def _envelope(**extensions: str) -> Envelope:
    case = catalog().get("CaseOpened")
    return new_envelope(case, source="urn:mx:gob:crm", subject="CRM-2025-000123", traceparent=TRACEPARENT, **extensions)


def test_new_envelope_fills_the_cloudevents_attributes() -> None:
    envelope = _envelope(correlationid="req-1")
    assert UUID.fullmatch(envelope.id)
    assert envelope.source == "urn:mx:gob:crm"
    assert envelope.type == "mx.gob.crm.CaseOpened.v2"
    assert envelope.subject == "CRM-2025-000123"
    assert envelope.dataschema == "urn:enlace:schema:mx.gob.crm.CaseOpened:2"
    assert envelope.datacontenttype == "application/avro"
    assert envelope.specversion == "1.0"
    assert envelope.extensions == {"correlationid": "req-1", "dataclassification": "personal"}
    moment = dt.datetime.fromisoformat(envelope.time)
    assert envelope.time.endswith("Z") and abs(dt.datetime.now(dt.UTC) - moment) < dt.timedelta(seconds=5)
    assert (envelope.record_name, envelope.record_version) == ("mx.gob.crm.CaseOpened", 2)


def test_ids_are_unique() -> None:
    assert len({_envelope().id for _ in range(1000)}) == 1000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_process_draws_its_own_ids() -> None:
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe and exits at once
        os.write(write, _envelope().id.encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read, "rb") as pipe:
        child_id = pipe.read().decode()
    parent_id = _envelope().id
    assert UUID.fullmatch(child_id)
    assert child_id[:24] != parent_id[:24]  # a different random part, not the parent's sequence


def test_headers_follow_the_kafka_binary_binding() -> None:
    headers = dict(_envelope(correlationid="req-1").to_headers())
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == b"mx.gob.crm.CaseOpened.v2"
    assert headers["ce_source"] == b"urn:mx:gob:crm"
    assert headers["ce_subject"] == b"CRM-2025-000123"
    assert headers["content-type"] == b"application/avro"
    assert headers["traceparent"] == TRACEPARENT.encode()
    assert headers["ce_correlationid"] == b"req-1"
    assert headers["ce_dataclassification"] == b"personal"
    assert {"ce_id", "ce_time", "ce_dataschema"} <= headers.keys()


def test_headers_round_trip_to_an_equal_envelope() -> None:
    envelope = _envelope(correlationid="req-1").with_extensions(signature="c2ln", keyid="crm-2025")
    assert Envelope.from_headers(envelope.to_headers()) == envelope


def test_foreign_headers_are_ignored() -> None:
    envelope = _envelope()
    headers = [*envelope.to_headers(), ("x-retry-count", b"3"), ("x-retry-count", b"4")]
    assert Envelope.from_headers(headers) == envelope


@pytest.mark.parametrize("missing", REQUIRED_HEADERS)
def test_missing_required_header_is_named(missing: str) -> None:
    headers = [(k, v) for k, v in _envelope().to_headers() if k != missing]
    with pytest.raises(EnvelopeError, match=f"required header {missing} is missing") as raised:
        Envelope.from_headers(headers)
    assert (raised.value.path, raised.value.rule) == (missing, "envelope.missing")


def test_empty_required_header_counts_as_missing() -> None:
    headers = [(k, b"" if k == "ce_id" else v) for k, v in _envelope().to_headers()]
    with pytest.raises(EnvelopeError, match="ce_id is missing or empty"):
        Envelope.from_headers(headers)


@pytest.mark.parametrize(
    ("header", "value", "fragment"),
    [
        ("ce_specversion", b"0.3", "ce_specversion must be 1.0"),
        ("ce_time", b"yesterday", "not an RFC 3339 timestamp"),
        ("ce_time", b"2025-06-02T15:04:05", "not an RFC 3339 timestamp with an offset"),
        ("traceparent", b"00-xyz-01", "not W3C trace context"),
        ("traceparent", b"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "not W3C trace context"),
        ("ce_subject", b"\xff\xfe", "not UTF-8"),
    ],
)
def test_malformed_header_is_named(header: str, value: bytes, fragment: str) -> None:
    headers = [(k, value if k == header else v) for k, v in _envelope().to_headers()]
    with pytest.raises(EnvelopeError, match=fragment) as raised:
        Envelope.from_headers(headers)
    assert (raised.value.path, raised.value.rule) == (header, "envelope.malformed")


def test_repeated_header_is_refused() -> None:
    headers = [*_envelope().to_headers(), ("ce_id", b"another")]
    with pytest.raises(EnvelopeError, match="ce_id appears more than once"):
        Envelope.from_headers(headers)


def test_bad_extension_name_is_refused() -> None:
    with pytest.raises(EnvelopeError, match="extension name 'Bad-Name'"):
        _envelope().with_extensions(**{"Bad-Name": "x"})


def test_envelope_error_is_a_validation_error() -> None:
    assert issubclass(EnvelopeError, ValidationError)


def test_envelope_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        _envelope().id = "x"  # type: ignore[misc]


def test_constructor_checks_like_from_headers() -> None:
    with pytest.raises(EnvelopeError, match="ce_source must be a non-empty string"):
        Envelope(id="1", source="", type="mx.gob.crm.CaseOpened.v2")
    with pytest.raises(EnvelopeError, match="ce_time"):
        Envelope(id="1", source="urn:mx:gob:crm", type="t", time="2025-13-01T00:00:00Z")


@pytest.mark.parametrize("time", ["2025-06-02 15:04:05Z", "2025-06-02T15:04:05", 1748876645, ["2025"]])
def test_a_time_that_is_not_rfc3339_with_an_offset_is_refused(time: object) -> None:
    with pytest.raises(EnvelopeError, match="ce_time") as raised:
        Envelope(id="1", source="urn:mx:gob:crm", type="t", time=time)  # type: ignore[arg-type]
    assert (raised.value.path, raised.value.rule) == ("ce_time", "envelope.malformed")


def test_extensions_given_to_new_envelope_are_checked() -> None:
    with pytest.raises(EnvelopeError, match="extension correlationid must be a string"):
        _envelope(correlationid=7)  # type: ignore[arg-type]
    with pytest.raises(EnvelopeError, match="extension name 'datacontenttype'") as raised:
        _envelope(datacontenttype="text/plain")  # a core attribute cannot be an extension
    assert raised.value.path == "ce_datacontenttype"


def test_a_header_named_like_a_core_attribute_but_not_one_is_refused() -> None:
    headers = [*_envelope().to_headers(), ("ce_datacontenttype", b"text/plain")]
    with pytest.raises(EnvelopeError, match="extension name 'datacontenttype'"):
        Envelope.from_headers(headers)


def test_explicit_time_id_and_dataschema_are_kept() -> None:
    case = catalog().get("CaseOpened", 1)
    when = dt.datetime(2025, 6, 2, 15, 4, 5, 123456, tzinfo=dt.UTC)
    envelope = new_envelope(case, source="urn:mx:gob:crm", subject="s", id="e-1", time=when, dataschema="urn:x")
    assert (envelope.id, envelope.time, envelope.dataschema) == ("e-1", "2025-06-02T15:04:05.123Z", "urn:x")
    with pytest.raises(EnvelopeError, match="needs a time zone"):
        new_envelope(case, source="urn:mx:gob:crm", subject="s", time=dt.datetime(2025, 1, 1))


def test_empty_subject_is_refused() -> None:
    with pytest.raises(EnvelopeError, match="ce_subject"):
        new_envelope(catalog().get("CaseOpened"), source="urn:mx:gob:crm", subject="")


def test_type_and_dataschema_name_record_and_version() -> None:
    v1 = catalog().get("TaxpayerStatusChanged", 1)
    assert event_type(v1) == "mx.gob.sat.TaxpayerStatusChanged.v1"
    assert dataschema_uri(v1) == "urn:enlace:schema:mx.gob.sat.TaxpayerStatusChanged:1"


def test_kafka_key_is_the_records_subject() -> None:
    request = catalog().get("ServiceRequestSubmitted")
    assert kafka_key(request, request.example()) == b"ROMA900215HJCDRN09"
    declaration = catalog().get("TaxDeclarationFiled")
    assert kafka_key(declaration, declaration.example()) == b"ROMA900215AB1"


def test_classification_extension_follows_the_record() -> None:
    request = catalog().get("ServiceRequestSubmitted")
    envelope = new_envelope(request, source="urn:mx:gob:portal", subject="x")
    assert envelope.extensions["dataclassification"] == "sensitive"


@pytest.mark.parametrize("header", ["ce_id", "ce_time", "traceparent", "ce_dataclassification", "ce_dataschema"])
def test_a_null_header_value_is_refused_by_name(header: str) -> None:
    headers = [(k, None if k == header else v) for k, v in _envelope().to_headers()]
    with pytest.raises(EnvelopeError, match=f"header {header} is NULL") as raised:
        Envelope.from_headers(headers)
    assert (raised.value.path, raised.value.rule) == (header, "envelope.null")


@pytest.mark.parametrize("header", ["ce_dataschema", "ce_dataclassification", "traceparent"])
def test_an_empty_optional_header_is_refused(header: str) -> None:
    headers = [(k, b"" if k == header else v) for k, v in _envelope().to_headers()]
    with pytest.raises(EnvelopeError, match=header):
        Envelope.from_headers(headers)


def test_an_empty_tracestate_is_allowed() -> None:
    assert Envelope.from_headers([*_envelope().to_headers(), ("tracestate", b"")]).tracestate == ""


@pytest.mark.parametrize(
    "value", [b"id\x00", b"id\n", b"\x7f", "id\u0085".encode(), "id\ufffe".encode(), "id\U0010ffff".encode()]
)
def test_control_characters_and_noncharacters_are_refused(value: bytes) -> None:
    headers = [(k, value if k == "ce_id" else v) for k, v in _envelope().to_headers()]
    with pytest.raises(EnvelopeError, match="ce_id holds control characters or noncharacters") as raised:
        Envelope.from_headers(headers)
    assert raised.value.rule == "envelope.malformed"


@pytest.mark.parametrize("content_type", [b"application/json", b"application/avro; charset=utf-8", b"text/plain"])
def test_a_content_type_other_than_avro_is_refused(content_type: bytes) -> None:
    headers = [(k, content_type if k == "content-type" else v) for k, v in _envelope().to_headers()]
    with pytest.raises(EnvelopeError, match="content-type must be application/avro") as raised:
        Envelope.from_headers(headers)
    assert raised.value.rule == "envelope.content_type"


def test_an_error_names_the_header_but_never_repeats_its_value() -> None:
    secret = b"GODE561231HDFRRN00"
    for header in ("ce_time", "traceparent"):
        headers = [(k, secret if k == header else v) for k, v in _envelope().to_headers()]
        with pytest.raises(EnvelopeError) as raised:
            Envelope.from_headers(headers)
        assert header in str(raised.value) and secret.decode() not in str(raised.value)


def test_long_values_are_refused_without_being_kept() -> None:
    for header, value in (("ce_time", b"2" * 100_000), ("ce_" + "a" * 100_000, b"x")):
        headers = [*(h for h in _envelope().to_headers() if h[0] != header), (header, value)]
        with pytest.raises(EnvelopeError):
            Envelope.from_headers(headers)


_GOOD = Envelope(
    id="1",
    source="urn:mx:gob:crm",
    type="mx.gob.crm.CaseOpened.v2",
    time="2026-12-07T10:00:00Z",
    subject="CRM-1",
    traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    extensions={"dataclassification": "internal"},
).to_headers()
_names = st.sampled_from([name for name, _ in _GOOD] + ["ce_Bad", "ce_", "ce_x" * 6, "x-proxy", "ce_correlationid"])
_values = st.sampled_from([value for _, value in _GOOD] + [None, b"", b"\xff", b"a\x00b", b"1.0", b"ok"])


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(_names, _values), max_size=14)
    | st.permutations(_GOOD).flatmap(lambda h: st.lists(st.tuples(_names, _values), max_size=3).map(lambda x: h + x))
)
def test_reading_by_a_layout_of_names_gives_what_the_walk_gives(headers):
    """from_headers reads known lists of names by position; the walk over every header must agree,
    envelope or error (the same header and rule)."""

    def read(plan):
        with pytest.MonkeyPatch.context() as patch:
            if not plan:
                patch.setattr(envelope_module, "_plan_of", lambda _: None)
            try:
                return Envelope.from_headers(headers)
            except EnvelopeError as exc:
                return (exc.path, exc.rule)

    assert read(True) == read(False)
