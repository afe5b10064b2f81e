"""Schema compatibility: the Apache Avro reference checker plus the checks it misses.

``avro.compatibility`` (the Python port of Java's ``SchemaCompatibility``) implements the spec's
schema-resolution rules: promotions, string/bytes, names and aliases, fixed sizes, enum symbols and
defaults, record fields and defaults, unions, arrays and maps. Enlace builds on it and adds:

* logical types, which the reference checker ignores although a reader that disagrees on them reads
  wrong values without an error: a decimal's scale must match and the reader's precision must hold
  the writer's; ``timestamp-millis`` is not ``timestamp-micros``; adding or dropping a logical type
  changes what the numbers mean;
* where each break is: the reference checker merges its findings into sets and loses the location
  of union branches, so this module tracks the path itself (a JSON pointer into the reader schema).

Defaults that do not fit their type are refused when a schema is parsed (``_schema``), so every
default the resolution may use is valid.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import avro.schema
from avro.compatibility import (
    CompatibleResult,
    ReaderWriterCompatibilityChecker,
    SchemaCompatibilityResult,
    SchemaCompatibilityType,
    SchemaIncompatibilityType,
    check_fixed_size,
    check_reader_enum_contains_writer_enum,
    check_schema_names,
    incompatible,
    merge,
)

from bus.policy import CompatibilityLevel
from bus.registry.compatibility._index import SchemaIndex
from bus.registry.compatibility._schema import ParsedSchema

__all__ = ["CompatibilityCache", "Incompatibility", "check_compatibility", "reader_writer_problems"]

_Pair = tuple[bytes, bytes]
_RESOLUTION = "resolution"
_LOGICAL = "logical"


class CompatibilityCache:
    """Reader/writer pairs of schemas, and of parts of schemas, already found to have no problem.

    Keyed by the two nodes' structural fingerprints (``SchemaIndex.fingerprint``), so a pair found
    compatible in one check is skipped in the next, whichever parsed schema objects hold it: checking a
    new version against 100 stored ones meets the same field types again and again, and checking the
    same schema twice (``POST /compatibility`` before the registration) meets every pair again. Only
    findings of "no problem" are kept, and never for a schema whose named types recur inside
    themselves, so a remembered pair can only skip work that would have found nothing.

    Args:
        max_pairs: pairs kept per kind; the oldest are forgotten first.
    """

    def __init__(self, *, max_pairs: int = 50_000) -> None:
        self.max_pairs = max_pairs
        # per check: "resolution" (the reference checker's rules), "logical" (logical types agree)
        self._pairs: dict[str, dict[_Pair, None]] = {_RESOLUTION: {}, _LOGICAL: {}}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(len(pairs) for pairs in self._pairs.values())

    def holds(self, check: str, pair: _Pair) -> bool:
        return pair in self._pairs[check]

    def remember(self, check: str, pair: _Pair) -> None:
        with self._lock:
            pairs = self._pairs[check]
            if len(pairs) >= self.max_pairs:
                del pairs[next(iter(pairs))]
            pairs[pair] = None


@dataclass(frozen=True)
class Incompatibility:
    """One reason a reader cannot read what a writer wrote.

    Attributes:
        kind: Confluent-style error type, e.g. ``READER_FIELD_MISSING_DEFAULT_VALUE``.
        pointer: JSON pointer into the reader schema.
        field: dotted field path at that pointer when it names fields, e.g. ``address.street``.
        message: why, in a sentence.
    """

    kind: str
    pointer: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f" (field '{self.field}')" if self.field else ""
        return f"{self.kind} at {self.pointer}{where}: {self.message}"


_SENTENCES = {
    SchemaIncompatibilityType.reader_field_missing_default_value: (
        "the reader's field '{}' has no default and the writer does not write it"
    ),
    SchemaIncompatibilityType.missing_enum_symbols: (
        "the writer's symbols {} are not in the reader's enum, and the reader's enum has no default"
    ),
    SchemaIncompatibilityType.name_mismatch: "the named types differ: {} (and no reader alias matches)",
    SchemaIncompatibilityType.fixed_size_mismatch: "fixed sizes differ: {}",
    SchemaIncompatibilityType.type_mismatch: "{}",
    SchemaIncompatibilityType.missing_union_branch: "{}",
}


class _LocatingChecker(ReaderWriterCompatibilityChecker):
    """The reference checker, recording each finding with its location as it is made, looking
    writer fields up in the writer's index and skipping pairs the cache knows to be compatible."""

    def __init__(self, reader: ParsedSchema, writer: ParsedSchema, cache: CompatibilityCache | None) -> None:
        super().__init__()
        self._stack: list[list[str]] = []
        self.findings: list[tuple[SchemaIncompatibilityType, str, str]] = []
        self._readers: SchemaIndex = reader.index
        self._writers: SchemaIndex = writer.index
        recursive = reader.index.recursive or writer.index.recursive
        self._cache = None if recursive else cache

    def get_compatibility(self, reader, writer, reference_token="/", location=None):  # type: ignore[no-untyped-def]
        # The reference checker recurses into union branches without a location: keep the parent's.
        if location is None and self._stack:
            location, reference_token = self._stack[-1][:-1], self._stack[-1][-1]
        if self._cache is None:
            return super().get_compatibility(reader, writer, reference_token, location)
        pair = (self._readers.fingerprint(reader), self._writers.fingerprint(writer))
        if self._cache.holds(_RESOLUTION, pair):
            return CompatibleResult
        result = super().get_compatibility(reader, writer, reference_token, location)
        if result.compatibility is SchemaCompatibilityType.compatible:
            self._cache.remember(_RESOLUTION, pair)
        return result

    def calculate_compatibility(self, reader, writer, location):  # type: ignore[no-untyped-def]
        self._stack.append(location)
        try:
            result = super().calculate_compatibility(reader, writer, location)
        finally:
            self._stack.pop()
        if result.compatibility is SchemaCompatibilityType.incompatible:
            self._record(result)
            if reader.type == writer.type and isinstance(reader, avro.schema.NamedSchema):
                # Re-run the library's own leaf checks: their findings get merged with the fields'.
                self._record(check_schema_names(reader, writer, location))
                if isinstance(reader, avro.schema.FixedSchema):
                    self._record(check_fixed_size(reader, writer, location))
                if isinstance(reader, avro.schema.EnumSchema):
                    self._record(check_reader_enum_contains_writer_enum(reader, writer, location))
        return result

    def check_reader_writer_record_fields(self, reader, writer, location):  # type: ignore[no-untyped-def]
        """The reference checker's field rule, with the writer's fields looked up in its index (the
        library rebuilds a name map per look-up). A reader field the writer lacks needs a default;
        as in the library, a defaultless field of an enum type with a default symbol is checked as
        that enum reading the writer record (and fails, naming the record)."""
        result = CompatibleResult
        missing = []
        for index, reader_field in enumerate(reader.fields):
            here = [*location, "fields", str(index)]
            writer_field = self._writers.writer_field(writer, reader_field)
            if writer_field is not None:
                result = merge(result, self.get_compatibility(reader_field.type, writer_field.type, "type", here))
            elif reader_field.has_default:
                continue
            elif reader_field.type.type == "enum" and reader_field.type.props.get("default"):
                result = merge(result, self.get_compatibility(reader_field.type, writer, "type", here))
            else:
                kind = SchemaIncompatibilityType.reader_field_missing_default_value
                found = incompatible(kind, reader_field.name, here)
                missing.append(found)
                result = merge(result, found)
        for found in missing:  # after the fields' own findings, as they were always listed
            self._record(found)
        return result

    def _record(self, result: SchemaCompatibilityResult) -> None:
        if result.compatibility is not SchemaCompatibilityType.incompatible:
            return
        if len(result.messages) == 1 and len(result.locations) == 1 and len(result.incompatibilities) == 1:
            finding = (result.incompatibilities[0], next(iter(result.locations)), next(iter(result.messages)))
            if finding not in self.findings:
                self.findings.append(finding)


