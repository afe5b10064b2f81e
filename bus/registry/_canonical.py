"""A schema's identity form (extended Parsing Canonical Form) and schema references: JSON only.

The identity of a schema is its Parsing Canonical Form *extended*: like PCF it drops whitespace,
orders keys, qualifies every name and drops ``doc``; unlike PCF it keeps the attributes that change
how data is read (``logicalType``, ``precision``, ``scale``, defaults, aliases, enum defaults,
``order``) and custom properties such as a field's ``classification``. Plain PCF would make a
``timestamp-micros`` field "the same schema" as a ``timestamp-millis`` one and silently hand out the
old id for it. See https://avro.apache.org/docs/1.12.0/specification/#parsing-canonical-form-for-schemas

The client needs this as much as the server, and neither it nor this module loads the Avro library.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bus.avsc import NAMED_KINDS, PRIMITIVES
from bus.registry._errors import ErrorCode, RegistryError

__all__ = ["Reference", "canonical_json", "invalid_schema", "schema_json"]


@dataclass(frozen=True)
class Reference:
    """A schema reference: the named type ``name`` is the schema registered as ``subject``/``version``."""

    name: str
    subject: str
    version: int

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "subject": self.subject, "version": self.version}


def invalid_schema(message: str) -> RegistryError:
    """The 422/42201 error for a schema that cannot be parsed, saying why."""
    return RegistryError(f"Invalid schema: {message}", http_status=422, error_code=ErrorCode.INVALID_SCHEMA)


def schema_json(text: str) -> Any:
    """Decode a schema's JSON text, saying where it is malformed.

    Raises:
        RegistryError: 42201 when the text is not JSON.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise invalid_schema(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def _fullname(node: dict[str, Any], namespace: str | None) -> str:
    name = node.get("name")
    if not isinstance(name, str) or not name:
        raise invalid_schema(f"a {node.get('type')} needs a non-empty string name, got {name!r}")
    if "." in name:
        return name
    space = node.get("namespace", namespace)
    return f"{space}.{name}" if space else name


def _qualify(name: str, namespace: str | None) -> str:
    if name in PRIMITIVES or "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def canonical_json(node: Any, namespace: str | None = None, *, for_avro: bool = False) -> Any:
    """Rewrite a schema's JSON into its extended canonical form.

    Args:
        node: the schema's JSON value.
        namespace: the enclosing namespace.
        for_avro: write names as short ``name`` plus ``namespace`` (what ``avro.compatibility``
            compares, per the spec's unqualified-name rule) instead of one full name.

    Returns:
        The rewritten JSON: no ``doc``, every name and alias qualified, primitive types as strings.
    """
    if isinstance(node, str):
        return _qualify(node, namespace)
    if isinstance(node, list):
        return [canonical_json(branch, namespace, for_avro=for_avro) for branch in node]
    if not isinstance(node, dict):
        raise invalid_schema(f"a type must be a string, an object or an array, got {node!r}")
    kind = node.get("type")
    if kind in NAMED_KINDS:
        return _canonical_named(node, namespace, for_avro=for_avro)
    out = {k: v for k, v in node.items() if k != "doc"}
    if kind == "array":
        out["items"] = canonical_json(node.get("items"), namespace, for_avro=for_avro)
    elif kind == "map":
        out["values"] = canonical_json(node.get("values"), namespace, for_avro=for_avro)
    elif kind in PRIMITIVES:
        if len(out) == 1:
            return kind
    elif isinstance(kind, dict | list):
        return canonical_json(kind, namespace, for_avro=for_avro)
    return out


def _canonical_named(node: dict[str, Any], namespace: str | None, *, for_avro: bool) -> dict[str, Any]:
    fullname = _fullname(node, namespace)
    space, _, short = fullname.rpartition(".")
    out = {k: v for k, v in node.items() if k not in ("doc", "namespace", "name")}
    if for_avro:
        out["name"] = short
        if space:
            out["namespace"] = space
    else:
        out["name"] = fullname
    if isinstance(node.get("aliases"), list):
        out["aliases"] = [_qualify(a, space or None) if isinstance(a, str) else a for a in node["aliases"]]
    if node.get("type") in ("record", "error"):
        fields = node.get("fields")
        if not isinstance(fields, list):
            raise invalid_schema(f"record {fullname} needs a list of fields")
        out["fields"] = [_canonical_field(f, space or None, for_avro=for_avro) for f in fields]
    return out


def _canonical_field(node: Any, namespace: str | None, *, for_avro: bool) -> Any:
    if not isinstance(node, dict):
        raise invalid_schema(f"a field must be an object, got {node!r}")
    out = {k: v for k, v in node.items() if k != "doc"}
    if "type" not in node:
        raise invalid_schema(f"field {node.get('name')!r} has no type")
    out["type"] = canonical_json(node["type"], namespace, for_avro=for_avro)
    return out
