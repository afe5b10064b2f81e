"""Dead letters as data: their messages never repeat a record's values, hostile headers read back
without failing, and two records at one position are told apart."""

from __future__ import annotations

import pytest

from bus import PolicyViolation, ValidationError
from bus.envelope import EnvelopeError
from bus.transport import Record, UnreadableRecord
from connectors import DeadLetter, RecordRefused
from connectors._dead_letters import describe, fingerprint

CURP = "GODE561231HDFRRN00"


def test_a_validation_error_is_described_by_its_fields_and_rules_only():
    problems = [
        ValidationError(f"{CURP!r} has a wrong check digit", path="/citizenCurp", rule="curp.check_digit", value=CURP),
        ValidationError("'x' does not match", path="/regime", rule="pattern", value="x"),
    ]
    error = ValidationError.of_problems("invalid", problems, record="mx.gob.sat.TaxpayerStatusReported")
    assert CURP in str(error)  # the error itself shows the value, for the sender who made it
    said = describe(error)
    assert (
        said == "mx.gob.sat.TaxpayerStatusReported breaks 2 rule(s): /citizenCurp [curp.check_digit]; /regime [pattern]"
    )


def test_an_exception_that_is_not_enlaces_is_named_by_its_type_only():
    said = describe(LookupError(f"no taxpayer {CURP}"))
    assert "LookupError" in said and CURP not in said


def test_enlaces_own_errors_keep_their_words():
    assert describe(PolicyViolation("urn:mx:gob:crm may not publish it", rule="policy.owner")).startswith(
        "[policy.owner]"
    )
    assert describe(EnvelopeError("header ce_time is NULL (it has no value)", path="ce_time")) == (
        "header ce_time is NULL (it has no value)"
    )
    assert describe(RecordRefused("unhandled-type", "no handler for it")) == "no handler for it"


def test_a_refusal_reason_is_a_slug():
    with pytest.raises(ValueError, match="lowercase words joined by hyphens"):
        RecordRefused("Not A Slug", "x")


def _record(headers, key=b"k", value=b"v", offset=3):
    return Record("t.dlq", 0, offset, key, value, headers, 0)


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [("enlace_dlq_partition", None), ("enlace_dlq_offset", b"-"), ("enlace_dlq_attempts", b"1e9")],
        [("enlace_dlq_offset", b"\xff\xfe"), ("enlace_dlq_reason", b"\xc3\x28"), ("ce_id", None)],
        [("enlace_dlq_offset", "٣".encode()), ("enlace_dlq_partition", b"9" * 40)],
        [("enlace_dlq_null_headers", b"[" * 10_000), ("enlace_dlq_null_headers", b'{"a": 1}')],
        [("enlace_dlq_null_headers", b'["ce_id", 7, null]'), ("ce_id", b"")],
    ],
)
def test_any_header_values_read_back_as_a_dead_letter(headers):
    letter = DeadLetter.from_record(_record(headers))
    assert letter.dlq_offset == 3 and isinstance(letter.partition, int) and isinstance(letter.offset, int)
    assert isinstance(letter.reason, str) and isinstance(letter.error_message, str)


def test_headers_that_were_null_are_null_again():
    letter = DeadLetter.from_record(_record([("x-a", b""), ("x-b", b""), ("enlace_dlq_null_headers", b'["x-a"]')]))
    assert letter.original_headers == [("x-a", None), ("x-b", b"")]


def test_an_unreadable_record_reads_as_a_dead_letter_without_contents():
    letter = DeadLetter.from_record(UnreadableRecord("t.dlq", 0, 9, "a header name that is not UTF-8"))
    assert (letter.reason, letter.dlq_offset, letter.omitted) == ("unreadable-record", 9, "key,value,headers")


def test_two_records_at_one_position_have_different_fingerprints():
    one = fingerprint(_record([("ce_id", b"a")]))
    assert one == fingerprint(_record([("ce_id", b"a")]))
    assert one != fingerprint(_record([("ce_id", b"b")]))
    assert one != fingerprint(_record([("ce_id", None)]))
    assert fingerprint(_record([("ce_id", None)])) != fingerprint(_record([("ce_id", b"")]))
    assert fingerprint(_record([], key=None)) != fingerprint(_record([], key=b""))
