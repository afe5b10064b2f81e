"""The compatibility engine on a table of reader/writer cases, one per schema-resolution rule."""

from __future__ import annotations

import json

import pytest

from bus.registry import RegistryError
from bus.registry.compatibility import CompatibilityLevel, check_compatibility, parse_schema, reader_writer_problems


def schema(value: object) -> object:
    return parse_schema(json.dumps(value))


def record(*fields: dict, name: str = "R", namespace: str = "t", **extra: object) -> dict:
    return {"type": "record", "name": name, "namespace": namespace, "fields": list(fields), **extra}


def enum(symbols: list[str], **extra: object) -> dict:
    return {"type": "enum", "name": "E", "namespace": "t", "symbols": symbols, **extra}


def fixed(size: int, **extra: object) -> dict:
    return {"type": "fixed", "name": "F", "namespace": "t", "size": size, **extra}


def decimal(precision: int, scale: int) -> dict:
    return {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}


# (case id, reader, writer, compatible?, expected kind of the first problem)
CASES = [
    ("same primitive", "int", "int", True, None),
    ("int promotes to long", "long", "int", True, None),
    ("int promotes to float", "float", "int", True, None),
    ("long promotes to double", "double", "long", True, None),
    ("float promotes to double", "double", "float", True, None),
    ("long does not narrow to int", "int", "long", False, "TYPE_MISMATCH"),
    ("double does not narrow to float", "float", "double", False, "TYPE_MISMATCH"),
    ("string reads bytes", "string", "bytes", True, None),
    ("bytes reads string", "bytes", "string", True, None),
    ("string does not read int", "string", "int", False, "TYPE_MISMATCH"),
    ("boolean only reads boolean", "boolean", "int", False, "TYPE_MISMATCH"),
    ("null only reads null", "null", "string", False, "TYPE_MISMATCH"),
    ("fixed sizes equal", fixed(4), fixed(4), True, None),
    ("fixed sizes differ", fixed(8), fixed(4), False, "FIXED_SIZE_MISMATCH"),
    ("enum reader has every writer symbol", enum(["A", "B", "C"]), enum(["A", "B"]), True, None),
    ("enum writer symbol missing in reader", enum(["A"]), enum(["A", "B"]), False, "MISSING_ENUM_SYMBOLS"),
    ("enum reader default covers new symbol", enum(["U", "A"], default="U"), enum(["U", "A", "B"]), True, None),
    (
        "named types match by unqualified name",
        record({"name": "a", "type": "int"}, namespace="x"),
        record({"name": "a", "type": "int"}, namespace="y"),
        True,
        None,
    ),
    (
        "named types with different names",
        record({"name": "a", "type": "int"}, name="S"),
        record({"name": "a", "type": "int"}),
        False,
        "NAME_MISMATCH",
    ),
    (
        "reader alias matches writer name",
        record({"name": "a", "type": "int"}, name="S", aliases=["R"]),
        record({"name": "a", "type": "int"}),
        True,
        None,
    ),
    (
        "reader field with default, absent in writer",
        record({"name": "a", "type": "int"}, {"name": "b", "type": "int", "default": 0}),
        record({"name": "a", "type": "int"}),
        True,
        None,
    ),
    (
        "reader field without default, absent in writer",
        record({"name": "a", "type": "int"}, {"name": "b", "type": "int"}),
        record({"name": "a", "type": "int"}),
        False,
        "READER_FIELD_MISSING_DEFAULT_VALUE",
    ),
    (
        "writer field absent in reader is skipped",
        record({"name": "a", "type": "int"}),
        record({"name": "a", "type": "int"}, {"name": "b", "type": "string"}),
        True,
        None,
    ),
    (
        "field alias finds the writer field",
        record({"name": "c", "type": "int", "aliases": ["a"]}),
        record({"name": "a", "type": "int"}),
        True,
        None,
    ),
    (
        "field types resolve recursively",
        record({"name": "a", "type": "long"}),
        record({"name": "a", "type": "string"}),
        False,
        "TYPE_MISMATCH",
    ),
    ("union reader takes a non-union writer", ["null", "string"], "string", True, None),
    ("union reader lacks the writer type", ["null", "int"], "string", False, "MISSING_UNION_BRANCH"),
    ("non-union reader needs every writer branch", "string", ["null", "string"], False, "TYPE_MISMATCH"),
    ("union to union, reader a superset", ["null", "string", "int"], ["null", "string"], True, None),
    ("union to union, reader misses a branch", ["null", "int"], ["null", "string"], False, "MISSING_UNION_BRANCH"),
    ("union branch promotes", ["null", "long"], ["null", "int"], True, None),
    ("arrays resolve their items", {"type": "array", "items": "long"}, {"type": "array", "items": "int"}, True, None),
    (
        "arrays with unreadable items",
        {"type": "array", "items": "int"},
        {"type": "array", "items": "long"},
        False,
        "TYPE_MISMATCH",
    ),
    ("maps resolve their values", {"type": "map", "values": "double"}, {"type": "map", "values": "float"}, True, None),
    (
        "maps with unreadable values",
        {"type": "map", "values": "int"},
        {"type": "map", "values": "string"},
        False,
        "TYPE_MISMATCH",
    ),
    ("array is not a map", {"type": "array", "items": "int"}, {"type": "map", "values": "int"}, False, "TYPE_MISMATCH"),
    # What the reference checker misses: logical types.
    ("same decimal", decimal(10, 2), decimal(10, 2), True, None),
    ("decimal precision may grow", decimal(12, 2), decimal(10, 2), True, None),
    ("decimal scale change corrupts values", decimal(10, 3), decimal(10, 2), False, "LOGICAL_TYPE_MISMATCH"),
    ("decimal precision may not shrink", decimal(8, 2), decimal(10, 2), False, "LOGICAL_TYPE_MISMATCH"),
    (
        "millis are not micros",
        {"type": "long", "logicalType": "timestamp-micros"},
        {"type": "long", "logicalType": "timestamp-millis"},
        False,
        "LOGICAL_TYPE_MISMATCH",
    ),
    (
        "adding a logical type changes meaning",
        {"type": "long", "logicalType": "timestamp-millis"},
        "long",
        False,
        "LOGICAL_TYPE_MISMATCH",
    ),
    (
        "logical types inside unions and records",
        record({"name": "t", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}], "default": None}),
        record({"name": "t", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}], "default": None}),
        False,
        "LOGICAL_TYPE_MISMATCH",
    ),
]


