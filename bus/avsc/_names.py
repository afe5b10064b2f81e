"""Walk a schema's JSON for the named types it defines and the ones it refers to by name."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["NAMED_KINDS", "PRIMITIVES", "NamedType", "full_name", "named_types", "referenced_names"]

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED_KINDS = frozenset({"record", "error", "enum", "fixed"})


@dataclass(frozen=True)
class NamedType:
    """One occurrence of a named type in a schema.

    Attributes:
        full_name: the qualified name, e.g. ``mx.gob.common.Person``.
        defines: True where the schema defines the type, False where it refers to it by name.
    """

    full_name: str
    defines: bool


def full_name(schema: dict[str, Any], namespace: str | None = None) -> str:
    """The full name of a named type's definition.

    Args:
        schema: the definition (``{"type": "record", "name": ...}``).
        namespace: the enclosing namespace, used when the definition names none.
    """
    name = str(schema.get("name"))
    if "." in name:
        return name
    space = schema.get("namespace", namespace)
    return f"{space}.{name}" if space else name


def _qualify(name: str, namespace: str | None) -> str:
    return name if "." in name or not namespace else f"{namespace}.{name}"


def named_types(schema: Any, namespace: str | None = None) -> Iterator[NamedType]:
    """Every named type a schema defines or refers to, in document order.

    Parts of the JSON that are not a schema (a field that is not an object, a name that is not a
    string) are passed over: saying what is malformed is the parser's job, not this walk's.

    Args:
        schema: the schema's JSON value.
        namespace: the enclosing namespace.

    Yields:
        A :class:`NamedType` per definition and per use by name.
    """
    if isinstance(schema, str):
        if schema not in PRIMITIVES:
            yield NamedType(_qualify(schema, namespace), defines=False)
    elif isinstance(schema, list):
        for branch in schema:
            yield from named_types(branch, namespace)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if isinstance(kind, (dict, list)):
            yield from named_types(kind, namespace)  # {"type": {...}} or {"type": [...]}
        elif kind in NAMED_KINDS and isinstance(schema.get("name"), str):
            name = full_name(schema, namespace)
            yield NamedType(name, defines=True)
            inner = name.rpartition(".")[0] or None
            for member in schema.get("fields") or []:
                if isinstance(member, dict):
                    yield from named_types(member.get("type"), inner)
        elif kind == "array":
            yield from named_types(schema.get("items"), namespace)
        elif kind == "map":
            yield from named_types(schema.get("values"), namespace)
        elif isinstance(kind, str) and kind not in NAMED_KINDS:
            yield from named_types(kind, namespace)  # {"type": "string", ...} or {"type": "a.Name"}


def referenced_names(schema: Any) -> list[str]:
    """The full names a schema uses but does not define (its references), in order of first use."""
    defined: set[str] = set()
    used: dict[str, None] = {}
    for named in named_types(schema):
        if named.defines:
            defined.add(named.full_name)
        else:
            used.setdefault(named.full_name)
    return [name for name in used if name not in defined]