def reader_writer_problems(
    reader: ParsedSchema, writer: ParsedSchema, *, cache: CompatibilityCache | None = None
) -> list[Incompatibility]:
    """Everything that stops ``reader`` from reading data written with ``writer``.

    Args:
        reader: the schema data is read with.
        writer: the schema data was written with.
        cache: pairs already found to have no problem, to skip (and to add to); None checks all.

    Returns:
        The incompatibilities, empty when the reader can read everything the writer writes.
    """
    checker = _LocatingChecker(reader, writer, cache)
    result = checker.get_compatibility(reader.avro, writer.avro)
    problems: list[Incompatibility] = []
    if result.compatibility is SchemaCompatibilityType.incompatible:
        problems.extend(_reference_findings(reader, result, checker.findings))
    problems.extend(_LogicalWalk(reader, writer, cache).problems(reader.avro, writer.avro, ""))
    return problems


def _reference_findings(
    reader: ParsedSchema,
    result: SchemaCompatibilityResult,
    findings: list[tuple[SchemaIncompatibilityType, str, str]],
) -> Iterator[Incompatibility]:
    covered = set()
    for kind, location, message in findings:
        # Findings outside the final result were probes (e.g. trying each branch of a reader union).
        if message not in result.messages or location not in result.locations:
            continue
        covered.add(message)
        yield _incompatibility(reader, kind.name.upper(), location, _SENTENCES[kind].format(message))
    # A finding merged with another at the same level has lost its location: say so plainly.
    for message in sorted(result.messages - covered):
        locations = sorted(result.locations)
        where = locations[0] if len(locations) == 1 else "/"
        yield _incompatibility(reader, "INCOMPATIBLE", where, f"{message} (at one of {', '.join(locations)})")


