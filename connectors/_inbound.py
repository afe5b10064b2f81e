"""From Kafka bytes back to a typed record: envelope, sender's rights, decoding, validation.

Each step that fails raises :class:`Refused` with the reason slug its dead letter carries.
"""

from __future__ import annotations

from typing import Any

from bus import EnlaceError, PolicyViolation, SchemaError, ValidationError
from bus.codec import Codec
from bus.envelope import Envelope
from bus.records import Catalog, RecordType, check

__all__ = ["Inbound", "Refused"]


class Refused(Exception):
    """A record that can never succeed; ``reason`` is the dead letter's reason slug."""

    def __init__(self, reason: str, error: BaseException) -> None:
        super().__init__(f"{reason}: {error}")
        self.reason, self.error = reason, error


class Inbound:
    """Reads records for one subscription.

    Args:
        codec: decodes the Confluent wire format through the registry.
        catalog: the shared records; a record type is found by the envelope's ``ce_type``.
        readers: the record types the subscriber asked for (its own versions), by full name; other
            records on a subscribed topic are read with the writer's version from the catalog.
    """

    def __init__(self, *, codec: Codec, catalog: Catalog, readers: dict[str, RecordType]) -> None:
        self._codec, self._catalog, self._readers = codec, catalog, readers
        self._by_type: dict[str, RecordType] = {}

    def envelope(self, headers: list[tuple[str, bytes]], record: Any) -> Envelope:
        if record.value is None:
            raise Refused("empty-record", EnlaceError("record has no value (a tombstone on a data topic)"))
        try:
            return Envelope.from_headers(headers)
        except EnlaceError as exc:
            raise Refused("bad-envelope", exc) from exc

    def record_type(self, envelope: Envelope) -> RecordType:
        """The reader's version of the record named by ``ce_type``: the subscriber's own version, else the
        writer's version from the catalog (else the catalog's latest)."""
        record_type = self._by_type.get(envelope.type)
        if record_type is None:
            record_type = self._readers.get(envelope.record_name) or self._from_catalog(envelope)
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

    def decode(self, envelope: Envelope, record: Any) -> Any:
        """The typed record (a generated model instance), decoded with the reader's own version."""
        record_type = self.record_type(envelope)
        try:
            data = self._codec.decode(record.value, record_type)
        except SchemaError as exc:
            raise Refused("undecodable", exc) from exc
        try:
            model = record_type.model
            if model is not None:
                return model.from_avro(data)  # checks types and domain rules, as check() does
            check(record_type, data)
            return data
        except ValidationError as exc:
            raise Refused("invalid-record", exc) from exc
