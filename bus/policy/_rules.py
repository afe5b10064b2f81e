"""The policy's rules on schemas: each has an id, and reports a JSON pointer and a sentence.

Ownership (who may write a subject) is checked by the registry with agency credentials; the rules
here only need the schema's JSON.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from bus._errors import PolicyViolation
from bus.avsc import NAMED_KINDS, PRIMITIVES, full_name

if TYPE_CHECKING:
    from bus.policy._policy import Policy

__all__ = ["RULES", "schema_violations"]

#: Every rule id, with the sentence that explains it.
RULES: dict[str, str] = {
    "ownership.owned-namespace": "a schema's namespace must be owned by an agency in the policy's owners",
    "ownership.owner-credential": "only the owning agency, with its credential, may write its subjects",
    "doc.record": "every record has a doc",
    "doc.field": "every field has a doc",
    "naming.record-pascal-case": "named types (records, enums, fixed) are PascalCase",
    "naming.field-camel-case": "fields are camelCase",
    "enum.default": "every enum has a default symbol, so older readers can read new symbols",
    "personal-data.classification-valid": "a field's classification is one of the policy's classifications",
    "personal-data.classified": (
        "a field whose name or type says it holds a CURP, RFC, name, address or contact is classified as personal data"
    ),
    "compatibility.default-level": "shared records keep the policy's default compatibility level",
    "compatibility.breaking-change": (
        "a breaking change needs a new major version under a new subject, never an overwrite"
    ),
    "shared-types.reference": "records reference shared types (mx.gob.common.*) by name instead of copying them",
}

_PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_CAMEL = re.compile(r"^[a-z][A-Za-z0-9]*$")
_PERSONAL_NAMES = {
    "CURP": r"curp",
    "RFC": r"rfc",
    "name": r"givenname|firstname|lastname|fullname|middlename|surname|^names?$|nombre|apellido",
    "address": r"address|street|domicilio|direccion|calle|postalcode|zipcode|neighborhood|colonia",
    "contact": r"email|correo|phone|telefono|mobile|celular|contact",
}
_PERSONAL_TYPES = r"^(curp|rfc|person|personname|fullname|address|contact)$"


def schema_violations(
    policy: Policy, schema: Any, *, subject: str, shared_types: Mapping[str, Any]
) -> Iterator[PolicyViolation]:
    """Every rule a schema's JSON breaks, relaxed or not (``Policy.check`` filters relaxations)."""
    return _SchemaWalk(policy, subject, shared_types).violations(schema)


