"""The Interoperability Policy as data (``schemas/policy.yaml``) and the rules it enforces on schemas.

Each rule has an id, reports a JSON pointer into the schema's file and a sentence, and can be relaxed
for one subject in the policy file with a written reason::

    relaxations:
      - subject: mx.gob.crm.CaseOpened
        rules: [naming.field-camel-case]
        reason: "fields mirror the CRM's legacy column names until v3"

Ownership (who may write a subject) is checked by the registry with agency credentials; the rules
here only need the schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bus._errors import ConfigError, PolicyViolation
from bus.registry._compat import CompatibilityLevel
from bus.registry._schema import NAMED, PRIMITIVES

__all__ = ["RULES", "Policy", "load_policy"]

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


@dataclass(frozen=True)
class Relaxation:
    """Rules not enforced for one subject, and why."""

    subject: str
    rules: frozenset[str]
    reason: str


@dataclass(frozen=True)
class Policy:
    """The Interoperability Policy.

    Attributes:
        owners: namespace → owning agency URN.
        default_compatibility: the level every governed subject keeps.
        classifications: the allowed values of a field's classification property.
        public_classifications: the values that mean "not personal data".
        classification_property: the field property holding the classification.
        shared_namespace: the namespace of shared types every record references.
        relaxations: subject → relaxation.
        admins: agencies that may change the registry's global configuration and mode.
        source: the file the policy came from.
    """

    owners: Mapping[str, str]
    default_compatibility: CompatibilityLevel = CompatibilityLevel.FULL_TRANSITIVE
    classifications: frozenset[str] = frozenset({"public", "personal", "sensitive"})
    public_classifications: frozenset[str] = frozenset({"public"})
    classification_property: str = "classification"
    shared_namespace: str = "mx.gob.common"
    relaxations: Mapping[str, Relaxation] = field(default_factory=dict)
    admins: frozenset[str] = frozenset()
    source: str = "<memory>"

    def owner_of(self, namespace: str | None) -> str | None:
        """The agency owning a namespace (the longest owned prefix), or None."""
        if not namespace:
            return None
        best = None
        for owned, agency in self.owners.items():
            if (namespace == owned or namespace.startswith(owned + ".")) and (
                best is None or len(owned) > len(best[0])
            ):
                best = (owned, agency)
        return best[1] if best else None

    def relaxed(self, subject: str, rule: str) -> bool:
        """Whether ``rule`` is relaxed for ``subject``."""
        relaxation = self.relaxations.get(subject)
        return relaxation is not None and rule in relaxation.rules

    def level_for(self, subject: str) -> CompatibilityLevel:
        """The compatibility level a governed subject must keep."""
        return self.default_compatibility

    def check(
        self,
        schema: Any,
        *,
        subject: str,
        shared_types: Mapping[str, Any] | None = None,
    ) -> list[PolicyViolation]:
        """Check one schema's JSON against every rule not relaxed for its subject.

        Args:
            schema: the schema's JSON value (as in its file).
            subject: the subject it is (or will be) registered under.
            shared_types: full name → JSON of the shared types known (to catch copies).

        Returns:
            The violations, each with rule id, JSON pointer and sentence; empty when it conforms.
        """
        found = list(_SchemaWalk(self, subject, shared_types or {}).violations(schema))
        return [v for v in found if not self.relaxed(subject, v.rule)]


class _SchemaWalk:
    """One pass over a schema's JSON, yielding violations with pointers."""

    def __init__(self, policy: Policy, subject: str, shared: Mapping[str, Any]) -> None:
        self.policy = policy
        self.subject = subject
        self.shared = shared
        self.top_namespace: str | None = None

    def violations(self, schema: Any) -> Iterator[PolicyViolation]:
        if isinstance(schema, dict) and schema.get("type") in NAMED:
            fullname = _full(schema, None)
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
            if kind in NAMED:
                yield from self._named(node, pointer, namespace)
            elif kind == "array":
                yield from self._type(node.get("items"), f"{pointer}/items", namespace)
            elif kind == "map":
                yield from self._type(node.get("values"), f"{pointer}/values", namespace)
            elif isinstance(kind, dict | list):
                yield from self._type(kind, f"{pointer}/type", namespace)

    def _named(self, node: dict[str, Any], pointer: str, namespace: str | None) -> Iterator[PolicyViolation]:
        fullname = _full(node, namespace)
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
    elif isinstance(type_, dict) and type_.get("type") in NAMED and isinstance(type_.get("name"), str):
        yield type_["name"].rpartition(".")[2]


