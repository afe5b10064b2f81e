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

import decimal
import functools
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from bus._errors import ValidationError
from bus.records._identifiers import curp_problems, rfc_problems

__all__ = ["FIELD_RULES", "FieldCheck", "field_checks", "show"]

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


def _minimum(low: Any) -> FieldCheck:
    def check(value: Any, path: str, record: str | None) -> list[ValidationError]:
        if _is_number(value) and value < low:
            message = f"{value} is below the minimum {low}"
            return [ValidationError(message, record=record, path=path, rule="range", value=value)]
        return []

    return check


def _maximum(high: Any) -> FieldCheck:
    def check(value: Any, path: str, record: str | None) -> list[ValidationError]:
        if _is_number(value) and value > high:
            message = f"{value} is above the maximum {high}"
            return [ValidationError(message, record=record, path=path, rule="range", value=value)]
        return []

    return check


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
