"""The consumer-path corpus: records a hostile or broken sender can put on a topic, each with the one
outcome the receiver must reach.

Each :class:`Case` says how to make the record (from a :class:`~tests.corpus.forge.Forge`) and the
expected outcome: a dead-letter reason, ``applied`` (a record that is odd but valid) or
``duplicate``. ``tests/connectors/test_consumer_corpus.py`` sends every case of a corpus through a
real broker to one topic, read by one connector, in one run.

The header cases are generated: every header a record carries × every way to spoil its value
(missing, NULL, twice, empty, not UTF-8, a binary number where text belongs), altered after
signing (``tampered``) and, for the envelope's headers, before (``re-signed``: the sender signed the
spoiled value). The rest are written out: time, subject, type, topic, keys, payload bytes, field
values, sizes, header names, and what the handler itself refuses.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta, timezone
from typing import Any

from bus.records import catalog
from tests.corpus.forge import (
    APPLIED,
    BINARY,
    NOT_UTF8,
    Forge,
    Header,
    RawName,
    Sent,
    doubled,
    dropped,
    replaced,
)

DUPLICATE = "duplicate"
# The receiver of the corpus runs with ENLACE_MAX_RECORD_BYTES at 64 KiB, so size cases stay small.
MAX_RECORD_BYTES = 65_536
# A handler that fails (or refuses) on these request ids, as an agency's desk might.
FAILING_REQUEST = "00000000-0000-4000-8000-0000000000f1"
REFUSED_REQUEST = "00000000-0000-4000-8000-0000000000f2"

OTHER_CURP = "PEGL031108MDFRNCA4"  # valid, but not the record's

BAD_CURPS = {
    "a CURP with a wrong check digit": "GODE561231HDFRRN01",
    "a CURP in lower case": "gode561231hdfrrn00",
    "a CURP of 17 characters": "GODE561231HDFRRN0",
    "a CURP of 19 characters": "GODE561231HDFRRN000",
    "a CURP born in month 13": "GODE561331HDFRRN00",
    "a CURP of state ZZ": "GODE561231HZZRRN00",
    "a CURP of digits": "123456789012345678",
    "a CURP of 10,000 characters": "G" * 10_000,
    "a CURP with a space": "GODE561231 DFRRN00",
}
BAD_RFCS = {
    "an RFC with a wrong check digit": "GODE561231GR9",
    "an RFC in lower case": "gode561231gr8",
    "an RFC of 4 characters": "XXXX",
    "an RFC born in month 13": "GODE911331GR8",
    "an RFC of 14 characters": "GODE561231GR8X",
}

# What must never appear in a dead letter's own headers or a log line: the citizens' identifiers
# the corpus sends (the records themselves, copied into their dead letters, may hold them).
PERSONAL_VALUES = (
    "GODE561231HDFRRN00",  # the example's CURP
    "GODE561231GR8",  # the example's RFC
    "EKU9003173C9",  # the invoice example's RFCs
    "ROMA900215AB1",
    OTHER_CURP,
    *(v for v in BAD_CURPS.values() if 10 <= len(v) <= 20),
    *(v for v in BAD_RFCS.values() if len(v) >= 10),
    "EKU9003173C8",
    "roma900215ab1",
)


@dataclass(frozen=True)
class Case:
    """One bad (or odd) record and the outcome it must have.

    Attributes:
        name: what is wrong with it.
        expect: the dead letter's reason, ``applied`` or ``duplicate``.
        make: builds the record.
        alone: send it in its own batch (a record the Kafka client cannot parse takes the rest of
            its batch with it: see ``test_hostile_input``).
    """

    name: str
    expect: str
    make: Callable[[Forge], Sent | list[Sent]]
    alone: bool = False


Spoil = Callable[[list[Header], str], list[Header]]
SPOILS: dict[str, Spoil] = {
    "missing": dropped,
    "NULL": lambda h, n: replaced(h, n, None),
    "duplicated": doubled,
    "empty": lambda h, n: replaced(h, n, b""),
    "not UTF-8": lambda h, n: replaced(h, n, NOT_UTF8),
    "a binary number": lambda h, n: replaced(h, n, BINARY),
}

REQUIRED = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "content-type")
OPTIONAL_SIGNED = ("traceparent", "ce_dataschema", "ce_dataclassification")

# Spoiled after signing. The envelope is read before the signature is checked, so a spoiled
# envelope header is a bad envelope; a signed optional header that vanished breaks the signature.
TAMPERED: dict[str, dict[str, str]] = {
    **{name: dict.fromkeys(SPOILS, "bad-envelope") for name in REQUIRED},
    **{name: {**dict.fromkeys(SPOILS, "bad-envelope"), "missing": "bad-signature"} for name in OPTIONAL_SIGNED},
    "enlace_keyid": {
        "missing": "missing-signature",
        "NULL": "missing-signature",
        "duplicated": "duplicate-header",
        "empty": "missing-signature",
        "not UTF-8": "unknown-key",
        "a binary number": "unknown-key",
    },
    "enlace_signature": {
        "missing": "missing-signature",
        "NULL": "missing-signature",
        "duplicated": "duplicate-header",
        "empty": "missing-signature",
        "not UTF-8": "bad-signature",
        "a binary number": "bad-signature",
    },
    "enlace_sigv": {**dict.fromkeys(SPOILS, "unsupported-signature-version"), "duplicated": "duplicate-header"},
    "enlace_topic": {**dict.fromkeys(SPOILS, "bad-signature"), "duplicated": "duplicate-header"},
}

# Spoiled before signing (a signed form cannot hold a header twice, so no "duplicated" here). An
# optional header left out by its sender is no fault at all.
RESIGNED: dict[str, dict[str, str]] = {
    **{name: {s: "bad-envelope" for s in SPOILS if s != "duplicated"} for name in REQUIRED},
    **{
        name: {**{s: "bad-envelope" for s in SPOILS if s != "duplicated"}, "missing": APPLIED}
        for name in OPTIONAL_SIGNED
    },
}


def _header_cases() -> list[Case]:
    cases = []
    for name, outcomes in TAMPERED.items():
        for spoil, expect in outcomes.items():
            change = SPOILS[spoil]
            cases.append(
                Case(
                    f"{name} {spoil}, after signing", expect, lambda f, c=change, n=name: f.tampered(lambda h: c(h, n))
                )
            )
    for name, outcomes in RESIGNED.items():
        for spoil, expect in outcomes.items():
            change = SPOILS[spoil]
            cases.append(
                Case(f"{name} {spoil}, signed so", expect, lambda f, c=change, n=name: f.resigned(lambda h: c(h, n)))
            )
    return cases


def _time_cases() -> list[Case]:
    def at(when: Callable[[Forge], Any]) -> Callable[[Forge], Sent]:
        return lambda f: f.record(time=when(f))

    return [
        Case("ce_time 10 minutes ahead", "future-time", at(lambda f: f.ahead(minutes=10))),
        Case("ce_time an hour ahead", "future-time", at(lambda f: f.ahead(hours=1))),
        Case("ce_time ten years ahead", "future-time", at(lambda f: f.ahead(days=3650))),
        Case("ce_time 9999-12-31", "future-time", at(lambda f: "9999-12-31T23:59:59Z")),
        Case("ce_time past the year 9999 in UTC", "future-time", at(lambda f: "9999-12-31T23:59:59-14:00")),
        Case("ce_time two minutes ahead (clock skew)", APPLIED, at(lambda f: f.ahead(minutes=2))),
        Case("ce_time 15 days ago (older than kept ids)", "stale", at(lambda f: f.ago(days=15))),
        Case("ce_time in 1999", "stale", at(lambda f: "1999-01-01T00:00:00Z")),
        Case("ce_time at the epoch", "stale", at(lambda f: "1970-01-01T00:00:00Z")),
        Case("ce_time in year 1", "stale", at(lambda f: "0001-01-01T00:00:00Z")),
        Case("ce_time before year 1 in UTC", "stale", at(lambda f: "0001-01-01T00:00:00+14:00")),
        Case("ce_time a day ago (backlog)", APPLIED, at(lambda f: f.ago(days=1))),
        Case("ce_time a week ago (backlog)", APPLIED, at(lambda f: f.ago(days=7))),
        Case("ce_time 13 days ago (backlog)", APPLIED, at(lambda f: f.ago(days=13))),
        Case(
            "ce_time now, in another time zone",
            APPLIED,
            at(lambda f: f.now().astimezone(timezone(timedelta(hours=5, minutes=30)))),
        ),
        Case("ce_time before its key was valid", "expired-key", lambda f: f.record(time=f.ago(days=2), by="fresh")),
    ]


def _subject_cases() -> list[Case]:
    return [
        Case("ce_subject another citizen's CURP", "subject-mismatch", lambda f: f.record(subject=OTHER_CURP)),
        Case(
            "ce_subject and Kafka key another citizen's",
            "subject-mismatch",
            lambda f: f.record(subject=OTHER_CURP, key=OTHER_CURP.encode()),
        ),
        Case("Kafka key another citizen's CURP", "subject-mismatch", lambda f: f.record(key=OTHER_CURP.encode())),
        Case("Kafka key NULL", "subject-mismatch", lambda f: _with_null_key(f)),
        Case(
            "ce_subject in lower case",
            "subject-mismatch",
            lambda f: f.record(subject=f.subject_of(f.data()).lower(), key=f.subject_of(f.data()).lower().encode()),
        ),
    ]


def _with_null_key(forge: Forge) -> Sent:
    data = forge.data()
    value = forge.encode(data)
    return None, value, forge.sign(forge.headers(data), None, value)


def _type_cases() -> list[Case]:
    cat = catalog()
    changed = cat.get("TaxpayerStatusChanged")
    return [
        Case("ce_type a record no catalog has", "unknown-type", lambda f: f.record(event_type="mx.gob.sat.Nope.v1")),
        Case("ce_type dots only", "unknown-type", lambda f: f.record(event_type="....v1")),
        Case("ce_type of 10,000 characters", "unknown-type", lambda f: f.record(event_type="x" * 10_000 + ".v1")),
        Case("ce_type a version newer than the catalog", APPLIED, lambda f: f.record(event_type=_named(f, 9))),
        Case("ce_type without a version", APPLIED, lambda f: f.record(event_type=f.record_type.full_name)),
        Case(
            "ce_type another record of the same owner",
            "wrong-topic",
            lambda f: f.record(event_type=f"{changed.full_name}.v{changed.version}"),
        ),
        Case(
            "ce_type another agency's record", "wrong-topic", lambda f: f.record(event_type="mx.gob.crm.CaseOpened.v2")
        ),
        Case("ce_type a shared type", "wrong-topic", lambda f: f.record(event_type="mx.gob.common.Person.v1")),
        Case(
            "a whole record of another type, signed for this topic",
            "wrong-topic",
            lambda f: f.record(changed.example(), record_type=changed),
        ),
        Case(
            "payload of another record's schema", "schema-type-mismatch", lambda f: f.record(value=_other(f, changed))
        ),
        Case(
            "payload of a shared type's schema",
            "schema-type-mismatch",
            lambda f: f.record(value=_other(f, cat.get("Contact"), cat.get("Contact").example())),
        ),
    ]


def _named(forge: Forge, version: int) -> str:
    return f"{forge.record_type.full_name}.v{version}"


def _other(forge: Forge, record_type: Any, data: dict[str, Any] | None = None) -> bytes:
    return forge.encode(data if data is not None else record_type.example(), record_type)


def _topic_cases() -> list[Case]:
    return [
        Case(
            "signed for another topic", "wrong-topic", lambda f: f.record(topic=f.topic.replace("reported", "changed"))
        ),
        Case("signed for its dead-letter topic", "wrong-topic", lambda f: f.record(topic=f.topic + ".dlq")),
        Case("signed for the topic without its prefix", "wrong-topic", lambda f: f.record(topic=f.record_type.topic)),
        Case("signed for the topic plus a space", "wrong-topic", lambda f: f.record(topic=f.topic + " ")),
    ]


def _key_cases() -> list[Case]:
    return [
        Case("signed by a key never published", "unknown-key", lambda f: f.record(by="unknown")),
        Case("signed by a revoked key", "revoked-key", lambda f: f.record(by="revoked")),
        Case("signed by an expired key", "expired-key", lambda f: f.record(by="expired")),
        Case("signed by a key not valid yet", "expired-key", lambda f: f.record(by="not_yet_valid")),
        Case("signed by another agency's key as the owner", "sender-mismatch", lambda f: f.record(by="other")),
        Case(
            "signed by another agency, as itself",
            "not-allowed",
            lambda f: f.record(by="other", source=f.keys["other"].agency),
        ),
        Case(
            "signed by the owner's key, claiming another source",
            "sender-mismatch",
            lambda f: f.record(source=f.keys["other"].agency),
        ),
        Case("the owner's key id, another agency's signature", "bad-signature", lambda f: _swapped_signature(f)),
        Case("the signature of another record", "bad-signature", lambda f: _borrowed_signature(f)),
        Case("enlace_sigv 1 on a form-2 signature", "unsupported-signature-version", lambda f: _version(f, b"1")),
        Case(
            "enlace_sigv 3 on a form-2 signature (no place in a batch)", "bad-batch-proof", lambda f: _version(f, b"3")
        ),
        Case("enlace_sigv 4", "unsupported-signature-version", lambda f: _version(f, b"4")),
        Case("a signed header added after signing", "bad-signature", lambda f: f.tampered(_add("ce_partitionkey"))),
    ]


def _swapped_signature(forge: Forge) -> Sent:
    key, value, headers = forge.record()
    _, _, theirs = forge.record(by="other", source=forge.keys["other"].agency)
    signature = dict(theirs)["enlace_signature"]
    return key, value, replaced(headers, "enlace_signature", signature)


def _borrowed_signature(forge: Forge) -> Sent:
    key, value, headers = forge.record()
    _, _, other = forge.record()
    return key, value, replaced(headers, "enlace_signature", dict(other)["enlace_signature"])


def _version(forge: Forge, version: bytes) -> Sent:
    return forge.tampered(lambda h: replaced(h, "enlace_sigv", version))


def _add(name: str, value: bytes | None = b"x") -> Callable[[list[Header]], list[Header]]:
    return lambda headers: [*headers, (name, value)]


def _payload_cases() -> list[Case]:
    def value(make: Callable[[bytes, Forge], bytes | None]) -> Callable[[Forge], Sent]:
        return lambda f: _signed_value(f, make)

    def schema_id(number: int) -> Callable[[bytes, Forge], bytes]:
        return lambda good, f: good[:1] + number.to_bytes(4, "big") + good[5:]

    return [
        Case("a tombstone (NULL value)", "empty-record", value(lambda good, f: None)),
        Case("an empty value", "undecodable", value(lambda good, f: b"")),
        *(Case(f"value cut to {n} byte(s)", "undecodable", value(lambda good, f, n=n: good[:n])) for n in range(1, 6)),
        Case("value cut in half", "undecodable", value(lambda good, f: good[: len(good) // 2])),
        Case("value missing its last byte", "undecodable", value(lambda good, f: good[:-1])),
        Case("value with a byte too many", "undecodable", value(lambda good, f: good + b"\x00")),
        Case("magic byte 0x01", "undecodable", value(lambda good, f: b"\x01" + good[1:])),
        Case("magic byte 0xff", "undecodable", value(lambda good, f: b"\xff" + good[1:])),
        Case("JSON instead of Avro", "undecodable", value(lambda good, f: b'{"citizenCurp": "GODE561231HDFRRN00"}')),
        Case("Avro body of 0xff bytes", "undecodable", value(lambda good, f: good[:5] + b"\xff" * 200)),
        Case("schema id 0", "unknown-schema", value(schema_id(0))),
        Case("schema id 999999", "unknown-schema", value(schema_id(999_999))),
        Case("schema id 2^31-1", "unknown-schema", value(schema_id(2**31 - 1))),
        Case("schema id 2^32-1", "unknown-schema", value(schema_id(2**32 - 1))),
        Case("an enum index past its symbols", "undecodable", value(lambda good, f: _extra_symbol(f))),
        Case(
            "a uuid field that is no UUID", "undecodable", value(lambda good, f: f.encode(f.data(requestId="no-uuid")))
        ),
        Case("a date out of range", "undecodable", value(lambda good, f: f.encode(f.data(statusSince=10**9)))),
        Case("a timestamp out of range", "undecodable", value(lambda good, f: f.encode(f.data(reportedAt=2**62)))),
    ]


def _signed_value(forge: Forge, make: Callable[[bytes, Forge], bytes | None]) -> Sent:
    data = forge.data()
    good = forge.encode(data)
    value = make(good, forge)
    key = forge.subject_of(data).encode()
    return key, value, forge.sign(forge.headers(data), key, value)


def _extra_symbol(forge: Forge) -> bytes:
    def loosen(schema: dict[str, Any]) -> None:
        for field in schema["fields"]:
            if field["name"] == "standing":
                field["type"]["symbols"] = [*field["type"]["symbols"], "EXTRA1", "EXTRA2"]

    return forge.loose(forge.data(standing="EXTRA2"), loosen)


def _empty_subject(forge: Forge) -> Sent:
    data = forge.data(citizenCurp="")
    value = forge.encode(data)
    headers = replaced(forge.headers(forge.data()), "ce_subject", b"")  # a sender cannot make this envelope
    return b"", value, forge.sign(headers, b"", value)


def _field_cases() -> list[Case]:
    def field(**changes: Any) -> Callable[[Forge], Sent]:
        return lambda f: f.record(f.data(**changes))

    return [
        *(Case(name, "invalid-record", field(citizenCurp=curp)) for name, curp in BAD_CURPS.items()),
        Case("an empty CURP (the subject too)", "bad-envelope", lambda f: _empty_subject(f)),
        *(Case(name, "invalid-record", field(rfc=rfc)) for name, rfc in BAD_RFCS.items()),
        Case("a regime of two digits", "invalid-record", field(regime="61")),
        Case("a regime of letters", "invalid-record", field(regime="ABC")),
        Case("a case id of another shape", "invalid-record", field(caseId="CASE-1")),
        Case("requested by no agency URN", "invalid-record", field(requestedBy="crm")),
        Case(
            "three invalid fields at once",
            "invalid-record",
            field(rfc="GODE561231GR9", regime="6", caseId="CRM-26-1"),
        ),
        Case("the enum's default symbol", APPLIED, field(standing="UNKNOWN")),
        Case("no RFC (null)", APPLIED, field(rfc=None)),
        Case("no status date (null)", APPLIED, field(statusSince=None)),
    ]


def _size_cases() -> list[Case]:
    big = MAX_RECORD_BYTES + 5_000
    return [
        Case("a value over the size cap", "too-large", lambda f: f.record(f.data(purpose="p" * big))),
        Case("an unsigned header over the size cap", "too-large", lambda f: f.tampered(_add("x-big", b"h" * big))),
        Case(
            "a thousand headers over the size cap",
            "too-large",
            lambda f: f.tampered(lambda h: [*h, *((f"x-{i}", b"h" * 80) for i in range(1000))]),
        ),
        Case("a key over the size cap", "too-large", lambda f: _big_key(f, big)),
        Case("a value just under the size cap", APPLIED, lambda f: f.record(f.data(purpose="p" * 60_000))),
        Case(
            "three hundred small unsigned headers",
            APPLIED,
            lambda f: f.tampered(lambda h: [*h, *((f"x-{i}", b"1") for i in range(300))]),
        ),
    ]


def _big_key(forge: Forge, size: int) -> Sent:
    _, value, headers = forge.record()
    return b"k" * size, value, headers


def _odd_header_cases() -> list[Case]:
    return [
        Case(
            "a header name that is not UTF-8",
            "unreadable-record",
            lambda f: f.tampered(_add(RawName(b"\xff\xfe"))),
            alone=True,
        ),
        Case(
            "a ce_ header name that is not UTF-8",
            "unreadable-record",
            lambda f: f.tampered(_add(RawName(b"ce_\xc3\x28"))),
            alone=True,
        ),
        Case("an unsigned header with a NULL value", APPLIED, lambda f: f.tampered(_add("x-proxy", None))),
        Case("an unsigned header that is not UTF-8", APPLIED, lambda f: f.tampered(_add("x-proxy", NOT_UTF8))),
        Case("a header with an empty name", APPLIED, lambda f: f.tampered(_add("", b"x"))),
        Case("a spoofed dead-letter header", APPLIED, lambda f: f.tampered(_add("enlace_dlq_topic", b"mx.gob.other"))),
        Case("a ce_ extension with a bad name", "bad-envelope", lambda f: f.resigned(_add("ce_Bad-Name"))),
        Case("a ce_ extension name of 25 characters", "bad-envelope", lambda f: f.resigned(_add("ce_" + "a" * 25))),
        Case(
            "content-type application/json",
            "bad-envelope",
            lambda f: _resigned_value(f, "content-type", b"application/json"),
        ),
        Case(
            "content-type with parameters",
            "bad-envelope",
            lambda f: _resigned_value(f, "content-type", b"application/avro; charset=utf-8"),
        ),
        Case("ce_specversion 1.0 and a space", "bad-envelope", lambda f: _resigned_value(f, "ce_specversion", b"1.0 ")),
        Case("ce_specversion 0.3", "bad-envelope", lambda f: _resigned_value(f, "ce_specversion", b"0.3")),
        Case(
            "traceparent with an all-zero trace id",
            "bad-envelope",
            lambda f: _resigned_value(f, "traceparent", b"00-00000000000000000000000000000000-b7ad6b7169203331-01"),
        ),
        Case(
            "ce_time without a time zone",
            "bad-envelope",
            lambda f: _resigned_value(f, "ce_time", b"2026-01-01T00:00:00"),
        ),
        Case("ce_time of 100 characters", "bad-envelope", lambda f: _resigned_value(f, "ce_time", b"2" * 100)),
        Case(
            "ce_source with a newline", "bad-envelope", lambda f: _resigned_value(f, "ce_source", b"urn:mx:gob:sat\n")
        ),
        Case("ce_id with a NUL", "bad-envelope", lambda f: _resigned_value(f, "ce_id", b"id\x00")),
        Case("ce_id with a noncharacter", "bad-envelope", lambda f: _resigned_value(f, "ce_id", "id\ufffe".encode())),
        Case("ce_id of 1,000 characters", APPLIED, lambda f: _resigned_value(f, "ce_id", b"i" * 1000)),
        Case("tracestate NULL", "bad-envelope", lambda f: f.resigned(_add("tracestate", None))),
        Case("tracestate empty", APPLIED, lambda f: f.resigned(_add("tracestate", b""))),
    ]


def _resigned_value(forge: Forge, name: str, value: bytes) -> Sent:
    return forge.resigned(lambda h: replaced(h, name, value))


def _handler_cases() -> list[Case]:
    return [
        Case(
            "a record its handler always fails on",
            "handler-failed",
            lambda f: f.record(f.data(requestId=FAILING_REQUEST)),
        ),
        Case("a record its handler refuses", "unhandled-type", lambda f: f.record(f.data(requestId=REFUSED_REQUEST))),
        Case("the same record twice", DUPLICATE, lambda f: _twice(f)),
    ]


def _twice(forge: Forge) -> list[Sent]:
    sent = forge.record()
    return [sent, copy.deepcopy(sent)]


def taxpayer_status_cases() -> list[Case]:
    """The corpus for ``TaxpayerStatusReported`` (keyed by a citizen's CURP, with an RFC and an enum)."""
    return [
        *_header_cases(),
        *_time_cases(),
        *_subject_cases(),
        *_type_cases(),
        *_topic_cases(),
        *_key_cases(),
        *_payload_cases(),
        *_field_cases(),
        *_size_cases(),
        *_odd_header_cases(),
        *_handler_cases(),
    ]


def invoice_cases() -> list[Case]:
    """The corpus for ``InvoiceIssued`` (money as Avro decimals, two RFCs, an enum, a currency code)."""
    from decimal import Decimal

    def widened(field: str, data: dict[str, Any]) -> Callable[[Forge], Sent]:
        def make(forge: Forge) -> Sent:
            def loosen(schema: dict[str, Any]) -> None:
                for spec in schema["fields"]:
                    if spec["name"] == field:
                        kind = spec["type"][1] if isinstance(spec["type"], list) else spec["type"]
                        kind["precision"] = 40  # the real schema allows 18 digits

            return forge.record(forge.data(**data), value=forge.loose(forge.data(**data), loosen))

        return make

    def extra_symbol(forge: Forge) -> Sent:
        def loosen(schema: dict[str, Any]) -> None:
            for spec in schema["fields"]:
                if spec["name"] == "invoiceType":
                    spec["type"]["symbols"] = [*spec["type"]["symbols"], "EXTRA"]

        data = forge.data(invoiceType="EXTRA")
        return forge.record(forge.data(), value=forge.loose(data, loosen))

    nineteen = Decimal("1" * 19 + ".00")
    return [
        Case("a subtotal of 21 digits", "invalid-record", widened("subtotal", {"subtotal": nineteen})),
        Case("taxes of 32 digits", "invalid-record", widened("taxes", {"taxes": Decimal("9" * 30 + ".00")})),
        Case("a total of 21 digits", "invalid-record", widened("total", {"total": nineteen})),
        Case(
            "an exchange rate of 25 digits",
            "invalid-record",
            widened("exchangeRate", {"exchangeRate": Decimal("1" * 19 + ".000000")}),
        ),
        Case("a negative subtotal", APPLIED, lambda f: f.record(f.data(subtotal=Decimal("-5.00")))),
        Case(
            "an issuer RFC with a wrong check digit",
            "invalid-record",
            lambda f: f.record(f.data(issuerRfc="EKU9003173C8")),
        ),
        Case("a receiver RFC in lower case", "invalid-record", lambda f: f.record(f.data(receiverRfc="roma900215ab1"))),
        Case("a currency in lower case", "invalid-record", lambda f: f.record(f.data(currency="mxn"))),
        Case("a currency of four letters", "invalid-record", lambda f: f.record(f.data(currency="MXNN"))),
        Case("an invoice type past its symbols", "undecodable", extra_symbol),
        Case("a folio that is no UUID", "undecodable", lambda f: f.record(f.data(folio="zzz"))),
        Case("an issue time out of range", "undecodable", lambda f: f.record(f.data(issuedAt=2**62))),
    ]