def _incompatibility(reader: ParsedSchema, kind: str, pointer: str, message: str) -> Incompatibility:
    pointer = "" if pointer == "/" else pointer
    return Incompatibility(kind=kind, pointer=pointer or "/", field=_field_path(reader.json, pointer), message=message)


def _field_path(node: Any, pointer: str) -> str:
    """Dotted names of the fields a JSON pointer passes through, as far as the JSON goes."""
    names: list[str] = []
    tokens = [t for t in pointer.split("/") if t]
    for index, token in enumerate(tokens):
        if isinstance(node, dict) and token == "type" and isinstance(node.get("type"), dict | list) is False:
            break
        if isinstance(node, list) and token.isascii() and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
            if index and tokens[index - 1] == "fields" and isinstance(node, dict):
                names.append(str(node.get("name")))
        elif isinstance(node, dict) and token in node:
            node = node[token]
        else:
            break
    return ".".join(names)


def _logical(schema: avro.schema.Schema) -> tuple[Any, ...]:
    logical = schema.props.get("logicalType")
    if logical == "decimal":
        return ("decimal", schema.props.get("precision"), schema.props.get("scale", 0))
    return (logical,) if logical else ()


class _LogicalWalk:
    """Reader and writer walked as resolution pairs them, comparing logical types at every leaf.

    A pair met again (a named type used twice, or inside itself) is not walked again; a pair whose
    walk found nothing and met no such repeat is remembered in the cache, and skipped next time.
    """

    def __init__(self, reader: ParsedSchema, writer: ParsedSchema, cache: CompatibilityCache | None) -> None:
        self._doc = reader
        self._readers: SchemaIndex = reader.index
        self._writers: SchemaIndex = writer.index
        self._cache = cache
        self._seen: set[tuple[int, int]] = set()
        self._repeats = 0

    def problems(self, reader: avro.schema.Schema, writer: avro.schema.Schema, pointer: str) -> list[Incompatibility]:
        if (id(reader), id(writer)) in self._seen:
            self._repeats += 1
            return []
        self._seen.add((id(reader), id(writer)))
        if self._cache is None:
            return self._compare(reader, writer, pointer)
        pair = (self._readers.fingerprint(reader), self._writers.fingerprint(writer))
        if self._cache.holds(_LOGICAL, pair):
            return []
        repeats = self._repeats
        found = self._compare(reader, writer, pointer)
        if not found and self._repeats == repeats:
            self._cache.remember(_LOGICAL, pair)
        return found

    def _compare(self, reader: avro.schema.Schema, writer: avro.schema.Schema, pointer: str) -> list[Incompatibility]:
        if isinstance(writer, avro.schema.UnionSchema):
            return [p for branch in writer.schemas for p in self.problems(reader, branch, pointer)]
        if isinstance(reader, avro.schema.UnionSchema):
            index = _matching_branch(reader, writer)
            return [] if index is None else self.problems(reader.schemas[index], writer, f"{pointer}/{index}")
        if isinstance(reader, avro.schema.RecordSchema) and isinstance(writer, avro.schema.RecordSchema):
            found = []
            for index, reader_field in enumerate(reader.fields):
                writer_field = self._writers.writer_field(writer, reader_field)
                if writer_field is not None:
                    found += self.problems(reader_field.type, writer_field.type, f"{pointer}/fields/{index}/type")
            return found
        if isinstance(reader, avro.schema.ArraySchema) and isinstance(writer, avro.schema.ArraySchema):
            return self.problems(reader.items, writer.items, f"{pointer}/items")
        if isinstance(reader, avro.schema.MapSchema) and isinstance(writer, avro.schema.MapSchema):
            return self.problems(reader.values, writer.values, f"{pointer}/values")
        why = _logical_mismatch(_logical(reader), _logical(writer))
        return [_incompatibility(self._doc, "LOGICAL_TYPE_MISMATCH", pointer, why)] if why else []


