"""Shared records to Kafka message values and back, in the Confluent wire format.

``0x00 | schema id (4 bytes, big-endian) | Avro binary (fastavro's schemaless encoding)``::

    from bus.codec import Codec, InMemorySchemaSource
    from bus.records import catalog

    codec = Codec(InMemorySchemaSource())          # or the registry's HTTP client
    case = catalog().get("CaseOpened")              # the writer's version
    payload = codec.encode(case, data)              # the schema id is looked up once, then cached
    record = codec.decode(payload, catalog().get("CaseOpened", 1))   # read as v1: resolved
    model = codec.decode_model(payload, CaseOpenedV1)                # or straight into a model

- ``SchemaSource`` is the protocol a registry client satisfies: ``schema_by_id(id) -> dict`` and
  ``id_for(subject, schema) -> int`` (register or look up). The codec hands ``id_for`` the record's
  subject (its full name, RecordNameStrategy) and ``RecordType.schema``, which names shared types
  (``mx.gob.common.Person``) without defining them: register ``RecordType.references()`` first.
  Names a writer schema uses without defining are resolved against the catalog.
- Decoding resolves the writer's schema to the reader's version by the Avro specification's rules:
  a v1 reader reads a v2 record (new fields dropped, unknown enum symbols become the enum default)
  and a v2 reader reads a v1 record (new fields get their defaults).
- Errors, all ``SchemaError``: ``TruncatedPayload``, ``BadMagicByte``, ``UnknownSchemaId``,
  ``PayloadMismatch`` (bytes that do not match the writer's schema), ``IncompatibleSchema``. A record
  that does not fit its schema on encoding is a ``ValidationError`` listing every problem.
- The per-message path does no parsing, logging or I/O: schema ids, parsed writer schemas and
  reader plans are cached in the ``Codec`` (share one per process).
"""

from bus.codec._codec import MAGIC_BYTE, Codec
from bus.codec._errors import (
    BadMagicByte,
    IncompatibleSchema,
    PayloadMismatch,
    TruncatedPayload,
    UnknownSchemaId,
)
from bus.codec._source import InMemorySchemaSource, SchemaSource

__all__ = [
    "MAGIC_BYTE",
    "BadMagicByte",
    "Codec",
    "InMemorySchemaSource",
    "IncompatibleSchema",
    "PayloadMismatch",
    "SchemaSource",
    "TruncatedPayload",
    "UnknownSchemaId",
]
