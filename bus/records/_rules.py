"""The domain rules a field's ``.avsc`` attributes declare, defined once.

``FIELD_RULES`` maps each attribute to the check it builds: ``"format"`` (``curp``, ``rfc``,
``rfc-lenient``: an RFC without the check digit), ``"pattern"`` (a regular expression the whole
string must match), ``"minimum"`` / ``"maximum"`` (bounds of a number) and ``"const"`` (the only
value allowed, e.g. consent must be ``true``). The JSON/Avro-dict validator (``_validate``) and the
generated models' validators (``_model_base``) both apply these very checks, so a rule, its id and
its message cannot drift apart between the two.

A check takes the value, the field's JSON pointer and the record's full name, and returns one
``ValidationError`` per broken rule (none when the value passes).
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import json
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from bus._errors import ValidationError
from bus.records._identifiers import curp_problems, rfc_problems

__all__ = [
    "FIELD_RULES",
    "INT_RANGE",
    "LONG_RANGE",
    "FieldCheck",
    "decimal_problems",
    "field_checks",
    "integer_problems",
    "shared_type_has_no_key",
    "show",
    "timestamp_problems",
    "uuid_problems",
]

INT_RANGE = (-(2**31), 2**31 - 1)
LONG_RANGE = (-(2**63), 2**63 - 1)

FieldCheck = Callable[[Any, str, "str | None"], list[ValidationError]]


def show(value: Any) -> str:
    """A value as a problem's message shows it: its repr, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _format(name: Any) -> FieldCheck | None:
    if name == "curp":
        return lambda value, path, record: curp_problems(value, path=path, record=record)
    if name in ("rfc", "rfc-lenient"):
        strict = name == "rfc"
        return lambda value, path, record: rfc_problems(value, path=path, record=record, strict=strict)
    return None  # an unknown format is documentation, as in JSON Schema


def _pattern(pattern: Any) -> FieldCheck:
    compiled = re.compile(str(pattern))

    def check(value: Any, path: str, record: str | None) -> list[ValidationError]:
        if isinstance(value, str) and not compiled.fullmatch(value):
            message = f"{show(value)} does not match {pattern}"
            return [ValidationError(message, record=record, path=path, rule="pattern", value=value)]
        return []

    return check


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)


def _bound(limit: Any, *, below: bool) -> FieldCheck:
    word = "below the minimum" if below else "above the maximum"

    def check(value: Any, path: str, record: str | None) -> list[ValidationError]:
        if _is_number(value) and ((value < limit) if below else (value > limit)):
            message = f"{value} is {word} {limit}"
            return [ValidationError(message, record=record, path=path, rule="range", value=value)]
        return []

    return check


def _minimum(low: Any) -> FieldCheck:
    return _bound(low, below=True)


def _maximum(high: Any) -> FieldCheck:
    return _bound(high, below=False)


def _const(expected: Any) -> FieldCheck:
    def check(value: Any, path: str, record: str | None) -> list[ValidationError]:
        if value != expected:
            message = f"must be {json.dumps(expected)}, got {show(value)}"
            return [ValidationError(message, record=record, path=path, rule="const", value=value)]
        return []

    return check


#: A field attribute → the check it declares, given the attribute's value (None: nothing to check).
FIELD_RULES: dict[str, Callable[[Any], FieldCheck | None]] = {
    "format": _format,
    "pattern": _pattern,
    "minimum": _minimum,
    "maximum": _maximum,
    "const": _const,
}


def field_checks(member: Mapping[str, Any]) -> tuple[FieldCheck, ...]:
    """The checks a field's attributes declare, in ``FIELD_RULES`` order.

    Args:
        member: the field's definition in the schema (``{"name", "type", "format", ...}``).
    """
    known = _by_member.get(id(member))
    if known is not None and known[0] is member:
        return known[1]
    checks = _checks_of(
        tuple((name, json.dumps(member[name], sort_keys=True)) for name in FIELD_RULES if name in member)
    )
    _by_member[id(member)] = (member, checks)  # holding the member keeps its id from being reused
    return checks


# The validator asks for every field of every record it checks, and parsed schemas live as long as
# their catalog: remember each field definition's checks (per record this is a dict look-up).
_by_member: dict[int, tuple[Mapping[str, Any], tuple[FieldCheck, ...]]] = {}


@functools.lru_cache(maxsize=1024)
def _checks_of(attributes: tuple[tuple[str, str], ...]) -> tuple[FieldCheck, ...]:
    # One set of checks per distinct attributes, keyed by their JSON text: a const may be an array,
    # and a const True must not share an entry with a const 1.
    built = (FIELD_RULES[name](json.loads(text)) for name, text in attributes)
    return tuple(check for check in built if check is not None)


# --- Avro's own value rules: integer widths and logical types --------------------------------------
# The same checks again for the validator and the models (``Int``, ``Long``, ``Timestamp``,
# ``Uuid``, ``DecimalDigits`` in ``_model_base``), each with the rule id it reports.


def integer_problems(value: int, path: str, record: str | None, *, kind: str) -> list[ValidationError]:
    """An ``int`` (32-bit) or ``long`` (64-bit) out of its range (rule ``avro.range``)."""
    low, high = INT_RANGE if kind == "int" else LONG_RANGE
    if low <= value <= high:
        return []
    message = f"{value} does not fit an Avro {kind} ({low}..{high})"
    return [ValidationError(message, record=record, path=path, rule="avro.range", value=value)]


def timestamp_problems(value: dt.datetime, path: str, record: str | None) -> list[ValidationError]:
    """A timestamp without a time zone, which would be read as some other instant (``avro.timestamp``)."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        return []
    message = f"{value.isoformat()} has no time zone; give one (UTC: Z)"
    return [ValidationError(message, record=record, path=path, rule="avro.timestamp", value=value)]


def uuid_problems(value: str, path: str, record: str | None) -> list[ValidationError]:
    """A string that is not a UUID (rule ``avro.uuid``)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return [ValidationError(f"{value!r} is not a UUID", record=record, path=path, rule="avro.uuid", value=value)]
    return []


def decimal_problems(
    value: decimal.Decimal, path: str, record: str | None, *, precision: int | None, scale: int
) -> list[ValidationError]:
    """A decimal that is not finite or has more digits than ``decimal(precision, scale)`` holds
    (rule ``avro.decimal``)."""

    def problem(message: str) -> list[ValidationError]:
        return [ValidationError(message, record=record, path=path, rule="avro.decimal", value=value)]

    if not value.is_finite():
        return problem(f"{value} is not a finite number")
    found = []
    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if places > scale:
        found += problem(f"{value} has {places} decimal places, at most {scale} allowed")
    whole_digits = value.adjusted() + 1 if value else 0  # digits before the decimal point
    if precision is not None and whole_digits > precision - scale:
        found += problem(
            f"{value} has {whole_digits} digits before the decimal point, at most {precision - scale} "
            f"allowed by decimal({precision},{scale})"
        )
    return found


def shared_type_has_no_key(full_name: str) -> ValidationError:
    """The error for asking a shared type (never sent alone) for its Kafka key (rule ``record.key``)."""
    return ValidationError(
        f"{full_name} is a shared type without a key; send it inside a record", record=full_name, rule="record.key"
    )