def _logical_mismatch(reader: tuple[Any, ...], writer: tuple[Any, ...]) -> str | None:
    if reader == writer:
        return None
    if reader[:1] == writer[:1] == ("decimal",):
        _, reader_precision, reader_scale = reader
        _, writer_precision, writer_scale = writer
        if reader_scale != writer_scale:
            return (
                f"decimal scale differs (writer {writer_scale}, reader {reader_scale}): "
                f"the reader would shift every value by 10^{writer_scale - reader_scale}"
            )
        if reader_precision < writer_precision:
            return (
                f"decimal precision shrinks (writer {writer_precision}, reader {reader_precision}): "
                "the reader cannot hold every value the writer writes"
            )
        return None
    return (
        f"logical type differs (writer {_name(writer)}, reader {_name(reader)}): "
        "the reader would read the same numbers or bytes with another meaning"
    )


def _name(logical: tuple[Any, ...]) -> str:
    if not logical:
        return "none"
    if logical[0] == "decimal":
        return f"decimal({logical[1]},{logical[2]})"
    return str(logical[0])


def _matching_branch(reader: avro.schema.UnionSchema, writer: avro.schema.Schema) -> int | None:
    """The reader branch resolution picks for a writer type: the same type first, then a compatible one."""
    for index, branch in enumerate(reader.schemas):
        same_name = not isinstance(branch, avro.schema.NamedSchema) or branch.name == getattr(writer, "name", None)
        if branch.type == writer.type and same_name:
            return index
    checker = ReaderWriterCompatibilityChecker()
    for index, branch in enumerate(reader.schemas):
        if checker.get_compatibility(branch, writer).compatibility is SchemaCompatibilityType.compatible:
            return index
    return None


def check_compatibility(
    new: ParsedSchema,
    previous: Sequence[tuple[int, ParsedSchema]],
    level: CompatibilityLevel,
    *,
    cache: CompatibilityCache | None = None,
) -> list[str]:
    """Check a new schema against earlier versions at a compatibility level.

    Args:
        new: the schema to register.
        previous: ``(version, schema)`` of the earlier versions, oldest first.
        level: the subject's compatibility level.
        cache: pairs already found to have no problem (the registry keeps one); None checks all.

    Returns:
        One message per break, naming the version, the direction, where and why; empty when the new
        schema may be registered.
    """
    if level is CompatibilityLevel.NONE or not previous:
        return []
    against = previous if level.transitive else previous[-1:]
    messages: list[str] = []
    for version, old in reversed(against):
        if level.backward:
            for problem in reader_writer_problems(new, old, cache=cache):
                messages.append(
                    f"version {version}, BACKWARD (new schema reading data from version {version}): {problem}"
                )
        if level.forward:
            for problem in reader_writer_problems(old, new, cache=cache):
                messages.append(
                    f"version {version}, FORWARD (version {version} reading data from the new schema): {problem}"
                )
    return messages


def describe_level(level: str) -> str:
    """JSON of a level for messages (kept tiny to avoid a format dependency)."""
    return json.dumps(level)
