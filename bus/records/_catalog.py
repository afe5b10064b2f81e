"""The catalog of shared records: every ``.avsc`` under ``schemas/``, with the policy's owners.

Layout: ``<schemas>/<namespace>/<Name>/v<N>.avsc`` (one file per version) and ``<schemas>/policy.yaml``.
Types in the shared namespace (``mx.gob.common``) are referenced by full name from other records;
the catalog resolves such a reference to the shared type's latest version, which is safe because
shared types evolve only compatibly (FULL_TRANSITIVE).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import fastavro
import yaml

from bus._errors import SchemaError, ValidationError
from bus._settings import load_settings

if TYPE_CHECKING:
    from bus.records._model_base import RecordModel

__all__ = [
    "CLASSIFICATIONS",
    "SHARED_NAMESPACE",
    "Catalog",
    "RecordType",
    "catalog",
    "default_schemas_dir",
    "load_catalog",
]

SHARED_NAMESPACE = "mx.gob.common"
# Least to most protected; a record's classification is the highest of its fields'.
CLASSIFICATIONS = ("public", "personal", "sensitive")
_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_NAMED_KINDS = frozenset({"record", "error", "enum", "fixed"})
_FILE_NAME = re.compile(r"v([1-9][0-9]*)\.avsc")


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
    """

    full_name: str
    version: int
    schema: dict[str, Any]
    path: Path
    owner: str | None
    _catalog: Catalog = field(repr=False)

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
    def doc(self) -> str:
        """The record's documentation."""
        return str(self.schema.get("doc", ""))

    @functools.cached_property
    def parsed(self) -> dict[str, Any]:
        """The schema parsed by fastavro, shared types resolved; parsed once, then cached."""
        return self._catalog._parse(self)

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
        from bus.records import models  # generated from this catalog; imported late to avoid a cycle

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
        direct = [self._catalog.get(name) for name in sorted(_external_names(self.schema))]
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
        from bus.records._validate import from_json  # the validator builds on this module

        try:
            data = json.loads(self.example_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SchemaError(f"{self.full_name} v{self.version}: no usable example: {exc}") from exc
        return from_json(self, data)

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
            raise ValidationError(
                f"{self.full_name} is a shared type without a key; send it inside a record",
                record=self.full_name,
                rule="record.key",
            )
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


class Catalog:
    """Every version of every shared record, loaded from one ``schemas/`` folder.

    Use :func:`catalog` for the configured one (loaded once) or :func:`load_catalog` for another.
    """

    def __init__(self, root: Path, policy: dict[str, Any]) -> None:
        self.root = root
        self.policy = policy
        self._types: list[RecordType] = []
        self._by_name: dict[str, list[RecordType]] = {}
        self._shared_named: dict[str, Any] | None = None

    def _add(self, record_type: RecordType) -> None:
        self._types.append(record_type)
        versions = self._by_name.setdefault(record_type.full_name, [])
        versions.append(record_type)
        versions.sort(key=lambda t: t.version)

    def __repr__(self) -> str:
        return f"Catalog({str(self.root)!r}, {len(self._by_name)} types, {len(self._types)} versions)"

    def get(self, name: str, version: int | None = None) -> RecordType:
        """One version of a record.

        Args:
            name: the full name (``mx.gob.crm.CaseOpened``) or, when unambiguous, the short name.
            version: the catalog version; the latest when None.

        Raises:
            SchemaError: no such record, an ambiguous short name, or no such version.
        """
        versions = self._by_name.get(name) or self._by_name.get(self._full_name_of(name), [])
        if not versions:
            raise SchemaError(f"no record named {name!r} in the catalog at {self.root}; known: {self._known()}")
        if version is None:
            return versions[-1]
        for record_type in versions:
            if record_type.version == version:
                return record_type
        have = ", ".join(f"v{t.version}" for t in versions)
        raise SchemaError(f"{versions[0].full_name} has no version {version} (it has {have})")

    def versions(self, name: str) -> list[RecordType]:
        """Every version of a record, oldest first."""
        latest = self.get(name)
        return list(self._by_name[latest.full_name])

    def names(self) -> list[str]:
        """Every full name in the catalog, sorted."""
        return sorted(self._by_name)

    def records(self) -> Iterator[RecordType]:
        """Every version of every type: shared types first, each after the types it references
        (the order to register them in), then the records sorted by name and version."""
        shared = [t for t in self._types if t.shared]
        done: set[str] = set()
        ordered: list[RecordType] = []

        def visit(record_type: RecordType) -> None:
            if record_type.full_name in done:
                return
            done.add(record_type.full_name)
            for ref in record_type.references():
                visit(ref)
            ordered.extend(self._by_name[record_type.full_name])

        for record_type in sorted(shared, key=lambda t: t.full_name):
            visit(record_type)
        yield from ordered
        yield from sorted((t for t in self._types if not t.shared), key=lambda t: (t.full_name, t.version))

    def for_model(self, model_cls: type[RecordModel]) -> RecordType:
        """The RecordType a generated model class was generated from."""
        return self.get(model_cls.avro_name, model_cls.avro_version)

    def shared_named_schemas(self) -> dict[str, Any]:
        """The latest version of every shared type, fastavro-parsed, by full name: pass it (it is a
        fresh dict) as ``named_schemas`` to ``fastavro.parse_schema`` to resolve references."""
        return dict(self._named_shared())

    def _full_name_of(self, short: str) -> str:
        matches = [full for full in self._by_name if full.rsplit(".", 1)[1] == short]
        if len(matches) > 1:
            raise SchemaError(f"record name {short!r} is ambiguous: {', '.join(sorted(matches))}")
        return matches[0] if matches else short

    def _known(self) -> str:
        return ", ".join(self.names()) or "(none)"

    def _parse(self, record_type: RecordType) -> dict[str, Any]:
        named = dict(self._named_shared())  # a copy: parse_schema adds this schema's own names to it
        try:
            return cast(dict[str, Any], fastavro.parse_schema(record_type.schema, named))
        except Exception as exc:  # fastavro's SchemaParseException / UnknownType, reworded with the file
            raise SchemaError(f"{record_type.path}: not a valid Avro schema: {exc}") from exc

    def _named_shared(self) -> dict[str, Any]:
        """The latest version of every shared type, parsed, by full name (for resolving references)."""
        if self._shared_named is None:
            named: dict[str, Any] = {}
            for record_type in self.records():
                if record_type.shared and record_type is self._by_name[record_type.full_name][-1]:
                    try:
                        fastavro.parse_schema(record_type.schema, named)
                    except Exception as exc:
                        raise SchemaError(f"{record_type.path}: not a valid Avro schema: {exc}") from exc
            self._shared_named = named
        return self._shared_named


def default_schemas_dir() -> Path:
    """Where the catalog lives: ``ENLACE_SCHEMAS_DIR``, else ``schemas/`` beside the ``bus`` package."""
    configured = load_settings().schemas_dir
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "schemas"


@functools.cache
def catalog() -> Catalog:
    """The configured catalog, loaded on first use and cached for the process.

    Raises:
        SchemaError: a schema file is missing, malformed or inconsistent (the message names it).
    """
    return load_catalog(default_schemas_dir())


def load_catalog(root: str | os.PathLike[str]) -> Catalog:
    """Load a catalog from a ``schemas/`` folder (not cached; :func:`catalog` is).

    Args:
        root: the folder holding ``<namespace>/<Name>/v<N>.avsc`` files and ``policy.yaml``.

    Raises:
        SchemaError: the folder is missing, a file is not valid JSON or Avro, a file's place does not
            match its name and namespace, a reference names an unknown type, or a key field is wrong.
    """
    root = Path(root)
    if not root.is_dir():
        raise SchemaError(f"schemas folder {root} does not exist (set ENLACE_SCHEMAS_DIR)")
    policy = _load_policy(root / "policy.yaml")
    owners: dict[str, str] = policy.get("owners") or {}
    cat = Catalog(root, policy)
    for path in sorted(root.glob("*/*/v*.avsc")):
        schema, version = _read_schema_file(path)
        full_name = _full_name(schema)
        namespace = full_name.rsplit(".", 1)[0]
        cat._add(RecordType(full_name, version, schema, path, owners.get(namespace), cat))
    for record_type in cat._types:
        _check_references(cat, record_type)
    for record_type in cat.records():
        _ = record_type.parsed  # parse every schema now, so a broken one fails at load, naming its file
        if not record_type.shared:
            _check_key_field(record_type)
    return cat


def model_class_name(name: str, version: int) -> str:
    """The generated model's class name for one version, e.g. ``CaseOpenedV2``."""
    return f"{name}V{version}"


def _load_policy(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        policy = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SchemaError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(policy, dict):
        raise SchemaError(f"{path}: the policy must be a mapping, got {type(policy).__name__}")
    return policy


def _read_schema_file(path: Path) -> tuple[dict[str, Any], int]:
    match = _FILE_NAME.fullmatch(path.name)
    if not match:
        raise SchemaError(f"{path}: schema files are named v<N>.avsc with N = 1, 2, ...")
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(schema, dict) or schema.get("type") not in _NAMED_KINDS or "name" not in schema:
        raise SchemaError(f"{path}: a catalog schema must be a named record or enum")
    full_name = _full_name(schema)
    namespace, name = full_name.rsplit(".", 1)
    if (path.parent.parent.name, path.parent.name) != (namespace, name):
        raise SchemaError(f"{path}: defines {full_name}, so it belongs in {namespace}/{name}/{path.name}")
    return schema, int(match.group(1))


def _full_name(schema: dict[str, Any], enclosing: str = "") -> str:
    name = str(schema["name"])
    if "." in name:
        return name
    namespace = schema.get("namespace", enclosing)
    return f"{namespace}.{name}" if namespace else name


def _external_names(schema: Any) -> set[str]:
    """Full names a schema uses but does not define: its references to shared types."""
    defined: set[str] = set()
    used: set[str] = set()

    def walk(node: Any, namespace: str) -> None:
        if isinstance(node, list):
            for branch in node:
                walk(branch, namespace)
        elif isinstance(node, str):
            if node not in _PRIMITIVES:
                used.add(node if "." in node or not namespace else f"{namespace}.{node}")
        elif isinstance(node, dict):
            kind = node.get("type")
            if kind in _NAMED_KINDS:
                full = _full_name(node, namespace)
                defined.add(full)
                for member in node.get("fields", []):
                    walk(member["type"], full.rsplit(".", 1)[0] if "." in full else "")
            elif kind == "array":
                walk(node["items"], namespace)
            elif kind == "map":
                walk(node["values"], namespace)
            else:
                walk(kind, namespace)

    walk(schema, "")
    return used - defined


def _check_references(cat: Catalog, record_type: RecordType) -> None:
    for name in sorted(_external_names(record_type.schema)):
        if not name.startswith(SHARED_NAMESPACE + "."):
            raise SchemaError(
                f"{record_type.path}: refers to {name}, but records may only refer to shared types "
                f"({SHARED_NAMESPACE}.*); define it inside the record or add it to {SHARED_NAMESPACE}"
            )
        if name not in cat._by_name:
            raise SchemaError(f"{record_type.path}: refers to unknown shared type {name}")


def _check_key_field(record_type: RecordType) -> None:
    key_field = record_type.key_field
    if not key_field:
        raise SchemaError(
            f'{record_type.path}: a record needs a "keyField" attribute naming the field whose value '
            "is its Kafka key (its subject: a CURP, an RFC, a case id)"
        )
    node: Any = record_type.parsed
    named = record_type.parsed["__named_schemas"]
    for part in key_field.split("."):
        node = named.get(node, node) if isinstance(node, str) else node
        fields = {f["name"]: f for f in node.get("fields", [])} if isinstance(node, dict) else {}
        if part not in fields:
            raise SchemaError(f"{record_type.path}: keyField {key_field!r} names no field ({part!r} is missing)")
        node = fields[part]["type"]
    if not (node == "string" or (isinstance(node, dict) and node.get("type") == "string")):
        raise SchemaError(f"{record_type.path}: keyField {key_field!r} must name a non-null string field")


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
