"""The catalog of shared records: every ``.avsc`` under ``schemas/``, with the policy's owners.

Layout: ``<schemas>/<namespace>/<Name>/v<N>.avsc`` (one file per version) and ``<schemas>/policy.yaml``.
Types in the shared namespace (``mx.gob.common``) are referenced by full name from other records;
the catalog resolves such a reference to the shared type's latest version, which is safe because
shared types evolve only compatibly (FULL_TRANSITIVE).
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import fastavro

from bus._errors import ConfigError, SchemaError
from bus._settings import load_settings
from bus.policy import Policy, load_policy
from bus.records._loader import CatalogProblem, SchemaFile, read_schema_files
from bus.records._record_type import SHARED_NAMESPACE, RecordType
from bus.records._validate import record_from_json

if TYPE_CHECKING:
    from bus.records._model_base import RecordModel

__all__ = ["Catalog", "catalog", "default_schemas_dir", "load_catalog"]

_FILE_NAME = re.compile(r"v([1-9][0-9]*)\.avsc")
_CATALOG_KINDS = frozenset({"record", "enum"})


class Catalog:
    """Every version of every shared record, loaded from one ``schemas/`` folder.

    Use :func:`catalog` for the configured one (loaded once) or :func:`load_catalog` for another.

    Attributes:
        root: the ``schemas/`` folder.
        policy: its ``policy.yaml`` as ``bus.policy`` parses it (no owners when the file is absent).
    """

    def __init__(self, root: Path, policy: Policy) -> None:
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

    def example(self, record_type: RecordType) -> dict[str, Any]:
        """A record type's example (``RecordType.example``), read and converted from its JSON form.

        Raises:
            SchemaError: the version has no example file or it is not valid JSON.
            ValidationError: the example breaks the schema's rules.
        """
        try:
            data = json.loads(record_type.example_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SchemaError(f"{record_type.full_name} v{record_type.version}: no usable example: {exc}") from exc
        return record_from_json(record_type, data)

    def parse(self, record_type: RecordType) -> dict[str, Any]:
        """A record type's schema parsed by fastavro, shared types resolved (``RecordType.parsed``)."""
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

    The files are read by the same reader as ``enlace schemas check`` (every problem collected);
    the catalog then adds its own rules: the folder layout, references only to known shared types,
    a key field on every record.

    Args:
        root: the folder holding ``<namespace>/<Name>/v<N>.avsc`` files and ``policy.yaml``.

    Raises:
        SchemaError: listing every problem (one per line, each naming its file): a file that is not
            valid JSON or Avro, a file whose place does not match its name and namespace, a reference
            to an unknown type, a missing or wrong key field, an unreadable policy.
    """
    root = Path(root)
    if not root.is_dir():
        raise SchemaError(f"schemas folder {root} does not exist (set ENLACE_SCHEMAS_DIR)")
    files, problems = read_schema_files(root)
    problems += [problem for file in files for problem in _layout_problems(file)]
    known = {file.full_name for file in files}
    problems += [problem for file in files for problem in _reference_problems(file, known)]
    _refuse(problems)
    cat = Catalog(root, _policy(root / "policy.yaml"))
    owner_of = cat.policy.owner_of
    for file in files:
        namespace = file.full_name.rpartition(".")[0]
        record_type = RecordType(
            file.full_name, file.version, file.schema, file.path, owner_of(namespace), file.uses, cat
        )
        cat._add(record_type)
    for record_type in cat.records():
        try:
            _ = record_type.parsed  # parse every schema now, so a broken one fails at load, naming its file
        except SchemaError as exc:
            message = str(exc).removeprefix(f"{record_type.path}: ")
            problems.append(CatalogProblem(str(record_type.path), "", "schema.invalid", message))
            continue
        if not record_type.shared:
            problems += _key_field_problems(record_type)
    _refuse(problems)
    return cat


def _refuse(problems: list[CatalogProblem]) -> None:
    if problems:
        raise SchemaError("\n".join(f"{p.file}: {p.message}" for p in problems))


def _policy(path: Path) -> Policy:
    if not path.exists():
        return Policy(owners={}, source=str(path))
    try:
        return load_policy(path)
    except ConfigError as exc:
        raise SchemaError(str(exc)) from exc


def _layout_problems(file: SchemaFile) -> Iterator[CatalogProblem]:
    path = file.path
    if not _FILE_NAME.fullmatch(path.name):
        yield CatalogProblem(str(path), "", "catalog.layout", "schema files are named v<N>.avsc with N = 1, 2, ...")
    elif file.schema["type"] not in _CATALOG_KINDS:
        yield CatalogProblem(str(path), "/type", "catalog.layout", "a catalog schema must be a named record or enum")
    else:
        namespace, _, name = file.full_name.rpartition(".")
        if (path.parent.parent.name, path.parent.name) != (namespace, name):
            yield CatalogProblem(
                str(path),
                "/name",
                "catalog.layout",
                f"defines {file.full_name}, so it belongs in {namespace}/{name}/{path.name}",
            )


def _reference_problems(file: SchemaFile, known: set[str]) -> Iterator[CatalogProblem]:
    for name in sorted(file.uses):
        if not name.startswith(SHARED_NAMESPACE + "."):
            yield CatalogProblem(
                str(file.path),
                "",
                "catalog.reference",
                f"refers to {name}, but records may only refer to shared types ({SHARED_NAMESPACE}.*); "
                f"define it inside the record or add it to {SHARED_NAMESPACE}",
            )
        elif name not in known:
            yield CatalogProblem(str(file.path), "", "catalog.reference", f"refers to unknown shared type {name}")


def _key_field_problems(record_type: RecordType) -> list[CatalogProblem]:
    key_field = record_type.key_field
    if not key_field:
        return _key_problem(
            record_type,
            'a record needs a "keyField" attribute naming the field whose value '
            "is its Kafka key (its subject: a CURP, an RFC, a case id)",
        )
    node: Any = record_type.parsed
    named = record_type.parsed["__named_schemas"]
    for part in key_field.split("."):
        node = named.get(node, node) if isinstance(node, str) else node
        fields = {f["name"]: f for f in node.get("fields", [])} if isinstance(node, dict) else {}
        if part not in fields:
            return _key_problem(record_type, f"keyField {key_field!r} names no field ({part!r} is missing)")
        node = fields[part]["type"]
    if not (node == "string" or (isinstance(node, dict) and node.get("type") == "string")):
        return _key_problem(record_type, f"keyField {key_field!r} must name a non-null string field")
    return []


def _key_problem(record_type: RecordType, message: str) -> list[CatalogProblem]:
    return [CatalogProblem(str(record_type.path), "/keyField", "catalog.key-field", message)]
