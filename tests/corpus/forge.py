"""How the corpus makes records a hostile or broken sender would: real envelopes, real signatures,
real Confluent wire format on the session's registry, then one thing wrong.

A :class:`Forge` is made once per run; every case asks it for a record (``key, value, headers``) and
changes what it wants. Records it signs are signed the way the connector signs (``sign_headers``,
signed form 2) by keys published in the test's trust topic, so each case fails for its own reason
only.
"""

from __future__ import annotations

import copy
import io
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import fastavro

from bus.codec import Codec
from bus.envelope import new_envelope
from bus.identity import AgencyKey, sign_headers
from bus.records import RecordType, catalog

Header = tuple[str, bytes | None]
Sent = tuple[bytes | None, bytes | None, list[Header]]  # key, value, headers

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
NOT_UTF8 = b"\xc3\x28 not UTF-8"
BINARY = (42).to_bytes(8, "big")  # a number where text belongs: control characters as text
APPLIED = "applied"


class RawName(str):
    """A header name that reaches the wire as arbitrary bytes (kafka-python encodes names with
    ``str.encode``): what a client that allows any bytes in a header name (librdkafka does) can send."""

    def __new__(cls, raw: bytes) -> RawName:
        made = super().__new__(cls, raw.decode("latin-1"))
        made._raw = raw
        return made

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:  # type: ignore[override]
        return self._raw


class _NullValue(bytes):
    """A NULL header value on its way through kafka-python's ``send``, which refuses None."""


_NULL = _NullValue()


class HostileProducer:
    """A client that writes what Kafka's record format allows but kafka-python's ``send`` refuses:
    NULL header values (the Java client and librdkafka write them), and any bytes as a header name
    (:class:`RawName`).

    kafka-python's record builder writes a NULL header value; only ``send`` refuses one. Sends are
    made with a stand-in value that the builder is given back as None (``monkeypatch`` undoes that
    at the end of the test).
    """

    def __init__(self, settings: dict[str, Any], monkeypatch: Any, **config: Any) -> None:
        from kafka import KafkaProducer
        from kafka.record.memory_records import MemoryRecordsBuilder

        append = MemoryRecordsBuilder.append

        def append_with_nulls(self: Any, timestamp: Any, key: Any, value: Any, headers: Any = None) -> Any:
            if headers and any(v is _NULL for _, v in headers):
                headers = [(n, None if v is _NULL else v) for n, v in headers]
            return append(self, timestamp, key, value, headers)

        monkeypatch.setattr(MemoryRecordsBuilder, "append", append_with_nulls)
        self._producer = KafkaProducer(**settings, acks="all", **config)

    def send(self, topic: str, *, key: bytes | None, value: bytes | None, headers: list[Header]) -> Any:
        """Send one record; returns kafka-python's future (``.get(timeout)`` gives its metadata)."""
        on_wire = [(n, _NULL if v is None else v) for n, v in headers]
        return self._producer.send(topic, key=key, value=value, headers=on_wire)

    def flush(self, timeout: float) -> None:
        self._producer.flush(timeout=timeout)

    def close(self) -> None:
        self._producer.close()


def replaced(headers: list[Header], name: str, value: bytes | None) -> list[Header]:
    return [(n, value if n == name else v) for n, v in headers]


def dropped(headers: list[Header], name: str) -> list[Header]:
    return [(n, v) for n, v in headers if n != name]


def doubled(headers: list[Header], name: str) -> list[Header]:
    return [*headers, *((n, v) for n, v in headers if n == name)]


