"""Parsing Avro schemas with references (with the Avro library), and the checks it skips.

A parsed schema's identity is its extended canonical form (``bus.registry._canonical``). A schema is
held to its limits (``bus.registry._limits``) before the JSON parser or Avro reads it.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import avro.errors
import avro.name
import avro.schema

from bus.avsc import NAMED_KINDS, full_name
from bus.registry._canonical import Reference, canonical_json, invalid_schema, schema_json
from bus.registry._limits import SchemaLimits, abbreviated, check_counts, check_text, limit_exceeded
from bus.registry.compatibility._index import SchemaIndex

__all__ = ["ParsedSchema", "default_problem", "default_problems", "parse_schema"]

_INT_RANGE = (-(2**31), 2**31 - 1)
_LONG_RANGE = (-(2**63), 2**63 - 1)


@dataclass(frozen=True, eq=False)
class ParsedSchema:
    """A schema parsed once: its text, references, identity and the Avro library's object.

    Attributes:
        text: the schema as registered (returned unchanged by the registry).
        json: the schema's JSON value.
        references: the references it was registered with.
        dependencies: the parsed referenced schemas, in the order of ``references``.
        identity: the extended canonical form plus references: equal identities mean the same schema.
        avro: ``avro.schema.Schema`` with references resolved.
        reference_depth: links in its longest chain of references (0 without references).
        index: field maps and fingerprints of ``avro``'s nodes, for the compatibility checker.
    """

    text: str
    json: Any
    references: tuple[Reference, ...]
    dependencies: tuple[ParsedSchema, ...] = field(repr=False)
    identity: str
    avro: avro.schema.Schema = field(repr=False)
    reference_depth: int = 0
    index: SchemaIndex = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", SchemaIndex(self.avro))

    @property
    def fullname(self) -> str | None:
        """The full name of the top-level named type, if the schema is one."""
        if isinstance(self.json, dict) and self.json.get("type") in NAMED_KINDS:
            return full_name(self.json)
        return None

    @property
    def canonical(self) -> str:
        """The extended canonical form of this schema alone (no references)."""
        return self.identity.split("\n", 1)[0]


def _closure(dependencies: Sequence[ParsedSchema]) -> Iterator[ParsedSchema]:
    """Every schema the dependencies need, each once, dependencies before dependants."""
    seen: set[int] = set()

    def visit(schema: ParsedSchema) -> Iterator[ParsedSchema]:
        if id(schema) in seen:
            return
        seen.add(id(schema))
        for dep in schema.dependencies:
            yield from visit(dep)
        yield schema

    for dep in dependencies:
        yield from visit(dep)


def _to_avro(node: Any, dependencies: Sequence[ParsedSchema]) -> avro.schema.Schema:
    names = avro.name.Names()
    defined: set[str] = set()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            for dep in _closure(dependencies):
                if dep.fullname in defined:
                    continue
                avro.schema.make_avsc_object(canonical_json(dep.json, for_avro=True), names)
                defined.add(dep.fullname or "")
            parsed = avro.schema.make_avsc_object(canonical_json(node, for_avro=True), names)
        except (avro.errors.AvroException, TypeError, ValueError, AttributeError) as exc:
            raise invalid_schema(str(exc)) from None
    for warning in caught:
        text = str(warning.message)
        # Unknown logical types are ignored by the spec; a known one on the wrong type or with
        # impossible parameters would be read as its raw type by some readers and not others.
        if issubclass(warning.category, avro.errors.IgnoredLogicalType) and not text.startswith("Unknown"):
            raise invalid_schema(text)
    return parsed


def parse_schema(
    text: str,
    *,
    references: Sequence[Reference] = (),
    dependencies: Sequence[ParsedSchema] = (),
    limits: SchemaLimits = SchemaLimits(),  # noqa: B008 - frozen, so one shared default is safe
) -> ParsedSchema:
    """Parse and validate an Avro schema, with its references already resolved.

    Args:
        text: the schema's JSON text.
        references: the references it is registered with.
        dependencies: the parsed schema of each reference, in the same order.
        limits: what the schema may hold (size, depth, counts, references); checked before the
            JSON parser or Avro reads the schema.

    Returns:
        The parsed schema.

    Raises:
        RegistryError: 42209 naming the limit and where when the schema is over one; 42201 with
            what and where when it is invalid, including a default value that does not fit its
            field's type.
    """
    check_text(text, limits)
    node = schema_json(text)
    _check_unicode(node)
    check_counts(node, limits)
    depth = _reference_depth(references, dependencies, limits)
    identity = json.dumps(canonical_json(node), sort_keys=True, separators=(",", ":"))
    refs = json.dumps([r.to_json() for r in references], separators=(",", ":"))
    parsed = _to_avro(node, dependencies)
    problems = list(default_problems(parsed))
    if problems:
        raise invalid_schema("; ".join(problems))
    return ParsedSchema(
        text=text,
        json=node,
        references=tuple(references),
        dependencies=tuple(dependencies),
        identity=f"{identity}\n{refs}",
        avro=parsed,
        reference_depth=depth,
    )


def _check_unicode(node: Any) -> None:
    # JSON's \\ud800 escapes decode to unpaired surrogates, which no UTF-8 writer (a producer
    # encoding a default, the registry storing the schema) can encode.
    try:
        json.dumps(node, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise invalid_schema(f"the schema holds an unpaired surrogate ({exc.object[exc.start]!a}), not text") from None


def _reference_depth(
    references: Sequence[Reference], dependencies: Sequence[ParsedSchema], limits: SchemaLimits
) -> int:
    """The length of the longest chain of references a schema with these references starts.

    Raises:
        RegistryError: 42209 when there are more references, or a longer chain, than the limits allow.
    """
    if len(references) > limits.max_references:
        raise limit_exceeded(
            "max_references",
            f"/references/{limits.max_references}",
            f"{len(references)} references; the limit is {limits.max_references}",
        )
    deepest = max(range(len(dependencies)), key=lambda i: dependencies[i].reference_depth, default=None)
    if deepest is None:
        return 0
    depth = 1 + dependencies[deepest].reference_depth
    if depth > limits.max_reference_depth:
        raise limit_exceeded(
            "max_reference_depth",
            f"/references/{deepest}",
            f"reference {abbreviated(references[deepest].name)!r} starts a chain of {depth} references; "
            f"the limit is {limits.max_reference_depth}",
        )
    return depth


def default_problems(schema: avro.schema.Schema) -> Iterator[str]:
    """Say, for every field default in the schema that its type cannot hold, where and why."""
    seen: set[int] = set()

    def walk(node: avro.schema.Schema, path: str) -> Iterator[str]:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, avro.schema.RecordSchema):
            for index, fld in enumerate(node.fields):
                here = f"{path}/fields/{index}"
                if fld.has_default:
                    why = default_problem(fld.type, fld.default)
                    if why:
                        yield f"{here}/default: field {fld.name!r} of {node.fullname}: {why}"
                yield from walk(fld.type, f"{here}/type")
        elif isinstance(node, avro.schema.ArraySchema):
            yield from walk(node.items, f"{path}/items")
        elif isinstance(node, avro.schema.MapSchema):
            yield from walk(node.values, f"{path}/values")
        elif isinstance(node, avro.schema.UnionSchema):
            for index, branch in enumerate(node.schemas):
                yield from walk(branch, f"{path}/{index}")

    yield from walk(schema, "")


def default_problem(schema: avro.schema.Schema, value: Any) -> str | None:
    """Why ``value`` is not a valid default for ``schema`` (JSON encoding, spec 1.12), or None."""
    kind = schema.type
    if isinstance(schema, avro.schema.UnionSchema):
        # Readers before Avro 1.12 (and Confluent's) accept only the first branch.
        first = schema.schemas[0]
        why = default_problem(first, value)
        return None if why is None else f"a union's default must fit its first branch ({first.type}): {why}"
    checks = {
        "null": lambda v: v is None,
        "boolean": lambda v: isinstance(v, bool),
        "int": lambda v: _integer_in(v, _INT_RANGE),
        "long": lambda v: _integer_in(v, _LONG_RANGE),
        "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "double": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "string": lambda v: isinstance(v, str),
        "bytes": _is_byte_string,
    }
    if kind in checks:
        return None if checks[kind](value) else f"{json.dumps(value)} is not a valid {_describe(schema)}"
    if isinstance(schema, avro.schema.FixedSchema):
        if _is_byte_string(value) and len(value) == schema.size:
            return None
        return f"{json.dumps(value)} is not {schema.size} bytes for fixed {schema.fullname}"
    if isinstance(schema, avro.schema.EnumSchema):
        if value in schema.symbols:
            return None
        return f"{json.dumps(value)} is not a symbol of enum {schema.fullname} {list(schema.symbols)}"
    if isinstance(schema, avro.schema.ArraySchema):
        if not isinstance(value, list):
            return f"{json.dumps(value)} is not an array"
        return next((f"item {i}: {w}" for i, v in enumerate(value) if (w := default_problem(schema.items, v))), None)
    if isinstance(schema, avro.schema.MapSchema):
        if not isinstance(value, dict):
            return f"{json.dumps(value)} is not a map (JSON object)"
        return next((f"key {k!r}: {w}" for k, v in value.items() if (w := default_problem(schema.values, v))), None)
    if isinstance(schema, avro.schema.RecordSchema):
        return _record_default_problem(schema, value)
    return None


def _record_default_problem(schema: avro.schema.RecordSchema, value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"{json.dumps(value)} is not a record {schema.fullname} (JSON object)"
    for fld in schema.fields:
        if fld.name in value:
            why = default_problem(fld.type, value[fld.name])
            if why:
                return f"field {fld.name!r}: {why}"
        elif not fld.has_default:
            return f"field {fld.name!r} of {schema.fullname} is missing and has no default"
    return None


def _integer_in(value: Any, bounds: tuple[int, int]) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]


def _is_byte_string(value: Any) -> bool:
    # Avro's JSON encoding of bytes: a string whose code points are 0-255, one per byte.
    return isinstance(value, str) and all(ord(c) < 256 for c in value)


def _describe(schema: avro.schema.Schema) -> str:
    logical = schema.props.get("logicalType")
    return f"{schema.type} ({logical})" if logical else str(schema.type)