class _SchemaWalk:
    """One pass over a schema's JSON, yielding violations with pointers."""

    def __init__(self, policy: Policy, subject: str, shared: Mapping[str, Any]) -> None:
        self.policy = policy
        self.subject = subject
        self.shared = shared
        self.top_namespace: str | None = None

    def violations(self, schema: Any) -> Iterator[PolicyViolation]:
        if isinstance(schema, dict) and schema.get("type") in NAMED_KINDS:
            fullname = full_name(schema, None)
            self.top_namespace = fullname.rpartition(".")[0] or None
            if self.policy.owner_of(self.top_namespace) is None:
                yield self._violation(
                    "ownership.owned-namespace",
                    "",
                    f"namespace {self.top_namespace or '(none)'} of {fullname} has no owner; "
                    f"owned namespaces: {', '.join(sorted(self.policy.owners))}",
                )
        yield from self._type(schema, "", None)

    def _violation(self, rule: str, pointer: str, message: str) -> PolicyViolation:
        return PolicyViolation(message, rule=rule, pointer=pointer or "/", subject=self.subject)

    def _type(self, node: Any, pointer: str, namespace: str | None) -> Iterator[PolicyViolation]:
        if isinstance(node, list):
            for index, branch in enumerate(node):
                yield from self._type(branch, f"{pointer}/{index}", namespace)
        elif isinstance(node, dict):
            kind = node.get("type")
            if kind in NAMED_KINDS:
                yield from self._named(node, pointer, namespace)
            elif kind == "array":
                yield from self._type(node.get("items"), f"{pointer}/items", namespace)
            elif kind == "map":
                yield from self._type(node.get("values"), f"{pointer}/values", namespace)
            elif isinstance(kind, dict | list):
                yield from self._type(kind, f"{pointer}/type", namespace)

    def _named(self, node: dict[str, Any], pointer: str, namespace: str | None) -> Iterator[PolicyViolation]:
        fullname = full_name(node, namespace)
        space, _, short = fullname.rpartition(".")
        kind = node.get("type")
        if not _PASCAL.match(short):
            yield self._violation(
                "naming.record-pascal-case", f"{pointer}/name", f"{kind} name {short!r} is not PascalCase"
            )
        yield from self._copies(node, fullname, pointer)
        if kind == "enum" and "default" not in node:
            yield self._violation(
                "enum.default",
                pointer,
                f"enum {fullname} has no default: a reader would fail on a symbol it does not know",
            )
        if kind in ("record", "error"):
            if not _has_doc(node):
                yield self._violation("doc.record", f"{pointer}/doc", f"record {fullname} has no doc")
            for index, fld in enumerate(node.get("fields") or []):
                if isinstance(fld, dict):
                    yield from self._field(fld, f"{pointer}/fields/{index}", fullname, space or None)

    def _field(
        self, fld: dict[str, Any], pointer: str, record: str, namespace: str | None
    ) -> Iterator[PolicyViolation]:
        name = str(fld.get("name"))
        if not _CAMEL.match(name):
            yield self._violation(
                "naming.field-camel-case", f"{pointer}/name", f"field {record}.{name} is not camelCase"
            )
        if not _has_doc(fld):
            yield self._violation("doc.field", f"{pointer}/doc", f"field {record}.{name} has no doc")
        yield from self._classification(fld, pointer, f"{record}.{name}", namespace)
        yield from self._type(fld.get("type"), f"{pointer}/type", namespace)

    def _classification(
        self, fld: dict[str, Any], pointer: str, where: str, namespace: str | None
    ) -> Iterator[PolicyViolation]:
        prop = self.policy.classification_property
        value = fld.get(prop)
        if value is not None and value not in self.policy.classifications:
            yield self._violation(
                "personal-data.classification-valid",
                f"{pointer}/{prop}",
                f"field {where} has {prop} {value!r}; allowed: {', '.join(sorted(self.policy.classifications))}",
            )
            return
        reason = _personal_reason(str(fld.get("name")), fld.get("type"), namespace)
        if reason and (value is None or value in self.policy.public_classifications):
            now = "is missing" if value is None else f"is {value!r}"
            personal = self.policy.classifications - self.policy.public_classifications
            yield self._violation(
                "personal-data.classified",
                f"{pointer}/{prop}" if value is not None else pointer,
                f"field {where} holds {reason}, so it must be classified "
                f"as personal data ({', '.join(sorted(personal))}); "
                f"its {prop} {now}",
            )

    def _copies(self, node: dict[str, Any], fullname: str, pointer: str) -> Iterator[PolicyViolation]:
        shared_ns = self.policy.shared_namespace
        if self.top_namespace is None or self.top_namespace == shared_ns or not pointer:
            return
        how = None
        if fullname.startswith(shared_ns + "."):
            how = f"defines the shared type {fullname} inline"
        else:
            short = fullname.rpartition(".")[2]
            for shared_name, shared in self.shared.items():
                if shared_name.rpartition(".")[2] == short:
                    how = f"defines {fullname}, a copy of the shared type {shared_name} by name"
                elif _field_names(node) and _field_names(node) == _field_names(shared):
                    how = f"defines {fullname} with the same fields as the shared type {shared_name}"
                if how:
                    break
        if how:
            yield self._violation(
                "shared-types.reference",
                pointer,
                f"{how}; register the shared type under its own subject and refer to it by its full name "
                "(with a schema reference) instead",
            )


def _personal_reason(name: str, type_: Any, namespace: str | None) -> str | None:
    lowered = name.lower()
    for what, pattern in _PERSONAL_NAMES.items():
        if re.search(pattern, lowered):
            return f"a {what} (by its name)"
    for short in _type_names(type_, namespace):
        if re.match(_PERSONAL_TYPES, short.lower()):
            return f"a {short} (by its type)"
    return None


def _type_names(type_: Any, namespace: str | None) -> Iterator[str]:
    """Short names of the named types a field's type is (or has as a union branch)."""
    if isinstance(type_, str) and type_ not in PRIMITIVES:
        yield type_.rpartition(".")[2]
    elif isinstance(type_, list):
        for branch in type_:
            yield from _type_names(branch, namespace)
    elif isinstance(type_, dict) and type_.get("type") in NAMED_KINDS and isinstance(type_.get("name"), str):
        yield type_["name"].rpartition(".")[2]


def _field_names(node: Any) -> frozenset[str]:
    if isinstance(node, dict) and isinstance(node.get("fields"), list) and len(node["fields"]) >= 2:
        return frozenset(str(f.get("name")) for f in node["fields"] if isinstance(f, dict))
    return frozenset()


def _has_doc(node: dict[str, Any]) -> bool:
    doc = node.get("doc")
    return isinstance(doc, str) and bool(doc.strip())
