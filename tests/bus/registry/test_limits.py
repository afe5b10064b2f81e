"""Schema limits: every hostile shape is a 422 naming the limit and where, never a RecursionError."""

from __future__ import annotations

import json
import time

import pytest

from bus import ConfigError
from bus.policy import load_policy
from bus.registry import ErrorCode, RegistryError
from bus.registry.compatibility import CompatibilityLevel, SchemaLimits, check_compatibility, parse_schema
from tests.bus.registry.conftest import TEST_POLICY

DEEP = 10_000


def text_of(levels: int, shape: str) -> str:
    """A schema ``levels`` deep, built as text: json.dumps recurses, and these go deeper than it can."""
    if shape == "arrays":  # one JSON level each
        return '{"type":"array","items":' * levels + '"int"' + "}" * levels
    if shape == "maps":
        return '{"type":"map","values":' * levels + '"int"' + "}" * levels
    if shape == "unions":  # a union holding an array of a union...: two JSON levels each
        return '["null",{"type":"array","items":' * levels + '"int"' + "}]" * levels
    # records: a record, its fields, a field: three JSON levels each
    opened = "".join(f'{{"type":"record","name":"R{i}","fields":[{{"name":"x","type":' for i in range(levels))
    return opened + '"int"' + "}]}" * levels


SHAPES = ["arrays", "maps", "unions", "records"]
#: Levels of each shape that make 127 or 128 levels of JSON, the ceiling.
AT_CEILING = {"arrays": 128, "maps": 128, "unions": 64, "records": 42}
ROOMY = SchemaLimits(max_bytes=64 * 1024 * 1024)


def refused(text: str, limits: SchemaLimits | None = None) -> RegistryError:
    with pytest.raises(RegistryError) as caught:
        parse_schema(text, limits=limits or SchemaLimits())
    return caught.value


@pytest.mark.parametrize("shape", SHAPES)
def test_a_schema_ten_thousand_levels_deep_is_refused_naming_the_depth_limit_and_where(shape) -> None:
    error = refused(text_of(DEEP, shape), ROOMY)
    assert (error.http_status, error.error_code) == (422, ErrorCode.SCHEMA_TOO_LARGE)
    assert error.details[0]["limit"] == "max_depth"
    assert "deeper than 64 levels" in error.message
    pointer = error.details[0]["pointer"]
    assert pointer.startswith("/") and pointer.count("/") == 64  # the first container too deep
    assert refused(text_of(DEEP, shape)).details[0]["limit"] in ("max_bytes", "max_depth")  # by default too


def test_the_pointer_names_the_path_to_the_first_container_too_deep() -> None:
    error = refused(text_of(100, "arrays"))
    assert error.details[0]["pointer"] == "/" + "/".join(["items"] * 64)
    error = refused(text_of(100, "records"))
    assert error.details[0]["pointer"].startswith("/fields/0/type/fields/0/type/")


def test_the_issues_schema_four_hundred_arrays_deep_is_a_422_not_a_recursion_error() -> None:
    assert refused(text_of(400, "arrays")).details[0]["limit"] == "max_depth"


@pytest.mark.parametrize("shape", SHAPES)
def test_a_schema_at_the_ceiling_depth_parses_and_checks_without_recursion_trouble(shape) -> None:
    ceiling = SchemaLimits(max_depth=128)
    parsed = parse_schema(text_of(AT_CEILING[shape], shape), limits=ceiling)
    other = parse_schema(text_of(AT_CEILING[shape], shape).replace('"int"', '"string"'), limits=ceiling)
    assert check_compatibility(parsed, [(1, parsed)], CompatibilityLevel.FULL_TRANSITIVE) == []
    assert len(check_compatibility(parsed, [(1, other)], CompatibilityLevel.FULL_TRANSITIVE)) == 2  # both ways
    load_policy(TEST_POLICY).check(parsed.json, subject="mx.gob.pruebas.Deep")  # walks every level
    with pytest.raises(RegistryError):
        parse_schema(text_of(AT_CEILING[shape] + 1, shape), limits=SchemaLimits(max_depth=128))


def test_depth_is_counted_in_json_levels_with_the_limit_itself_allowed() -> None:
    parse_schema(text_of(64, "arrays"))  # each array is one JSON object: 64 levels
    assert refused(text_of(65, "arrays")).details[0]["limit"] == "max_depth"
    assert refused(text_of(3, "arrays"), SchemaLimits(max_depth=2)).details[0]["pointer"] == "/items/items"


def test_a_deep_default_value_counts_too() -> None:
    default = "[" * DEEP + "]" * DEEP
    text = '{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":' + default + "}]}"
    error = refused(text)
    assert error.details[0]["limit"] == "max_depth"
    assert error.details[0]["pointer"].startswith("/fields/0/default/0/0")


