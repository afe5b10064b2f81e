"""Hypothesis strategies that generate valid records for any catalog schema."""

from __future__ import annotations

import datetime as dt
import decimal
import string
from typing import Any

from hypothesis import strategies as st

from bus.records import RecordType, curp_check_digit, rfc_check_digit
from bus.records._identifiers import CURP_STATES

_UPPER = string.ascii_uppercase
_CONSONANTS = "BCDFGHJKLMNPQRSTVWXYZ"


@st.composite
def curps(draw: st.DrawFn) -> str:
    """A CURP valid by RENAPO's format, date, state and check-digit rules."""
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)))
    differentiator = draw(st.sampled_from(string.digits if born.year < 2000 else _UPPER))
    base = (
        draw(st.sampled_from(_UPPER))
        + draw(st.sampled_from("AEIOUX"))
        + draw(st.text(_UPPER, min_size=2, max_size=2))
        + born.strftime("%y%m%d")
        + draw(st.sampled_from("HMX"))
        + draw(st.sampled_from(sorted(CURP_STATES)))
        + draw(st.text(_CONSONANTS, min_size=3, max_size=3))
        + differentiator
    )
    return base + curp_check_digit(base)


@st.composite
def rfcs(draw: st.DrawFn) -> str:
    """An RFC for a person (13) or a company (12) with its check digit."""
    letters = draw(st.sampled_from([3, 4]))
    born = draw(st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2029, 12, 31)))
    base = (
        draw(st.text(_UPPER, min_size=letters, max_size=letters))
        + born.strftime("%y%m%d")
        + draw(st.text(_UPPER + string.digits, min_size=2, max_size=2))
    )
    return base + rfc_check_digit(base)


def records(record_type: RecordType) -> st.SearchStrategy[dict[str, Any]]:
    """Valid Avro dicts of one record type and version, every field present."""
    parsed = record_type.parsed
    return _value(parsed, parsed["__named_schemas"], {})


def _value(schema: Any, named: dict[str, Any], member: dict[str, Any]) -> st.SearchStrategy[Any]:
    if isinstance(schema, list):
        return st.one_of([_value(branch, named, member) for branch in schema])
    if isinstance(schema, str):
        if schema in named:
            return _value(named[schema], named, member)
        schema = {"type": schema}
    kind = schema["type"]
    if kind == "record":
        return st.fixed_dictionaries({f["name"]: _value(f["type"], named, f) for f in schema["fields"]})
    if kind == "enum":
        return st.sampled_from(schema["symbols"])
    if kind == "array":
        return st.lists(_value(schema["items"], named, {}), max_size=3)
    if kind == "map":
        return st.dictionaries(st.text(max_size=8), _value(schema["values"], named, {}), max_size=3)
    if isinstance(kind, (dict, list)) or kind in named:
        return _value(kind, named, member)
    return _primitive(kind, schema, member)


def _primitive(kind: str, schema: dict[str, Any], member: dict[str, Any]) -> st.SearchStrategy[Any]:
    logical = schema.get("logicalType")
    if "const" in member:
        return st.just(member["const"])
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "int" and logical == "date":
        return st.dates()
    if kind == "long" and logical == "timestamp-millis":
        moments = st.datetimes(
            min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
        )
        return moments.map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))
    if kind in ("int", "long"):
        bits = 31 if kind == "int" else 63
        low = max(member.get("minimum", -(2**bits)), -(2**bits))
        high = min(member.get("maximum", 2**bits - 1), 2**bits - 1)
        return st.integers(low, high)
    if kind in ("float", "double"):
        return st.floats(allow_nan=False, width=32 if kind == "float" else 64)
    if kind == "string":
        return _string(logical, member)
    if kind == "bytes" and logical == "decimal":
        precision, scale = schema["precision"], schema.get("scale", 0)
        bound = decimal.Decimal(10) ** (precision - scale) - decimal.Decimal(1).scaleb(-scale)
        return st.decimals(-bound, bound, places=scale, allow_nan=False, allow_infinity=False)
    if kind == "bytes":
        return st.binary(max_size=16)
    raise NotImplementedError(f"no strategy for Avro type {kind!r}")


def _string(logical: str | None, member: dict[str, Any]) -> st.SearchStrategy[Any]:
    if logical == "uuid":
        return st.uuids()
    if member.get("format") == "curp":
        return curps()
    if member.get("format") in ("rfc", "rfc-lenient"):
        return rfcs()
    if "pattern" in member:
        return st.from_regex(member["pattern"], fullmatch=True)
    return st.text(max_size=20)
