"""The schema catalog on disk (``schemas/<namespace>/<Record>/vN.avsc``): checks and registration.

The files are read by the catalog's one reader (``bus.records.read_schema_files``), which collects
a problem per unreadable file instead of stopping.

Offline (no Kafka, no registry) every ``.avsc`` under a folder is parsed with its references
resolved inside the folder, checked against the policy, and each version against the earlier
versions of the same record at the policy's compatibility level, and every field the policy
encrypts can carry ciphertext (``bus.encryption.plan_for``). With a registry, each file is
checked against what the registry holds instead. Subjects follow RecordNameStrategy: a record's
subject is its full name, and a named type a schema uses without defining is a reference to the
subject of that name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bus._errors import EnlaceError
from bus.encryption import encryption_problems
from bus.policy import CompatibilityLevel, Policy
from bus.records import CatalogProblem, SchemaFile, load_catalog, read_schema_files
from bus.registry._canonical import Reference, canonical_json
from bus.registry._client import RegistryClient
from bus.registry._errors import RegistryError
from bus.registry.compatibility import ParsedSchema, parse_schema, reader_writer_problems

__all__ = ["check_catalog", "register_catalog"]


def check_catalog(
    root: str | Path, policy: Policy | None, *, registry: RegistryClient | None = None
) -> list[CatalogProblem]:
    """Check every schema under ``root`` against the policy and the earlier versions.

    Args:
        root: a folder of ``.avsc`` files (or one file).
        policy: the policy, or None for compatibility checks only.
        registry: check against this registry's versions instead of the earlier files.

    Returns:
        Every problem found; empty when the catalog passes.
    """
    files, problems = read_schema_files(root)
    parsed: dict[Path, ParsedSchema] = {}
    latest: dict[str, SchemaFile] = {}
    for file in files:
        problems.extend(_parse(file, latest, parsed))
        if file.path in parsed:
            latest[file.full_name] = file
    if policy is not None:
        shared = {s: f.schema for s, f in latest.items() if s.startswith(policy.shared_namespace + ".")}
        for file in files:
            for violation in policy.check(file.schema, subject=file.full_name, shared_types=shared):
                problems.append(CatalogProblem(str(file.path), violation.pointer, violation.rule, violation.message))
        if not problems:
            problems.extend(_encryption_problems(Path(root), policy))
    valid = [(file, parsed[file.path]) for file in files if file.path in parsed]
    if registry is None:
        problems.extend(_check_versions(valid, policy))
    else:
        problems.extend(_check_against_registry([file for file, _ in valid], registry))
    return problems


def _encryption_problems(root: Path, policy: Policy) -> list[CatalogProblem]:
    """Fields the policy encrypts that cannot carry ciphertext, in a catalog folder that loads."""
    if not root.is_dir():
        return []
    try:
        records = list(load_catalog(root).records())
    except EnlaceError:
        return []  # what keeps the folder from loading is reported by the other checks
    found = []
    for record_type in records:
        for violation in encryption_problems([record_type], policy):
            found.append(CatalogProblem(str(record_type.path), violation.pointer, violation.rule, violation.message))
    return found


def _parse(
    file: SchemaFile, latest: dict[str, SchemaFile], parsed: dict[Path, ParsedSchema]
) -> Iterator[CatalogProblem]:
    missing = [name for name in file.uses if name not in latest]
    if missing:
        yield CatalogProblem(
            str(file.path), "", "schema.invalid", f"uses {', '.join(missing)}, which no valid .avsc here defines"
        )
        return
    deps = [latest[name] for name in file.uses]
    refs = [Reference(d.full_name, d.full_name, d.version) for d in deps]
    try:
        parsed[file.path] = parse_schema(file.text, references=refs, dependencies=[parsed[d.path] for d in deps])
    except RegistryError as exc:
        yield CatalogProblem(str(file.path), "", "schema.invalid", exc.message)


_Parsed = tuple[SchemaFile, ParsedSchema]


def _check_versions(files: list[_Parsed], policy: Policy | None) -> Iterator[CatalogProblem]:
    earlier: dict[str, list[_Parsed]] = {}
    for file, parsed in files:
        level = policy.level_for(file.full_name) if policy else CompatibilityLevel.BACKWARD
        previous = earlier.setdefault(file.full_name, [])
        if policy is None or not policy.relaxed(file.full_name, "compatibility.breaking-change"):
            yield from _breaks((file, parsed), previous if level.transitive else previous[-1:], level)
        previous.append((file, parsed))


def _breaks(new: _Parsed, previous: list[_Parsed], level: CompatibilityLevel) -> Iterator[CatalogProblem]:
    file, parsed = new
    for old, old_parsed in reversed(previous):
        directions = []
        if level.backward:
            directions.append(("BACKWARD", parsed, old_parsed, f"v{file.version} cannot read v{old.version}'s data"))
        if level.forward:
            directions.append(("FORWARD", old_parsed, parsed, f"v{old.version} cannot read v{file.version}'s data"))
        for direction, reader, writer, what in directions:
            for problem in reader_writer_problems(reader, writer):
                where = "" if reader is parsed else f" (pointer into {old.path.name})"
                yield CatalogProblem(
                    str(file.path),
                    problem.pointer,
                    "compatibility.breaking-change",
                    f"{level} ({direction}): {what}{where}: {problem}. A breaking change needs a new major "
                    "version under a new subject (a new record name), never an overwrite",
                )


def _check_against_registry(files: list[SchemaFile], registry: RegistryClient) -> Iterator[CatalogProblem]:
    for schema in files:
        try:
            refs = registry.auto_references(schema.schema)
            ok, messages = registry.compatibility(schema.full_name, schema.text, refs)
        except RegistryError as exc:
            if exc.error_code == 40401:
                continue
            yield CatalogProblem(str(schema.path), "", "registry", str(exc))
            continue
        if not ok:
            for message in messages:
                yield CatalogProblem(str(schema.path), "", "compatibility.breaking-change", message)


def register_catalog(root: str | Path, client_for: Any) -> Iterator[str]:
    """Register every schema under ``root`` in dependency order, skipping what is already there.

    Args:
        root: the catalog folder.
        client_for: ``subject -> RegistryClient`` (the owning agency's credential for that subject).

    Yields:
        One line per schema: registered or already present, with its id.

    Raises:
        RegistryError: the registry refused a schema (the message says why).
    """
    schemas, problems = read_schema_files(root)
    if problems:
        raise RegistryError("; ".join(map(str, problems)), http_status=422, error_code=42201)
    for schema in schemas:
        client: RegistryClient = client_for(schema.full_name)
        present = _registered_version(client, schema)
        if present is not None:
            where = f"version {present['version']}, id {present['id']}"
            yield f"{schema.full_name} v{schema.version}: already registered as {where}"
            continue
        schema_id = client.register(schema.full_name, schema.text, client.auto_references(schema.schema))
        yield f"{schema.full_name} v{schema.version}: registered, id {schema_id}"


def _registered_version(client: RegistryClient, schema: SchemaFile) -> dict[str, Any] | None:
    mine = json.dumps(canonical_json(schema.schema), sort_keys=True)
    try:
        versions = client.versions(schema.full_name)
    except RegistryError as exc:
        if exc.error_code == 40401:
            return None
        raise
    for version in versions:
        held = client.version(schema.full_name, version)
        if json.dumps(canonical_json(json.loads(held["schema"])), sort_keys=True) == mine:
            return held
    return None