def test_brackets_inside_strings_do_not_count() -> None:
    doc = "[" * DEEP + "{" * DEEP
    parse_schema(json.dumps({"type": "record", "name": "R", "doc": doc, "fields": [{"name": "a", "type": "int"}]}))


def test_unbalanced_brackets_are_malformed_json_not_a_crash() -> None:
    error = refused("[" * 50)
    assert error.error_code == ErrorCode.INVALID_SCHEMA and "not JSON" in error.message
    assert refused("[" * DEEP).details[0]["limit"] == "max_depth"
    assert refused("]" * DEEP).error_code == ErrorCode.INVALID_SCHEMA


def test_a_huge_schema_is_refused_by_its_size_before_anything_reads_it() -> None:
    text = json.dumps({"type": "record", "name": "R", "doc": "x" * 300_000, "fields": []})
    error = refused(text)
    assert error.details[0] == {
        "limit": "max_bytes",
        "pointer": "/",
        "message": f"the schema is {len(text)} bytes; the limit is 262144",
    }
    wide = "é" * 140_000  # 2 bytes each: the limit is in bytes, not characters
    assert refused(json.dumps(wide, ensure_ascii=False)).details[0]["limit"] == "max_bytes"


def test_too_many_fields_symbols_branches_name_the_first_one_over() -> None:
    fields = [{"name": f"f{i}", "type": "int"} for i in range(1_001)]
    error = refused(json.dumps({"type": "record", "name": "R", "fields": fields}))
    assert error.details[0]["limit"] == "max_fields" and error.details[0]["pointer"] == "/fields/1000"
    inner = {"type": "record", "name": "R", "fields": fields[:1_000]}
    nested = {"type": "record", "name": "Outer", "fields": [{"name": "inner", "type": inner}]}
    # Outer's field is the first; the 1001st field overall is the inner record's last.
    assert refused(json.dumps(nested)).details[0]["pointer"] == "/fields/0/type/fields/999"
    symbols = {"type": "enum", "name": "E", "symbols": [f"S{i}" for i in range(10_001)]}
    error = refused(json.dumps(symbols))
    assert error.details[0]["limit"] == "max_symbols" and error.details[0]["pointer"] == "/symbols/10000"
    union = {"type": "record", "name": "U", "fields": [{"name": "u", "type": [f"F{i}" for i in range(101)]}]}
    error = refused(json.dumps(union))
    assert error.details[0]["limit"] == "max_union_branches" and error.details[0]["pointer"] == "/fields/0/type"


def test_the_limits_themselves_allow_what_they_say() -> None:
    fields = [{"name": f"f{i}", "type": "int"} for i in range(1_000)]
    parse_schema(json.dumps({"type": "record", "name": "R", "fields": fields}))
    parse_schema(json.dumps({"type": "enum", "name": "E", "symbols": [f"S{i}" for i in range(10_000)]}))
    branches = [{"type": "fixed", "name": f"F{i}", "size": 1} for i in range(100)]
    parse_schema(json.dumps({"type": "record", "name": "U", "fields": [{"name": "u", "type": branches}]}))


def test_a_wide_schema_is_refused_fast() -> None:
    fields = [{"name": f"f{i}", "type": "int"} for i in range(5_000)]
    text = json.dumps({"type": "record", "name": "R", "fields": fields})
    started = time.process_time()
    assert refused(text).details[0]["limit"] == "max_fields"
    assert time.process_time() - started < 0.5  # Avro never saw it (parsing and checking it takes seconds)


def test_recursive_named_types_parse_and_check() -> None:
    node = {
        "type": "record",
        "name": "Node",
        "namespace": "t",
        "fields": [{"name": "next", "type": ["null", "Node"], "default": None}],
    }
    linked = parse_schema(json.dumps(node))
    mutual = {
        "type": "record",
        "name": "A",
        "namespace": "t",
        "fields": [
            {"name": "b", "type": {"type": "record", "name": "B", "fields": [{"name": "a", "type": ["null", "A"]}]}}
        ],
    }
    both = parse_schema(json.dumps(mutual))
    assert check_compatibility(linked, [(1, linked)], CompatibilityLevel.FULL_TRANSITIVE) == []
    assert check_compatibility(both, [(1, both)], CompatibilityLevel.FULL_TRANSITIVE) == []


def test_a_lone_surrogate_is_not_text() -> None:
    text = '{"type":"record","name":"R","doc":"\\ud800","fields":[]}'
    error = refused(text)
    assert error.error_code == ErrorCode.INVALID_SCHEMA and "unpaired surrogate" in error.message


@pytest.mark.parametrize(
    "settings",
    [
        {"max_depth": 0},
        {"max_fields": -1},
        {"max_bytes": 1.5},
        {"max_symbols": True},
        {"max_depth": 129},
        {"max_reference_depth": 33},
    ],
)
def test_limits_are_positive_integers_under_their_ceiling(settings) -> None:
    name = next(iter(settings))
    with pytest.raises(ConfigError, match=name):
        SchemaLimits(**settings)