@dataclass
class Forge:
    """Makes one run's records.

    Attributes:
        topic: the topic every record is sent to (and signed for, unless a case says otherwise).
        record_type: the record type the topic carries.
        codec: the wire format on the session's registry.
        keys: signing keys by role (``sender``: the owner's published key; ``other``: another
            agency's published key; ``unknown``, ``revoked``, ``expired``, ``not_yet_valid``,
            ``fresh``: the owner's keys in those states).
        sender: the owner agency's URN.
        example: the record type's example (Avro dict) every record starts from.
    """

    topic: str
    record_type: RecordType
    codec: Codec
    keys: dict[str, AgencyKey]
    sender: str
    example: dict[str, Any] = field(default_factory=dict)
    _numbers: Any = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.example = self.example or self.record_type.example()

    # -- payloads ----------------------------------------------------------------------------------
    def data(self, **changes: Any) -> dict[str, Any]:
        """The example with ``changes`` (Avro field names and values)."""
        return {**copy.deepcopy(self.example), **changes}

    def encode(self, data: Mapping[str, Any], record_type: RecordType | None = None) -> bytes:
        """Confluent wire format of ``data`` as ``record_type`` (the topic's by default)."""
        return self.codec.encode(record_type or self.record_type, dict(data))

    def schema_id(self, record_type: RecordType | None = None) -> int:
        return self.codec.schema_id(record_type or self.record_type)

    def loose(self, data: Mapping[str, Any], loosen: Callable[[dict[str, Any]], None]) -> bytes:
        """A payload under the topic's real schema id, written with a copy of its schema that
        ``loosen`` changed (an enum with more symbols...): what a writer with another idea of the
        schema produces."""
        schema = copy.deepcopy(self.record_type.schema)
        loosen(schema)
        parsed = fastavro.parse_schema(schema, catalog().shared_named_schemas())
        buffer = io.BytesIO()
        buffer.write(b"\x00" + self.schema_id().to_bytes(4, "big"))
        fastavro.schemaless_writer(buffer, parsed, dict(data))
        return buffer.getvalue()

    # -- envelopes and signatures ------------------------------------------------------------------
    def headers(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        record_type: RecordType | None = None,
        subject: str | None = None,
        time: datetime | str | None = None,
        source: str | None = None,
        event_type: str | None = None,
    ) -> list[Header]:
        """The envelope headers a sender makes for ``data`` (unsigned)."""
        record_type = record_type or self.record_type
        data = data if data is not None else self.data()
        envelope = new_envelope(
            record_type,
            source=source or self.sender,
            subject=subject if subject is not None else self.subject_of(data, record_type),
            traceparent=TRACEPARENT,
            time=time,
        )
        headers: list[Header] = list(envelope.to_headers())
        if event_type is not None:
            headers = replaced(headers, "ce_type", event_type.encode())
        return headers

    def subject_of(self, data: Mapping[str, Any], record_type: RecordType | None = None) -> str:
        value = (record_type or self.record_type).key_of(dict(data))
        return value

    def sign(
        self,
        headers: list[Header],
        key: bytes | None,
        value: bytes | None,
        *,
        by: str = "sender",
        topic: str | None = None,
    ) -> list[Header]:
        return sign_headers(self.keys[by], headers, key, value, topic=topic or self.topic)

    def record(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        value: bytes | None = None,
        key: bytes | None = None,
        by: str = "sender",
        topic: str | None = None,
        record_type: RecordType | None = None,
        **envelope: Any,
    ) -> Sent:
        """A record signed by ``by`` for ``topic``: ``data`` encoded (or ``value`` as given), keyed by its subject."""
        data = data if data is not None else self.data()
        record_type = record_type or self.record_type
        subject = envelope.get("subject")
        subject = subject if subject is not None else self.subject_of(data, record_type)
        value = value if value is not None else self.encode(data, record_type)
        key = key if key is not None else subject.encode()
        headers = self.headers(data, record_type=record_type, **envelope)
        return key, value, self.sign(headers, key, value, by=by, topic=topic)

    def tampered(self, change: Callable[[list[Header]], list[Header]]) -> Sent:
        """A good record whose headers ``change`` alters after signing."""
        key, value, headers = self.record()
        return key, value, change(headers)

    def resigned(self, change: Callable[[list[Header]], list[Header]], *, by: str = "sender") -> Sent:
        """A record whose envelope headers ``change`` alters before the sender signs them."""
        data = self.data()
        key, value = self.subject_of(data).encode(), self.encode(data)
        return key, value, self.sign(change(self.headers(data)), key, value, by=by)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def ago(self, **delta: float) -> datetime:
        return self.now() - timedelta(**delta)

    def ahead(self, **delta: float) -> datetime:
        return self.now() + timedelta(**delta)
