"""Records to bytes and back in the Confluent wire format.

``0x00 | schema id (4 bytes, big-endian) | Avro binary`` — the framing Confluent's serializers and
every Kafka tool expect. Decoding resolves the writer's schema to the reader's version by the Avro
specification's "Schema Resolution" rules (https://avro.apache.org/docs/1.12.0/specification/#schema-resolution).
"""

from __future__ import annotations

import io
import json
from typing import Any, TypeVar, cast

import fastavro
from fastavro.read import SchemaResolutionError

from bus._errors import SchemaError, ValidationError
from bus.codec._errors import (
    BadMagicByte,
    IncompatibleSchema,
    PayloadMismatch,
    TruncatedPayload,
    UnknownSchemaId,
)
from bus.codec._source import SchemaSource
from bus.records import Catalog, RecordModel, RecordType, catalog, validate

__all__ = ["MAGIC_BYTE", "Codec"]

MAGIC_BYTE = 0
_HEADER_SIZE = 5
_ModelT = TypeVar("_ModelT", bound=RecordModel)


class Codec:
    """Encode and decode shared records through a schema source (a registry).

    Schema ids are looked up once per (subject, schema) and writer schemas parsed once per id; after
    that a message costs one dict look-up plus fastavro's own work.

    Args:
        source: where schema ids come from (``InMemorySchemaSource`` or the registry client).
        catalog: resolves shared-type names in writer schemas; the configured catalog when None.
    """

    def __init__(self, source: SchemaSource, *, catalog: Catalog | None = None) -> None:
        self.source = source
        self._catalog = catalog
        self._ids: dict[tuple[str, str], int] = {}
        self._encoders: dict[RecordType, tuple[bytes, dict[str, Any]]] = {}
        self._writers: dict[int, dict[str, Any]] = {}
        self._readers: dict[tuple[int, RecordType], tuple[dict[str, Any], dict[str, Any] | None]] = {}

    # --- encoding --------------------------------------------------------------------------------

    def encode(self, record_type: RecordType, data: dict[str, Any]) -> bytes:
        """Encode one record in the wire format.

        The record should have passed ``bus.records.check`` (publishers do); the encoder still refuses
        fields the schema does not know and required fields that are missing.

        Args:
            record_type: the record's type and version (the writer schema).
            data: the record as the Avro dict.

        Returns:
            ``0x00``, the schema id (4 bytes, big-endian), the Avro binary.

        Raises:
            ValidationError: the record does not fit the schema (every problem in ``.problems``).
        """
        encoder = self._encoders.get(record_type)
        if encoder is None:
            encoder = self._prepare_encoder(record_type)
        header, parsed = encoder
        buffer = io.BytesIO()
        buffer.write(header)
        try:
            fastavro.schemaless_writer(buffer, parsed, data, strict_allow_default=True)
        except Exception as exc:  # fastavro raises ValueError, TypeError, KeyError... on a bad record
            raise _encoding_error(record_type, data, exc) from exc
        return buffer.getvalue()

    def encode_model(self, model: RecordModel) -> bytes:
        """Encode a generated model instance (its own version is the writer schema)."""
        return self.encode(self._catalog_().for_model(type(model)), model.to_avro())

    def schema_id(self, record_type: RecordType) -> int:
        """The id of a record type's schema in the source, registered on first use."""
        key = (record_type.subject, record_type.fingerprint)
        schema_id = self._ids.get(key)
        if schema_id is None:
            schema_id = self.source.id_for(record_type.subject, record_type.schema)
            self._ids[key] = schema_id
        return schema_id

    def _prepare_encoder(self, record_type: RecordType) -> tuple[bytes, dict[str, Any]]:
        schema_id = self.schema_id(record_type)
        encoder = (bytes([MAGIC_BYTE]) + schema_id.to_bytes(4, "big"), record_type.parsed)
        self._encoders[record_type] = encoder
        return encoder

    # --- decoding --------------------------------------------------------------------------------

    def writer_id(self, payload: bytes) -> int:
        """The schema id a payload was written with.

        Raises:
            TruncatedPayload: fewer than 5 bytes.
            BadMagicByte: the first byte is not 0x00.
        """
        if len(payload) < _HEADER_SIZE:
            raise TruncatedPayload(
                f"payload has {len(payload)} byte(s); the wire format needs at least 5 "
                "(magic byte 0x00 and a 4-byte schema id)"
            )
        if payload[0] != MAGIC_BYTE:
            raise BadMagicByte(
                f"payload starts with byte 0x{payload[0]:02x}, expected 0x00: "
                "not in the Confluent wire format (magic byte, schema id, Avro binary)"
            )
        return int.from_bytes(payload[1:_HEADER_SIZE], "big")

    def decode(self, payload: bytes, reader: RecordType) -> dict[str, Any]:
        """Decode one record, resolving the writer's schema to the reader's version.

        Args:
            payload: the Kafka message value.
            reader: the record type and version the caller understands.

        Returns:
            The record as the reader's Avro dict: fields the writer lacked get the reader's defaults,
            enum symbols the reader lacks become its enum default.

        Raises:
            TruncatedPayload: the payload ended before the header or the record was complete.
            BadMagicByte: the first byte is not 0x00.
            UnknownSchemaId: the source does not know the payload's schema id.
            IncompatibleSchema: the writer's schema cannot be read as the reader's.
            PayloadMismatch: the bytes do not match the writer's schema.
        """
        schema_id = self.writer_id(payload)
        plan = self._readers.get((schema_id, reader))
        if plan is None:
            plan = self._prepare_reader(schema_id, reader)
        writer, resolved_reader = plan
        buffer = io.BytesIO(payload)
        buffer.seek(_HEADER_SIZE)
        try:
            record = fastavro.schemaless_reader(buffer, writer, resolved_reader)
        except SchemaResolutionError as exc:
            raise IncompatibleSchema(
                f"a {writer['name']} written with schema id {schema_id} cannot be read as "
                f"{reader.full_name} v{reader.version}: {exc}"
            ) from exc
        except Exception as exc:  # fastavro's EOFError, IndexError, ValueError... on bad bytes
            raise _decoding_error(payload, buffer.tell(), schema_id, writer, exc) from exc
        if buffer.tell() != len(payload):
            left = len(payload) - buffer.tell()
            raise PayloadMismatch(
                f"{left} byte(s) left over after reading a {writer['name']} (schema id {schema_id}) "
                f"from a {len(payload)}-byte payload: the bytes do not match the writer's schema"
            )
        return record  # type: ignore[return-value]

    def decode_model(self, payload: bytes, model: type[_ModelT]) -> _ModelT:
        """Decode one record into a generated model, resolving the writer's schema to its version."""
        return model.from_avro(self.decode(payload, self._catalog_().for_model(model)))

    def writer_schema(self, schema_id: int) -> dict[str, Any]:
        """The writer schema for ``schema_id``, parsed (fetched from the source once, then cached).

        Raises:
            UnknownSchemaId: the source does not know the id.
            SchemaError: the source's schema is not valid Avro.
        """
        cached = self._writers.get(schema_id)
        if cached is not None:
            return cached
        try:
            schema = self.source.schema_by_id(schema_id)
        except UnknownSchemaId:
            raise
        except Exception as exc:
            # A registry answers 40403 for an unknown id; a dict-backed source raises KeyError.
            if isinstance(exc, LookupError) or getattr(exc, "error_code", None) == 40403:
                raise UnknownSchemaId(
                    f"schema id {schema_id} is unknown to the schema source: {exc}", schema_id=schema_id
                ) from exc
            raise
        named = self._catalog_().shared_named_schemas()
        try:
            parsed = cast(dict[str, Any], fastavro.parse_schema(schema, named))
        except Exception as exc:
            raise SchemaError(f"schema id {schema_id} from the schema source is not valid Avro: {exc}") from exc
        self._writers[schema_id] = parsed
        return parsed

    def _prepare_reader(self, schema_id: int, reader: RecordType) -> tuple[dict[str, Any], dict[str, Any] | None]:
        writer = self.writer_schema(schema_id)
        if writer.get("name") != reader.full_name and reader.full_name not in writer.get("aliases", []):
            # Avro would resolve by unqualified name; on the bus a different record is never the reader's.
            raise IncompatibleSchema(
                f"schema id {schema_id} is a {writer.get('name')}, not a {reader.full_name}: "
                f"this payload is not a {reader.name}"
            )
        # When the writer wrote exactly the reader's schema, skip resolution: fastavro reads faster.
        same = _canonical(writer) == _canonical(reader.parsed)
        plan = (writer, None if same else reader.parsed)
        self._readers[(schema_id, reader)] = plan
        return plan

    def _catalog_(self) -> Catalog:
        if self._catalog is None:
            self._catalog = catalog()
        return self._catalog


def _canonical(parsed: dict[str, Any]) -> str:
    return json.dumps(fastavro.schema.to_parsing_canonical_form(parsed))


def _encoding_error(record_type: RecordType, data: Any, exc: Exception) -> ValidationError:
    problems = validate(record_type, data) if isinstance(data, dict) else []
    where = f"{record_type.full_name} v{record_type.version}"
    if not problems:
        return ValidationError(f"{where} could not be encoded: {exc}", record=record_type.full_name, rule="avro.encode")
    return ValidationError.of_problems(f"{where} could not be encoded", problems, record=record_type.full_name)


def _decoding_error(
    payload: bytes, position: int, schema_id: int, writer: dict[str, Any], exc: Exception
) -> SchemaError:
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    what = f"a {writer['name']} (schema id {schema_id}) from a {len(payload)}-byte payload"
    negative_length = isinstance(exc, EOFError) and str(exc).startswith("Expected -")
    if (isinstance(exc, EOFError) and not negative_length) or (not negative_length and position >= len(payload)):
        return TruncatedPayload(f"payload ended while reading {what}: it is cut short ({detail})")
    return PayloadMismatch(
        f"the bytes do not match the writer's schema while reading {what} at byte {position} ({detail})"
    )
