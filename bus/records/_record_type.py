"""One version of one shared record: what its ``.avsc`` says (identity, topic, key, owner,
classifications), and the generated model it is bound to.

Validation is not here (``_validate`` builds on this module), nor loading (``_catalog``): a record
type resolves the shared types it uses through the catalog that loaded it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bus._errors import SchemaError, ValidationError
from bus.records._rules import shared_type_has_no_key

if TYPE_CHECKING:
    from bus.records._model_base import RecordModel

__all__ = ["CLASSIFICATIONS", "SHARED_NAMESPACE", "RecordType", "model_class_name"]

SHARED_NAMESPACE = "mx.gob.common"
# Least to most protected; a record's classification is the highest of its fields'.
CLASSIFICATIONS = ("public", "personal", "sensitive")


class _Resolver(Protocol):
    """What a record type needs from the catalog that loaded it (``Catalog``)."""

    def get(self, name: str, version: int | None = None) -> RecordType: ...
    def parse(self, record_type: RecordType) -> dict[str, Any]: ...
    def example(self, record_type: RecordType) -> dict[str, Any]: ...


def model_class_name(name: str, version: int) -> str:
    """The generated model's class name for one version, e.g. ``CaseOpenedV2``."""
    return f"{name}V{version}"


@dataclass(frozen=True, eq=False)
class RecordType:
    """One version of one shared record (or shared type), as its ``.avsc`` file defines it.

    Attributes:
        full_name: the Avro full name, e.g. ``mx.gob.crm.CaseOpened``.
        version: the catalog version (``N`` of ``vN.avsc``).
        schema: the ``.avsc`` JSON as a dict; shared types appear in it by full name
            (``"mx.gob.common.Person"``) and :attr:`parsed` resolves them.
        path: the ``.avsc`` file.
        owner: the owning agency's URN from ``policy.yaml``; None when the policy names no owner.
        uses: the full names of the shared types the schema refers to, in order of first use.
    """

    full_name: str
    version: int
    schema: dict[str, Any]
    path: Path
    owner: str | None
    uses: tuple[str, ...]
    _catalog: _Resolver = field(repr=False)

    def __repr__(self) -> str:
        return f"RecordType({self.full_name!r}, v{self.version})"

    @property
    def name(self) -> str:
        """The record's short name, e.g. ``CaseOpened``."""
        return self.full_name.rsplit(".", 1)[1]

    @property
    def namespace(self) -> str:
        """The Avro namespace, which names the owner, e.g. ``mx.gob.crm``."""
        return self.full_name.rsplit(".", 1)[0]

    @property
    def kind(self) -> str:
        """The Avro type: ``record`` or, for a shared enumeration such as ``State``, ``enum``."""
        return str(self.schema["type"])

    @property
    def shared(self) -> bool:
        """True for shared types (``mx.gob.common``): referenced by records, never sent alone."""
        return self.namespace == SHARED_NAMESPACE

    @property
    def subject(self) -> str:
        """The registry subject: the full name (RecordNameStrategy), the same for every version."""
        return self.full_name

    @property
    def topic(self) -> str | None:
        """The Kafka topic, e.g. ``mx.gob.crm.case-opened``; None for shared types."""
        if self.shared:
            return None
        return f"{self.namespace}.{_kebab(self.name)}"

    @property
    def key_field(self) -> str | None:
        """The field whose value is the Kafka key and the CloudEvents subject (the record's
        ``keyField`` attribute, dotted for a nested field: ``applicant.curp``); None for shared types."""
        return self.schema.get("keyField")

    @property
    def key_is_public(self) -> bool:
        """Whether the Kafka key's field is classified ``public`` (a case id), not personal (a CURP):
        only then may the key appear where personal data must not (span attributes, logs)."""
        if not self.key_field:
            return False
        pointer = "/" + self.key_field.replace(".", "/")
        return self.field_classifications().get(pointer) == "public"

    @property
    def doc(self) -> str:
        """The record's documentation."""
        return str(self.schema.get("doc", ""))

    @functools.cached_property
    def parsed(self) -> dict[str, Any]:
        """The schema parsed by fastavro, shared types resolved; parsed once, then cached."""
        return self._catalog.parse(self)

    @functools.cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the schema and the fingerprints of the shared types it references."""
        content = {
            "schema": self.schema,
            "references": [[r.full_name, r.version, r.fingerprint] for r in self.references()],
        }
        text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()

    @functools.cached_property
    def model(self) -> type[RecordModel] | None:
        """The generated pydantic model for this version (None for a shared enumeration).

        Raises:
            SchemaError: ``bus/records/models.py`` has no model for this version, or the model was
                generated from another schema (run ``enlace records generate``).
        """
        if self.kind != "record":
            return None
        # Imported on first use: the generator must run (to repair models.py) without importing it.
        from bus.records import models

        class_name = model_class_name(self.name, self.version)
        cls: type[RecordModel] | None = getattr(models, class_name, None)
        if cls is None:
            raise SchemaError(
                f"{self.full_name} v{self.version} has no generated model {class_name}: run `enlace records generate`"
            )
        if cls.avro_fingerprint != self.fingerprint:
            raise SchemaError(f"model {class_name} is out of date with {self.path}: run `enlace records generate`")
        return cls

    def references(self, *, transitive: bool = False) -> list[RecordType]:
        """The shared types this schema refers to by name, dependencies first.

        Args:
            transitive: also list the types those refer to (e.g. ``State`` through ``Person``).

        Returns:
            RecordTypes at their latest versions; register these before this schema.
        """
        direct = [self._catalog.get(name) for name in sorted(self.uses)]
        if not transitive:
            return direct
        seen: dict[str, RecordType] = {}
        for ref in direct:
            for dep in [*ref.references(transitive=True), ref]:
                seen.setdefault(dep.full_name, dep)
        return list(seen.values())

    def field_classifications(self) -> dict[str, str]:
        """The classification of every field, nested ones included, by JSON pointer.

        Array items appear as ``*`` (``/attachments/*/uri``), map values as ``*`` too.
        """
        found: dict[str, str] = {}
        if self.kind == "record":
            _collect_classifications(self.parsed, self.parsed["__named_schemas"], "", found, set())
        return found

    @functools.cached_property
    def classification(self) -> str:
        """The highest classification of any of the record's fields (``public`` when it has none)."""
        levels = [CLASSIFICATIONS.index(c) for c in self.field_classifications().values() if c in CLASSIFICATIONS]
        return CLASSIFICATIONS[max(levels, default=0)]

    @property
    def example_path(self) -> Path:
        """The example record beside the schema: ``vN.example.json``, in the JSON form
        :func:`bus.records.from_json` reads."""
        return self.path.with_name(f"v{self.version}.example.json")

    def example(self) -> dict[str, Any]:
        """The example record, as the Avro dict (a fresh copy on every call).

        Raises:
            SchemaError: the version has no example file or it is not valid JSON.
            ValidationError: the example breaks the schema's rules.
        """
        return self._catalog.example(self)

    @functools.cached_property
    def _key_path(self) -> tuple[str, ...]:
        return tuple(self.key_field.split(".")) if self.key_field else ()

    def key_of(self, data: Mapping[str, Any]) -> str:
        """The Kafka key (and CloudEvents subject) of a record of this type.

        Args:
            data: the record as the Avro dict (what ``Codec.encode`` takes).

        Returns:
            The value of :attr:`key_field`, e.g. the case id or the citizen's CURP.

        Raises:
            ValidationError: this type has no key field, or the record lacks a value for it.
        """
        if not self._key_path:
            raise shared_type_has_no_key(self.full_name)
        value: Any = data
        try:
            for part in self._key_path:
                value = value[part]
        except (KeyError, TypeError):  # the field, or a record on its path, is absent or not a record
            value = None
        if not isinstance(value, str) or not value:
            pointer = "/" + "/".join(self._key_path)
            raise ValidationError(
                f"{self.full_name}: the key field {pointer} must hold a non-empty string, got {value!r}",
                record=self.full_name,
                path=pointer,
                rule="record.key",
                value=value,
            )
        return value


def _collect_classifications(
    node: Any, named: dict[str, Any], pointer: str, found: dict[str, str], seen: set[str]
) -> None:
    if isinstance(node, str):
        if node in named and node not in seen:
            _collect_classifications(named[node], named, pointer, found, seen | {node})
    elif isinstance(node, list):
        for branch in node:
            _collect_classifications(branch, named, pointer, found, seen)
    elif isinstance(node, dict):
        kind = node.get("type")
        if kind in ("record", "error"):
            for member in node["fields"]:
                child = f"{pointer}/{member['name']}"
                if "classification" in member:
                    found[child] = member["classification"]
                _collect_classifications(member["type"], named, child, found, seen)
        elif kind == "array":
            _collect_classifications(node["items"], named, pointer + "/*", found, seen)
        elif kind == "map":
            _collect_classifications(node["values"], named, pointer + "/*", found, seen)


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()
