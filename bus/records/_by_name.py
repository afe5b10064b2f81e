"""Validation by record type or by name: the functions the ``bus.records`` door offers.

A name is looked up in the configured catalog (:func:`bus.records.catalog`), latest version.
"""

from __future__ import annotations

from typing import Any

from bus._errors import ValidationError
from bus.records._catalog import catalog
from bus.records._record_type import RecordType
from bus.records._validate import check_record, record_from_json, validate_record

__all__ = ["check", "from_json", "validate"]


def _resolve(record_type: RecordType | str) -> RecordType:
    return catalog().get(record_type) if isinstance(record_type, str) else record_type


def validate(record_type: RecordType | str, data: Any) -> list[ValidationError]:
    """Every problem with a record: types from the schema, then the domain rules.

    Args:
        record_type: the record's type, or its name (latest version).
        data: the record as the Avro dict (what ``Codec.encode`` takes: ``date``, ``datetime``,
            ``Decimal`` and ``UUID`` values), or a generated model instance.

    Returns:
        One ``ValidationError`` per problem (``path`` a JSON pointer, ``rule``, ``value``); empty when
        the record is valid. Fields the schema does not know are problems too: nothing is dropped.
    """
    return validate_record(_resolve(record_type), data)


def check(record_type: RecordType | str, data: Any) -> None:
    """Raise when a record has any problem (see :func:`validate`).

    Raises:
        ValidationError: the record is invalid; ``.problems`` lists every problem.
    """
    check_record(_resolve(record_type), data)


def from_json(record_type: RecordType | str, data: Any) -> dict[str, Any]:
    """Turn a record read from JSON into the Avro dict, checking it on the way.

    JSON has no dates, timestamps, decimals or UUIDs: write a date as ``"2025-03-31"``, a timestamp
    as RFC 3339 with an offset (``"2025-03-31T12:00:00Z"``), a decimal as a string (``"1234.50"``) or
    a number, a UUID as its string. A nullable field holds its value or null (no union wrapper).

    Args:
        record_type: the record's type, or its name (latest version).
        data: the decoded JSON object.

    Returns:
        The record as the Avro dict, ready for ``Codec.encode`` or a model's ``from_avro``.

    Raises:
        ValidationError: the record is invalid; ``.problems`` lists every problem.
    """
    return record_from_json(_resolve(record_type), data)
