"""Check a record against its schema and domain rules, collecting every problem.

Avro types come from the parsed schema; domain rules from field attributes in the ``.avsc``, as
``_rules.FIELD_RULES`` defines them (the same checks the generated models run).

Every problem names the field (a JSON pointer), the rule id, the value and what is wrong.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from bus._errors import ValidationError
from bus.records._record_type import RecordType
from bus.records._rules import (
    decimal_problems,
    field_checks,
    integer_problems,
    show,
    timestamp_problems,
    uuid_problems,
)

__all__ = ["check_record", "record_from_json", "validate_record"]


def validate_record(record_type: RecordType, data: Any) -> list[ValidationError]:
    """Every problem with a record: types from the schema, then the domain rules.

    Args:
        record_type: the record's type.
        data: the record as the Avro dict (what ``Codec.encode`` takes: ``date``, ``datetime``,
            ``Decimal`` and ``UUID`` values), or a generated model instance.

    Returns:
        One ``ValidationError`` per problem (``path`` a JSON pointer, ``rule``, ``value``); empty when
        the record is valid. Fields the schema does not know are problems too: nothing is dropped.
    """
    if hasattr(data, "to_avro"):
        data = data.to_avro()
    walk = _Walk(record_type, from_json=False)
    walk.value(record_type.parsed, data, "")
    return walk.problems


def check_record(record_type: RecordType, data: Any) -> None:
    """Raise when a record has any problem (see :func:`validate_record`).

    Raises:
        ValidationError: the record is invalid; ``.problems`` lists every problem.
    """
    problems = validate_record(record_type, data)
    if problems:
        raise _summary(record_type, problems)


def record_from_json(record_type: RecordType, data: Any) -> dict[str, Any]:
    """Turn a record read from JSON into the Avro dict, checking it on the way.

    JSON has no dates, timestamps, decimals or UUIDs: write a date as ``"2025-03-31"``, a timestamp
    as RFC 3339 with an offset (``"2025-03-31T12:00:00Z"``), a decimal as a string (``"1234.50"``) or
    a number, a UUID as its string. A nullable field holds its value or null (no union wrapper).

    Args:
        record_type: the record's type.
        data: the decoded JSON object.

    Returns:
        The record as the Avro dict, ready for ``Codec.encode`` or a model's ``from_avro``.

    Raises:
        ValidationError: the record is invalid; ``.problems`` lists every problem.
    """
    walk = _Walk(record_type, from_json=True)
    converted = walk.value(record_type.parsed, data, "")
    if walk.problems:
        raise _summary(record_type, walk.problems)
    return converted  # type: ignore[no-any-return]


def _summary(record_type: RecordType, problems: list[ValidationError]) -> ValidationError:
    headline = f"{record_type.full_name} v{record_type.version} is not valid"
    return ValidationError.of_problems(headline, problems, record=record_type.full_name)


def _pointer(parent: str, token: object) -> str:
    return f"{parent}/{str(token).replace('~', '~0').replace('/', '~1')}"


def _describe(schema: Any) -> str:
    if isinstance(schema, list):
        return " or ".join(_describe(branch) for branch in schema)
    if isinstance(schema, str):
        return schema
    logical = schema.get("logicalType")
    if logical == "decimal":
        return f"decimal({schema.get('precision')},{schema.get('scale', 0)})"
    if logical:
        return str(logical)
    if schema["type"] in ("record", "enum", "fixed"):
        return f"{schema['type']} {schema['name']}"
    return str(schema["type"])


class _Walk:
    """One pass over a record; ``from_json`` also converts JSON values to the Avro dict's types."""

    def __init__(self, record_type: RecordType, *, from_json: bool) -> None:
        self.record = record_type.full_name
        self.record_type = record_type
        self.named: dict[str, Any] = record_type.parsed["__named_schemas"]
        self.from_json = from_json
        self.problems: list[ValidationError] = []

    def add(self, path: str, rule: str, value: Any, message: str) -> None:
        self.problems.append(ValidationError(message, record=self.record, path=path, rule=rule, value=value))

    def wrong_type(self, schema: Any, value: Any, path: str) -> None:
        got = "null" if value is None else f"{type(value).__name__} {show(value)}"
        self.add(path, "avro.type", value, f"expected {_describe(schema)}, got {got}")

    def value(self, schema: Any, value: Any, path: str) -> Any:
        if isinstance(schema, list):
            return self.union(schema, value, path)
        if isinstance(schema, str):
            if schema in self.named:
                return self.value(self.named[schema], value, path)
            return self.primitive(schema, {}, value, path)
        kind = schema["type"]
        if kind in ("record", "error"):
            return self.record_value(schema, value, path)
        if kind == "enum":
            return self.enum(schema, value, path)
        if kind == "array":
            return self.array(schema, value, path)
        if kind == "map":
            return self.map(schema, value, path)
        if kind == "fixed":
            return self.fixed(schema, value, path)
        if kind in self.named or isinstance(kind, (dict, list)):
            return self.value(kind, value, path)
        return self.primitive(kind, schema, value, path)

    def union(self, branches: list[Any], value: Any, path: str) -> Any:
        if value is None and "null" in branches:
            return None
        candidates = [b for b in branches if b != "null"]
        if len(candidates) == 1:
            return self.value(candidates[0], value, path)
        for branch in candidates:
            trial = _Walk(self.record_type, from_json=self.from_json)
            converted = trial.value(branch, value, path)
            if not trial.problems:
                return converted
        self.add(path, "avro.union", value, f"expected {_describe(branches)}, got {show(value)}")
        return value

    def record_value(self, schema: dict[str, Any], value: Any, path: str) -> Any:
        if not isinstance(value, Mapping):
            self.wrong_type(schema, value, path)
            return value
        out: dict[str, Any] = {}
        for member in schema["fields"]:
            name = member["name"]
            child = _pointer(path, name)
            if name not in value:
                if "default" not in member:
                    self.add(child, "avro.required", None, f"{name} is required ({_describe(member['type'])})")
                continue
            converted = self.value(member["type"], value[name], child)
            if converted is not None:
                self.field_rules(member, converted, child)
            out[name] = converted
        known = {member["name"] for member in schema["fields"]}
        for name in value:
            if name not in known:
                self.add(
                    _pointer(path, name),
                    "avro.unknown_field",
                    value[name],
                    f"{schema['name']} has no field {name!r} (known: {', '.join(sorted(known))})",
                )
        return out if self.from_json else value

    def field_rules(self, member: dict[str, Any], value: Any, path: str) -> None:
        for check in field_checks(member):
            self.problems += check(value, path, self.record)

    def enum(self, schema: dict[str, Any], value: Any, path: str) -> Any:
        if not isinstance(value, str):
            self.wrong_type(schema, value, path)
        elif value not in schema["symbols"]:
            symbols = ", ".join(schema["symbols"])
            self.add(path, "avro.enum", value, f"{value!r} is not a symbol of {schema['name']} ({symbols})")
        return value

    def array(self, schema: dict[str, Any], value: Any, path: str) -> Any:
        if not isinstance(value, (list, tuple)):
            self.wrong_type(schema, value, path)
            return value
        return [self.value(schema["items"], item, _pointer(path, i)) for i, item in enumerate(value)]

    def map(self, schema: dict[str, Any], value: Any, path: str) -> Any:
        if not isinstance(value, Mapping):
            self.wrong_type(schema, value, path)
            return value
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                self.add(_pointer(path, key), "avro.type", key, f"map keys must be strings, got {show(key)}")
            out[key] = self.value(schema["values"], item, _pointer(path, key))
        return out

    def fixed(self, schema: dict[str, Any], value: Any, path: str) -> Any:
        if not isinstance(value, (bytes, bytearray)) or len(value) != schema["size"]:
            self.add(
                path,
                "avro.type",
                value,
                f"expected {schema['size']} bytes ({schema['name']}), got {show(value)}",
            )
        return value

    def primitive(self, kind: str, schema: Mapping[str, Any], value: Any, path: str) -> Any:
        logical: str | None = schema.get("logicalType")
        check = _LOGICAL.get(logical) if logical else None
        if check is not None and logical is not None and _BASE.get(logical) == kind:
            return check(self, schema, value, path)
        checker = _PRIMITIVE.get(kind)
        if checker is None:
            self.add(path, "avro.type", value, f"unsupported Avro type {kind!r}")
            return value
        return checker(self, schema or kind, value, path)

    # --- primitives --------------------------------------------------------------------------

    def null(self, schema: Any, value: Any, path: str) -> Any:
        if value is not None:
            self.wrong_type(schema, value, path)
        return value

    def boolean(self, schema: Any, value: Any, path: str) -> Any:
        if not isinstance(value, bool):
            self.wrong_type(schema, value, path)
        return value

    def integer(self, schema: Any, value: Any, path: str) -> Any:
        if not isinstance(value, int) or isinstance(value, bool):
            self.wrong_type(schema, value, path)
            return value
        kind = schema if isinstance(schema, str) else schema["type"]
        self.problems += integer_problems(value, path, self.record, kind=kind)
        return value

    def floating(self, schema: Any, value: Any, path: str) -> Any:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            self.wrong_type(schema, value, path)
        return float(value) if self.from_json and isinstance(value, int) else value

    def string(self, schema: Any, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            self.wrong_type(schema, value, path)
        return value

    def raw_bytes(self, schema: Any, value: Any, path: str) -> Any:
        if self.from_json and isinstance(value, str):
            return value.encode("latin-1", errors="replace")  # Avro's JSON encoding of bytes
        if not isinstance(value, (bytes, bytearray)):
            self.wrong_type(schema, value, path)
        return value

    # --- logical types -----------------------------------------------------------------------

    def date(self, schema: Any, value: Any, path: str) -> Any:
        if self.from_json and isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                self.add(path, "avro.date", value, f"{value!r} is not a date (YYYY-MM-DD)")
                return value
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            self.wrong_type(schema, value, path)
        return value

    def timestamp(self, schema: Any, value: Any, path: str) -> Any:
        if self.from_json and isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value)
            except ValueError:
                self.add(path, "avro.timestamp", value, f"{value!r} is not an RFC 3339 timestamp")
                return value
        if not isinstance(value, dt.datetime):
            self.wrong_type(schema, value, path)
        else:
            self.problems += timestamp_problems(value, path, self.record)
        return value

    def uuid_value(self, schema: Any, value: Any, path: str) -> Any:
        if isinstance(value, uuid.UUID):
            return value
        if not isinstance(value, str):
            self.wrong_type(schema, value, path)
            return value
        problems = uuid_problems(value, path, self.record)
        if problems:
            self.problems += problems
            return value
        return uuid.UUID(value) if self.from_json else value

    def decimal_value(self, schema: Mapping[str, Any], value: Any, path: str) -> Any:
        if self.from_json and isinstance(value, (str, int, float)) and not isinstance(value, bool):
            try:
                value = decimal.Decimal(str(value))
            except decimal.InvalidOperation:
                self.add(path, "avro.decimal", value, f"{value!r} is not a decimal number")
                return value
        if not isinstance(value, decimal.Decimal):
            self.wrong_type(schema, value, path)
            return value
        precision, scale = schema.get("precision"), schema.get("scale", 0)
        self.problems += decimal_problems(value, path, self.record, precision=precision, scale=scale)
        return value


_Check = Callable[[_Walk, Any, Any, str], Any]

_PRIMITIVE: dict[str, _Check] = {
    "null": _Walk.null,
    "boolean": _Walk.boolean,
    "int": _Walk.integer,
    "long": _Walk.integer,
    "float": _Walk.floating,
    "double": _Walk.floating,
    "string": _Walk.string,
    "bytes": _Walk.raw_bytes,
}
_LOGICAL: dict[str, _Check] = {
    "date": _Walk.date,
    "timestamp-millis": _Walk.timestamp,
    "timestamp-micros": _Walk.timestamp,
    "uuid": _Walk.uuid_value,
    "decimal": _Walk.decimal_value,
}
# A logical type applies only on its base type; on another, the Avro spec says to ignore it.
_BASE = {
    "date": "int",
    "timestamp-millis": "long",
    "timestamp-micros": "long",
    "uuid": "string",
    "decimal": "bytes",
}
