"""What can go wrong reading a payload: each a ``SchemaError`` naming what happened."""

from __future__ import annotations

from bus._errors import SchemaError

__all__ = ["BadMagicByte", "IncompatibleSchema", "PayloadMismatch", "TruncatedPayload", "UnknownSchemaId"]


class TruncatedPayload(SchemaError):
    """The payload ended before the header or the record was complete."""


class BadMagicByte(SchemaError):
    """The payload does not start with 0x00, so it is not in the Confluent wire format."""


class UnknownSchemaId(SchemaError):
    """The payload names a schema id the schema source does not know.

    Attributes:
        schema_id: the id read from the payload.
    """

    def __init__(self, message: str, *, schema_id: int) -> None:
        super().__init__(message)
        self.fields["schema_id"] = schema_id
        self.schema_id = schema_id


class PayloadMismatch(SchemaError):
    """The bytes do not match the writer's schema (corrupt, or written with another schema)."""


class IncompatibleSchema(SchemaError):
    """The writer's schema cannot be resolved to the reader's (Avro schema resolution fails)."""
