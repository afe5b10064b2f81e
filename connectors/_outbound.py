"""From a typed record to Kafka bytes: policy, validation, encryption of the fields the policy
encrypts, encoding, envelope.

Everything here happens before anything is sent, so a refused record never reaches Kafka. The
signature comes after, when the records sent together are known (``connectors/_batches.py``): the
size check leaves room for the signature headers of a batch of ``batch_records``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bus import PolicyViolation, ValidationError
from bus._built import record_size
from bus.codec import Codec
from bus.encryption import ENCRYPTION_HEADER, FieldEncryption, RecordIdentity
from bus.envelope import event_type, new_envelope, new_event_id
from bus.identity import AgencyKey, signing_overhead
from bus.records import Catalog, RecordType, check
from bus.tracing import SendSpan, Telemetry

__all__ = ["Outbound", "Prepared"]

# Per record batch and record framing on top of key, value and headers (Kafka's v2 record format).
_FRAMING_BYTES = 128


def _check(record_type: RecordType, data: dict[str, Any]) -> None:
    """Refuse an invalid record, every problem named by its field path.

    A record type with a generated model is checked by the model's validator, in strict mode: the same
    types and domain rules as ``bus.records.check`` (the models are generated from the same schemas, and
    receivers check records with them), compiled once instead of walked per record.
    """
    model = record_type.model
    if model is None:
        check(record_type, data)
    else:
        model.from_avro(data, strict=True)


@dataclass(frozen=True)
class Prepared:
    """A record ready to send."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    ce_id: str
    span: SendSpan


class Outbound:
    """Prepares one agency's records for sending."""

    def __init__(
        self,
        *,
        agency: str,
        codec: Codec,
        catalog: Catalog,
        signing_key: AgencyKey | None,
        telemetry: Telemetry,
        size_limit: Callable[[str], int],
        topic_prefix: str = "",
        encryption: FieldEncryption | None = None,
        batch_records: int = 1,
    ) -> None:
        self._agency, self._codec, self._catalog = agency, codec, catalog
        self._encryption = encryption
        self._signing_key, self._telemetry, self._size_limit = signing_key, telemetry, size_limit
        self._batch_records = batch_records
        self._topic_prefix = topic_prefix
        self._topics: dict[RecordType, str] = {}  # the policy is fixed for the process: checked once per type

    def record_type(self, record: Any) -> RecordType:
        """The catalog entry of a typed record (a generated model instance)."""
        return self._catalog.for_model(type(record))

    def prepare_record(self, record: Any, *, ce_id: str | None = None) -> Prepared:
        """:meth:`prepare` for a typed record (a generated model instance), validated once.

        A model built by validation is known valid (``RecordModel.checked``: frozen, lists and maps
        that refuse changes, ``model_copy(update=...)`` validated), so it is not checked again; one
        made with ``model_construct`` is checked here as a dict would be.

        Raises:
            The errors of :meth:`prepare`.
        """
        record_type = self.record_type(record)
        return self.prepare(record_type, record.to_avro(), ce_id=ce_id, checked=record.checked)

    def prepare(
        self, record_type: RecordType, data: dict[str, Any], *, ce_id: str | None = None, checked: bool = False
    ) -> Prepared:
        """Check, encrypt, encode, wrap; ``ce_id`` is the caller's (an outbox resending a record) or new.

        Validation runs on the clear values; the fields the policy encrypts are then sealed for the
        record's readers (``bus.encryption``), their wrapped data keys in the signed header
        ``enlace_encryption``. The record is not signed yet: it is signed with the records sent with
        it (``sign_batch``). ``checked`` says ``data`` is the Avro dict of a model known valid.

        Raises:
            PolicyViolation: this agency may not publish the record, or it has no topic, or a field the
                policy encrypts cannot be (its type, or a reader without an encryption key).
            ValidationError: the record breaks a type or domain rule, or is too large for its topic.
            SchemaError: the registry does not know the record's schema.
        """
        topic = self._topic_of(record_type)
        if not checked:
            _check(record_type, data)
        subject = record_type.key_of(data)
        key = subject.encode()
        ce_id = ce_id or new_event_id()
        data, sealed = self._seal(record_type, data, RecordIdentity(ce_id, event_type(record_type), topic))
        value = self._codec.encode(record_type, data)
        span = self._telemetry.start_send(topic, key=key, message_id=ce_id)
        envelope = new_envelope(
            record_type,
            source=self._agency,
            subject=subject,
            id=ce_id,
            traceparent=span.traceparent,
            tracestate=span.tracestate,
        )
        headers = envelope.to_headers()
        if sealed is not None:
            headers.append((ENCRYPTION_HEADER, sealed))
        self._check_size(record_type, topic, key, value, headers, span)
        return Prepared(topic, key, value, headers, envelope.id, span)

    def _seal(
        self, record_type: RecordType, data: dict[str, Any], identity: RecordIdentity
    ) -> tuple[dict[str, Any], bytes | None]:
        """The encrypt-fields step: ``data`` with its encrypted fields sealed, and the header's value."""
        if self._encryption is None:
            return data, None
        return self._encryption.seal(record_type, data, identity)

    def _topic_of(self, record_type: RecordType) -> str:
        topic = self._topics.get(record_type)
        if topic is None:
            topic = self._topics[record_type] = self._check_allowed(record_type)
        return topic

    def _check_allowed(self, record_type: RecordType) -> str:
        if record_type.topic is None:
            raise PolicyViolation(
                f"{record_type.full_name} is a shared type, not a record that has a topic",
                rule="publish.topic",
                subject=record_type.subject,
            )
        if record_type.owner and record_type.owner != self._agency:
            raise PolicyViolation(
                f"{self._agency} may not publish {record_type.full_name}: the policy gives its namespace "
                f"{record_type.namespace} to {record_type.owner}",
                rule="policy.owner",
                subject=record_type.subject,
            )
        return self._topic_prefix + record_type.topic

    def _check_size(
        self,
        record_type: RecordType,
        topic: str,
        key: bytes | None,
        value: bytes,
        headers: list[tuple[str, bytes]],
        span: SendSpan,
    ) -> None:
        size = record_size(key, value, headers) + _FRAMING_BYTES
        if self._signing_key is not None:
            size += signing_overhead(topic, batch_records=self._batch_records)
        limit = self._size_limit(topic)
        if size > limit:
            error = ValidationError(
                f"{record_type.full_name} record is {size} bytes with its headers, over the {limit} bytes "
                f"topic {topic} accepts (max.message.bytes)",
                record=record_type.full_name,
                path="",
                rule="size.max_message_bytes",
                value=size,
            )
            span.finish(error=error)
            raise error