@pytest.mark.parametrize(("reader", "writer", "compatible", "kind"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_reader_writer_resolution_follows_the_avro_specification(reader, writer, compatible, kind) -> None:
    problems = reader_writer_problems(schema(reader), schema(writer))
    assert (not problems) is compatible, problems
    if kind:
        assert problems[0].kind == kind


def test_an_incompatibility_names_the_field_and_why() -> None:
    reader = schema(
        record(
            {"name": "a", "type": "int"},
            {"name": "address", "type": record({"name": "street", "type": "int"}, name="A")},
        )
    )
    writer = schema(
        record(
            {"name": "a", "type": "int"},
            {"name": "address", "type": record({"name": "street", "type": "string"}, name="A")},
        )
    )
    [problem] = reader_writer_problems(reader, writer)
    assert problem.pointer == "/fields/1/type/fields/0/type"
    assert problem.field == "address.street"
    assert "int" in problem.message and "string" in problem.message


def test_union_branch_problems_keep_their_location() -> None:
    reader = schema(record({"name": "u", "type": ["null", "int"], "default": None}))
    writer = schema(record({"name": "u", "type": ["null", "string"], "default": None}))
    pointers = {p.pointer for p in reader_writer_problems(reader, writer)}
    assert pointers == {"/fields/0/type/1"}


V1 = record({"name": "a", "type": "int"})
V2 = record({"name": "a", "type": "int"}, {"name": "b", "type": "int", "default": 0})
V3_DROPS_DEFAULT = record({"name": "a", "type": "int"}, {"name": "b", "type": "int"})


@pytest.mark.parametrize(
    ("level", "history", "new", "ok"),
    [
        (CompatibilityLevel.BACKWARD, [V1], V2, True),
        (CompatibilityLevel.FORWARD, [V1], V2, True),
        (CompatibilityLevel.FULL, [V1], V2, True),
        # v3 (b without default) reads v2 data fine, but not v1 data: only transitive checks catch it.
        (CompatibilityLevel.BACKWARD, [V1, V2], V3_DROPS_DEFAULT, True),
        (CompatibilityLevel.BACKWARD_TRANSITIVE, [V1, V2], V3_DROPS_DEFAULT, False),
        (CompatibilityLevel.FULL_TRANSITIVE, [V1, V2], V3_DROPS_DEFAULT, False),
        (CompatibilityLevel.FORWARD, [V2], V1, True),
        (CompatibilityLevel.FORWARD_TRANSITIVE, [V3_DROPS_DEFAULT], V1, False),
        (CompatibilityLevel.NONE, [V1], {"type": "string"}, True),
    ],
)
def test_levels_check_the_right_versions_in_the_right_direction(level, history, new, ok) -> None:
    previous = [(i + 1, schema(s)) for i, s in enumerate(history)]
    messages = check_compatibility(schema(new), previous, level)
    assert (not messages) is ok, messages


def test_transitive_messages_say_which_version_breaks() -> None:
    messages = check_compatibility(
        schema(V3_DROPS_DEFAULT), [(1, schema(V1)), (2, schema(V2))], CompatibilityLevel.FULL_TRANSITIVE
    )
    assert messages and all(m.startswith("version 1") for m in messages)


@pytest.mark.parametrize(
    ("field", "why"),
    [
        ({"name": "x", "type": "int", "default": "a"}, "not a valid int"),
        ({"name": "x", "type": "int", "default": 2**31}, "not a valid int"),
        ({"name": "x", "type": "boolean", "default": 0}, "not a valid boolean"),
        ({"name": "x", "type": ["null", "string"], "default": "a"}, "first branch"),
        ({"name": "x", "type": enum(["A"]), "default": "B"}, "not a symbol"),
        ({"name": "x", "type": fixed(2), "default": "abc"}, "not 2 bytes"),
        ({"name": "x", "type": {"type": "array", "items": "int"}, "default": [1, "2"]}, "item 1"),
        (
            {"name": "x", "type": record({"name": "y", "type": "int"}, name="S"), "default": {}},
            "missing and has no default",
        ),
    ],
)
def test_a_default_that_does_not_fit_its_type_is_an_invalid_schema(field, why) -> None:
    with pytest.raises(RegistryError) as caught:
        schema(record(field))
    assert caught.value.error_code == 42201
    assert "/fields/0/default" in caught.value.message and why in caught.value.message


@pytest.mark.parametrize(
    "field",
    [
        {"name": "x", "type": "long", "default": 2**40},
        {"name": "x", "type": "float", "default": 1},
        {"name": "x", "type": "bytes", "default": "\u00ff"},
        {"name": "x", "type": ["null", "string"], "default": None},
        {"name": "x", "type": {"type": "map", "values": "int"}, "default": {"a": 1}},
    ],
)
def test_a_default_that_fits_is_accepted(field) -> None:
    schema(record(field))


def test_a_known_logical_type_with_impossible_parameters_is_invalid() -> None:
    with pytest.raises(RegistryError, match="scale"):
        schema({"type": "bytes", "logicalType": "decimal", "precision": 2, "scale": 5})


def test_equivalent_schemas_have_one_identity_but_logical_types_count() -> None:
    pretty = parse_schema(
        '{ "namespace": "t", "type": "record", "name": "R", "doc": "x",\n "fields": [{"type": "int", "name": "a"}]}'
    )
    compact = parse_schema('{"type":"record","name":"t.R","fields":[{"name":"a","type":{"type":"int"}}]}')
    assert pretty.identity == compact.identity
    millis = schema(record({"name": "t", "type": {"type": "long", "logicalType": "timestamp-millis"}}))
    micros = schema(record({"name": "t", "type": {"type": "long", "logicalType": "timestamp-micros"}}))
    assert millis.identity != micros.identity
