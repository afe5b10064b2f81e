"""The envelope: CloudEvents 1.0 attributes of a record, carried in Kafka headers (binary mode).

::

    from bus.envelope import Envelope, new_envelope, kafka_key
    env = new_envelope(case, source="urn:mx:gob:crm", subject=case.key_of(data), traceparent=tp)
    producer.send(case.topic, key=kafka_key(case, data), value=payload, headers=env.to_headers())
    ...
    env = Envelope.from_headers(message.headers)     # EnvelopeError names a missing/bad header

- Headers: ``ce_specversion`` (1.0), ``ce_id`` (unique per source: :func:`new_event_id`, one
  random UUID per process numbered by a counter), ``ce_source`` (the agency URN),
  ``ce_type`` (``mx.gob.crm.CaseOpened.v2``), ``ce_time`` (RFC 3339, UTC, milliseconds),
  ``ce_subject`` (the record's key: a CURP, an RFC, a case id), ``ce_dataschema``
  (``urn:enlace:schema:<subject>:<version>``), ``content-type`` (``application/avro``), W3C
  ``traceparent``/``tracestate``, and every extension as ``ce_<name>`` (``ce_dataclassification``,
  which defaults to the record's most protected field classification; ``ce_correlationid``). The
  signature and key id are not CloudEvents attributes: ``bus.identity`` adds them as
  ``enlace_signature`` and ``enlace_keyid``.
- ``from_headers`` requires :data:`REQUIRED_HEADERS`, refuses repeated, non-UTF-8 or malformed ones
  (``EnvelopeError``, a ``ValidationError`` whose ``path`` is the header name and ``rule``
  ``envelope.missing`` / ``envelope.malformed``), and ignores headers that are not its own.
- The Kafka key is the record's subject: ``kafka_key(record_type, data)``.
"""

from bus.envelope._envelope import (
    CONTENT_TYPE_AVRO,
    REQUIRED_HEADERS,
    SPEC_VERSION,
    Envelope,
    EnvelopeError,
    dataschema_uri,
    event_type,
    kafka_key,
    new_envelope,
    new_event_id,
)

__all__ = [
    "CONTENT_TYPE_AVRO",
    "REQUIRED_HEADERS",
    "SPEC_VERSION",
    "Envelope",
    "EnvelopeError",
    "dataschema_uri",
    "event_type",
    "kafka_key",
    "new_envelope",
    "new_event_id",
]
