"""What the compatibility checker asks about one parsed schema again and again, worked out once.

A FULL_TRANSITIVE check of a new version walks every stored version's records field by field; the
Avro library rebuilds a record's name → field map on every look-up (``RecordSchema.fields_dict``), and
nothing it works out survives the check. A ``SchemaIndex`` lives as long as its ``ParsedSchema`` (the
registry keeps stored versions parsed, by id), so each record's field map and each node's structural
fingerprint is computed once per stored version, not once per check.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator

import avro.schema

__all__ = ["SchemaIndex"]


def _children(node: avro.schema.Schema) -> Iterator[avro.schema.Schema]:
    if isinstance(node, avro.schema.RecordSchema):
        yield from (f.type for f in node.fields)
    elif isinstance(node, avro.schema.ArraySchema):
        yield node.items
    elif isinstance(node, avro.schema.MapSchema):
        yield node.values
    elif isinstance(node, avro.schema.UnionSchema):
        yield from node.schemas


def _reaches_itself(root: avro.schema.Schema) -> bool:
    """Whether a named type of the schema is used inside itself (a linked list, mutual records)."""
    on_path: set[int] = set()
    done: set[int] = set()

    def visit(node: avro.schema.Schema) -> bool:
        if id(node) in on_path:
            return True
        if id(node) in done:
            return False
        on_path.add(id(node))
        found = any(visit(child) for child in _children(node))
        on_path.discard(id(node))
        done.add(id(node))
        return found

    return visit(root)


class SchemaIndex:
    """Look-ups on one parsed schema's Avro nodes, each computed once.

    Keyed by the identity of the Avro library's node objects, which the ``ParsedSchema`` holding
    this index keeps alive. Safe to share between threads: two threads may compute the same entry,
    and store the same value.

    Args:
        root: the schema's Avro object, references resolved.
    """

    def __init__(self, root: avro.schema.Schema) -> None:
        self._root = root
        self._fields: dict[int, dict[str, avro.schema.Field]] = {}
        self._fingerprints: dict[int, bytes] = {}
        self._recursive: bool | None = None

    @property
    def recursive(self) -> bool:
        """Whether a named type is used inside itself: such a schema's pairs are never remembered,
        because the reference checker assumes a pair it is still checking to be compatible."""
        if self._recursive is None:
            self._recursive = _reaches_itself(self._root)
        return self._recursive

    def writer_field(
        self, writer: avro.schema.RecordSchema, reader_field: avro.schema.Field
    ) -> avro.schema.Field | None:
        """The field of ``writer`` (a record of this schema) that ``reader_field`` reads: the one of
        the same name, else the first of the reader field's aliases the writer has (Avro 1.12,
        schema resolution: "the fields are matched by name", aliases "map a writer's schema")."""
        by_name = self._fields.get(id(writer))
        if by_name is None:
            by_name = {f.name: f for f in writer.fields}
            self._fields[id(writer)] = by_name
        found = by_name.get(reader_field.name)
        if found is not None:
            return found
        aliases = reader_field.props.get("aliases")
        if not isinstance(aliases, Iterable):
            return None
        return next((by_name[a] for a in aliases if isinstance(a, str) and a in by_name), None)

    def fingerprint(self, node: avro.schema.Schema) -> bytes:
        """SHA-256 of the node's whole structure as the Avro library holds it (every property,
        named types written out in full the first time they appear): equal fingerprints mean the
        checker cannot tell the two nodes apart."""
        found = self._fingerprints.get(id(node))
        if found is None:
            text = json.dumps(node.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            found = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
            self._fingerprints[id(node)] = found
        return found