def _field_names(node: Any) -> frozenset[str]:
    if isinstance(node, dict) and isinstance(node.get("fields"), list) and len(node["fields"]) >= 2:
        return frozenset(str(f.get("name")) for f in node["fields"] if isinstance(f, dict))
    return frozenset()


def _has_doc(node: dict[str, Any]) -> bool:
    doc = node.get("doc")
    return isinstance(doc, str) and bool(doc.strip())


def _full(node: dict[str, Any], namespace: str | None) -> str:
    name = str(node.get("name"))
    if "." in name:
        return name
    space = node.get("namespace", namespace)
    return f"{space}.{name}" if space else name


def load_policy(path: str | Path) -> Policy:
    """Read the Interoperability Policy from a YAML file.

    Args:
        path: the policy file, normally ``schemas/policy.yaml``.

    Returns:
        The policy.

    Raises:
        ConfigError: the file is missing, not YAML, or names an unknown rule, level or key.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the policy {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"policy {path}: expected a mapping at the top level")
    owners = data.get("owners") or {}
    if not isinstance(owners, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in owners.items()):
        raise ConfigError(f"policy {path}: owners must map namespaces to agency URNs")
    level = str(data.get("default_compatibility", "FULL_TRANSITIVE"))
    if level not in CompatibilityLevel.__members__:
        raise ConfigError(f"policy {path}: default_compatibility {level!r} is not one of {list(CompatibilityLevel)}")
    classifications = data.get("classifications") or {"public": "", "personal": "", "sensitive": ""}
    rules = data.get("rules") or {}
    unknown = sorted(set(rules) - set(RULES)) if isinstance(rules, dict) else ["(rules must be a mapping)"]
    if unknown:
        raise ConfigError(f"policy {path}: unknown rule(s) {', '.join(unknown)}; known: {', '.join(RULES)}")
    return Policy(
        owners=dict(owners),
        default_compatibility=CompatibilityLevel(level),
        classifications=frozenset(classifications),
        public_classifications=frozenset(data.get("public_classifications") or ["public"]),
        relaxations=_relaxations(path, data.get("relaxations") or []),
        admins=frozenset(data.get("admins") or []),
        shared_namespace=str(data.get("shared_namespace", "mx.gob.common")),
        source=str(path),
    )


def _relaxations(path: Path, items: Any) -> dict[str, Relaxation]:
    if not isinstance(items, list):
        raise ConfigError(f"policy {path}: relaxations must be a list")
    out: dict[str, Relaxation] = {}
    for index, item in enumerate(items):
        where = f"policy {path}: relaxations[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("subject"), str):
            raise ConfigError(f"{where}: needs a subject")
        rules = item.get("rules")
        if not isinstance(rules, list) or not rules:
            raise ConfigError(f"{where}: needs a non-empty list of rules")
        unknown = sorted(set(map(str, rules)) - set(RULES))
        if unknown:
            raise ConfigError(f"{where}: unknown rule(s) {', '.join(unknown)}")
        reason = item.get("reason")
        if not isinstance(reason, str) or len(reason.strip()) < 10:
            raise ConfigError(f"{where}: a relaxation needs a written reason (a sentence)")
        previous = out.get(item["subject"])
        merged = frozenset(map(str, rules)) | (previous.rules if previous else frozenset())
        out[item["subject"]] = Relaxation(item["subject"], merged, reason.strip())
    return out
