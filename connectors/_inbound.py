"""From Kafka bytes back to a typed record: size, envelope, place, time, sender's rights, decoding,
opening the encrypted fields, validation, subject.

Each check that fails raises :class:`Refused` with the reason its dead letter carries; a failure
outside the record (the registry unreachable) raises :class:`Transient`, so the record is tried again
instead of being dead-lettered.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bus import EnlaceError, PolicyViolation, SchemaError, TransportError, ValidationError
from bus._built import record_size
from bus.codec import Codec, UnknownSchemaId
from bus.encryption import ENCRYPTION_HEADER, CannotDecrypt, FieldEncryption, RecordIdentity
from bus.envelope import Envelope
from bus.identity import TrustedKey
from bus.records import Catalog, RecordType, check
from bus.transport import Record

__all__ = ["Inbound", "Limits", "Refused", "Transient", "is_transient"]


class Refused(Exception):
    """A record that can never succeed; ``reason`` is the dead letter's reason slug."""

    def __init__(self, reason: str, error: BaseException) -> None:
        super().__init__(f"{reason}: {type(error).__name__}")
        self.reason, self.error = reason, error


class Transient(Exception):
    """The record could not be read for a reason outside it (the registry or Kafka unreachable):
    it is tried again, never dead-lettered for it."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.error = error


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is about the infrastructure rather than the record: a retriable Kafka error, or
    a registry answering 5xx or not at all."""
    if isinstance(error, TransportError):
        return error.retriable
    return isinstance(error, SchemaError) and getattr(error, "http_status", 0) >= 500


@dataclass(frozen=True)
class Limits:
    """What a receiver accepts (from ``ENLACE_MAX_RECORD_BYTES``, ``ENLACE_MAX_CLOCK_SKEW_S``,
    ``ENLACE_MAX_RECORD_AGE_S``)."""

    max_record_bytes: int
    max_clock_skew_s: float
    max_record_age_s: float


# Refusals worded here, each naming its rule and never a value; their class names travel in dead
# letters (``enlace_dlq_error_class``).
class RecordTooLarge(EnlaceError):
    """The record is larger than this receiver accepts."""


class MisplacedRecord(EnlaceError):
    """The record's type belongs on another topic than the one it was read from."""


class OutOfWindow(EnlaceError):
    """The record's ``ce_time`` is too far in the future or too far in the past."""


class SubjectMismatch(EnlaceError):
    """The record's key field is not its ``ce_subject``, or the Kafka key is not its key field."""


class SchemaTypeMismatch(EnlaceError):
    """The payload's schema is not a version of the record type ``ce_type`` names."""


class Inbound:
    """Reads records for one subscription.

    Args:
        codec: decodes the Confluent wire format through the registry.
        catalog: the shared records; a record type is found by the envelope's ``ce_type``.
        readers: the record types the subscriber asked for (its own versions), by full name; other
            records on a subscribed topic are read with the writer's version from the catalog.
        limits: the size and time window records must fit.
        topic_prefix: put before every record topic (``ENLACE_TOPIC_PREFIX``).
        encryption: opens the fields the policy encrypts with the receiving agency's keyring; None
            leaves them as they arrived (sealed).
    """

    def __init__(
        self,
        *,
        codec: Codec,
        catalog: Catalog,
        readers: dict[str, RecordType],
        limits: Limits,
        topic_prefix: str = "",
        encryption: FieldEncryption | None = None,
    ) -> None:
        self._codec, self._catalog, self._readers = codec, catalog, readers
        self._encryption = encryption
        self._limits, self._topic_prefix = limits, topic_prefix
        self._skew = timedelta(seconds=limits.max_clock_skew_s)
        self._by_type: dict[str, RecordType] = {}
        self._writes_type: dict[tuple[int, str], bool] = {}

    # -- before the signature ----------------------------------------------------------------------
    def check_size(self, record: Record) -> None:
        """Refuse a record larger than ``max_record_bytes`` (key, value, header names and values)."""
        size = record_size(record.key, record.value, record.headers)
        if size > self._limits.max_record_bytes:
            raise Refused(
                "too-large",
                RecordTooLarge(
                    f"record is {size} bytes (key, value and headers), over the {self._limits.max_record_bytes} "
                    "this receiver accepts (ENLACE_MAX_RECORD_BYTES)"
                ),
            )

    def envelope(self, record: Record) -> Envelope:
        if record.value is None:
            raise Refused("empty-record", EnlaceError("record has no value (a tombstone on a data topic)"))
        try:
            return Envelope.from_headers(record.headers or [])
        except EnlaceError as exc:
            raise Refused("bad-envelope", exc) from exc

    # -- after the signature -----------------------------------------------------------------------
    def record_type(self, envelope: Envelope) -> RecordType:
        """The reader's version of the record named by ``ce_type``: the subscriber's own version, else the
        writer's version from the catalog (else the catalog's latest)."""
        record_type = self._by_type.get(envelope.type)
        if record_type is None:
            record_type = self._readers.get(envelope.record_name) or self._from_catalog(envelope)
            if len(self._by_type) < 1024:  # made-up types must not grow this without bound
                self._by_type[envelope.type] = record_type
        return record_type

    def _from_catalog(self, envelope: Envelope) -> RecordType:
        try:
            return self._catalog.get(envelope.record_name, envelope.record_version)
        except SchemaError:
            pass
        try:
            return self._catalog.get(envelope.record_name)
        except SchemaError as exc:
            raise Refused("unknown-type", exc) from exc

    def check_place(self, envelope: Envelope, record: Record) -> None:
        """Refuse a record of a type whose topic is not the one it was read from."""
        record_type = self.record_type(envelope)
        expected = self._topic_prefix + (record_type.topic or "")
        if record.topic != expected:
            raise Refused(
                "wrong-topic",
                MisplacedRecord(
                    f"a {record_type.full_name} belongs on {expected or 'no topic (a shared type)'}, "
                    f"not on {record.topic}"
                ),
            )

    def check_time(self, envelope: Envelope, trusted: TrustedKey | None, now: datetime) -> None:
        """Refuse a record dated too far ahead of this receiver's clock, older than the records the
        store can still recognise, or outside its signing key's validity."""
        moment = _moment(envelope.time or "")
        if moment > now + self._skew:
            raise Refused(
                "future-time",
                OutOfWindow(
                    f"ce_time is {(moment - now).total_seconds():.0f}s ahead of this receiver's clock, more than "
                    f"the {self._limits.max_clock_skew_s:.0f}s allowed (ENLACE_MAX_CLOCK_SKEW_S)"
                ),
            )
        age = (now - moment).total_seconds()
        if age > self._limits.max_record_age_s:
            raise Refused(
                "stale",
                OutOfWindow(
                    f"ce_time is {age / 86400:.1f} days old, older than the "
                    f"{self._limits.max_record_age_s / 86400:.1f} days a record may be (ENLACE_MAX_RECORD_AGE_S): "
                    "it could be a replay of a record applied long ago"
                ),
            )
        if trusted is not None:
            trusted.check_signed_at(moment, skew=self._skew)

    def check_sender(self, sender: str, envelope: Envelope) -> None:
        """Refuse a record of a namespace the policy does not give to its (verified) sender."""
        record_type = self.record_type(envelope)
        if record_type.owner and record_type.owner != sender:
            raise Refused(
                "not-allowed",
                PolicyViolation(
                    f"{sender} may not publish {record_type.full_name}: the policy gives {record_type.namespace} "
                    f"to {record_type.owner}",
                    rule="policy.owner",
                    subject=record_type.subject,
                ),
            )

    # -- the payload -------------------------------------------------------------------------------
    def decode(self, envelope: Envelope, record: Record) -> Any:
        """The typed record (a generated model instance), decoded with the reader's own version, its key
        field checked against ``ce_subject`` and the Kafka key."""
        record_type = self.record_type(envelope)
        assert record.value is not None  # envelope() refused a record without one
        try:
            self._check_writer(envelope, record.value)
            data = self._codec.decode(record.value, record_type)
        except Refused:
            raise
        except UnknownSchemaId as exc:
            raise Refused("unknown-schema", exc) from exc
        except SchemaError as exc:
            if is_transient(exc):
                raise Transient(exc) from exc
            raise Refused("undecodable", exc) from exc
        data = self._open(record_type, envelope, record, data)
        value: Any
        try:
            model = record_type.model
            if model is not None:
                value = model.from_avro(data)  # checks types and domain rules, as check() does
                subject = value.key()
            else:
                check(record_type, data)
                value, subject = data, record_type.key_of(data)
        except ValidationError as exc:
            raise Refused("invalid-record", exc) from exc
        if subject != envelope.subject or record.key != subject.encode():
            field = record_type.key_field or "key"
            raise Refused(
                "subject-mismatch",
                SubjectMismatch(
                    f"the record's {field} is not its ce_subject"
                    if subject != envelope.subject
                    else f"the Kafka key is not the record's {field}"
                ),
            )
        return value

    def _open(self, record_type: RecordType, envelope: Envelope, record: Record, data: Any) -> Any:
        """The decrypt-fields step: the fields ``enlace_encryption`` lists opened, before validation."""
        if self._encryption is None:
            return data
        found = [value for name, value in record.headers or () if name == ENCRYPTION_HEADER]
        try:
            if len(found) > 1:
                raise CannotDecrypt(f"the record carries {len(found)} {ENCRYPTION_HEADER} headers, not one")
            identity = RecordIdentity(envelope.id, envelope.type, record.topic)
            return self._encryption.open(record_type, data, found[0] if found else None, identity)
        except CannotDecrypt as exc:
            raise Refused(exc.reason, exc) from exc

    def _check_writer(self, envelope: Envelope, payload: bytes) -> None:
        """Refuse a payload whose schema id is not a version of ``ce_type``'s record (or, when this
        receiver knows the version ``ce_type`` names, not that version)."""
        schema_id = self._codec.writer_id(payload)
        known = self._writes_type.get((schema_id, envelope.type))
        if known is None:
            writer = self._codec.writer_schema(schema_id)
            known = writer.get("name") == envelope.record_name
            if known and envelope.record_version is not None:
                try:
                    named = self._catalog.get(envelope.record_name, envelope.record_version)
                except SchemaError:
                    pass  # a version newer than this receiver's catalog: the name must do
                else:
                    known = self._registered_as(named) == schema_id
            if len(self._writes_type) < 4096:
                self._writes_type[(schema_id, envelope.type)] = known
        if not known:
            raise Refused(
                "schema-type-mismatch",
                SchemaTypeMismatch(
                    f"the payload's schema id {schema_id} is not a registered version of {envelope.type}"
                ),
            )

    def _registered_as(self, record_type: RecordType) -> int | None:
        """The registry's id of this receiver's copy of a version; None when the registry has no such version."""
        try:
            return self._codec.schema_id(record_type)
        except SchemaError as exc:
            if is_transient(exc):
                raise
            return None


@functools.lru_cache(maxsize=1024)  # records sent in the same millisecond share their ce_time
def _moment(text: str) -> datetime:
    """``ce_time`` as a UTC datetime (the envelope checked it is RFC 3339 with an offset); a time that
    falls outside what a datetime holds once in UTC (``0001-01-01T00:00:00+14:00``) is the earliest
    or latest one."""
    moment = datetime.fromisoformat(text)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC) if moment.year < 5000 else datetime.max.replace(tzinfo=UTC)
