"""The schema catalog on disk (``schemas/<namespace>/<Record>/vN.avsc``): checks and registration.

Offline (no Kafka, no registry) every ``.avsc`` under a folder is parsed with its references
resolved inside the folder, checked against the policy, and each version against the earlier
versions of the same record at the policy's compatibility level. With a registry, each file is
checked against what the registry holds instead. Subjects follow RecordNameStrategy: a record's
subject is its full name, and a named type a schema uses without defining is a reference to the
subject of that name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bus.registry._client import RegistryClient, _undefined_names
from bus.registry._compat import CompatibilityLevel, reader_writer_problems
from bus.registry._errors import RegistryError
from bus.registry._policy import Policy
from bus.registry._schema import NAMED, ParsedSchema, Reference, canonical_json, parse_schema

__all__ = ["CatalogProblem", "CatalogSchema", "check_catalog", "load_catalog", "register_catalog"]

_VERSION = re.compile(r"^v(\d+)$")


@dataclass(frozen=True)
class CatalogProblem:
    """One problem in one file: where (JSON pointer), which rule, and why."""

    file: str
    pointer: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.pointer or '/'}: [{self.rule}] {self.message}"


@dataclass
class CatalogSchema:
    """One ``.avsc`` file of the catalog."""

    path: Path
    text: str
    json: Any
    subject: str
    version: int
    uses: list[str] = field(default_factory=list)
    parsed: ParsedSchema | None = None


def load_catalog(root: str | Path) -> tuple[list[CatalogSchema], list[CatalogProblem]]:
    """Read every ``.avsc`` under ``root``, in dependency order (referenced records first).

    Returns:
        The schemas, and the problems of files that could not be read.
    """
    root = Path(root)
    files = sorted(root.rglob("*.avsc")) if root.is_dir() else [root]
    schemas: list[CatalogSchema] = []
    problems: list[CatalogProblem] = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        try:
            node = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(
                CatalogProblem(str(path), "", "schema.invalid", f"not JSON: {exc.msg} at line {exc.lineno}")
            )
            continue
        if not isinstance(node, dict) or node.get("type") not in NAMED:
            problems.append(CatalogProblem(str(path), "/type", "schema.invalid", "a catalog schema is a named type"))
            continue
        fullname = canonical_json(node)["name"]
        match = _VERSION.match(path.stem)
        version = int(match.group(1)) if match else 1
        schemas.append(CatalogSchema(path, text, node, fullname, version, _undefined_names(node)))
    return _dependency_order(schemas), problems


def _dependency_order(schemas: list[CatalogSchema]) -> list[CatalogSchema]:
    by_subject: dict[str, list[CatalogSchema]] = {}
    for schema in sorted(schemas, key=lambda s: (s.subject, s.version)):
        by_subject.setdefault(schema.subject, []).append(schema)
    ordered: list[CatalogSchema] = []
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(subject: str) -> None:
        if subject in done or subject in visiting or subject not in by_subject:
            return
        visiting.add(subject)
        for schema in by_subject[subject]:
            for name in schema.uses:
                visit(name)
        visiting.discard(subject)
        done.add(subject)
        ordered.extend(by_subject[subject])

    for subject in sorted(by_subject):
        visit(subject)
    return ordered


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
    schemas, problems = load_catalog(root)
    latest: dict[str, CatalogSchema] = {}
    for schema in schemas:
        problems.extend(_parse(schema, latest))
        if schema.parsed is not None:
            latest[schema.subject] = schema
    if policy is not None:
        shared = {s: c.json for s, c in latest.items() if s.startswith(policy.shared_namespace + ".")}
        for schema in schemas:
            for violation in policy.check(schema.json, subject=schema.subject, shared_types=shared):
                problems.append(CatalogProblem(str(schema.path), violation.pointer, violation.rule, violation.message))
    if registry is None:
        problems.extend(_check_versions(schemas, policy))
    else:
        problems.extend(_check_against_registry(schemas, registry))
    return problems


def _parse(schema: CatalogSchema, latest: dict[str, CatalogSchema]) -> Iterator[CatalogProblem]:
    missing = [name for name in schema.uses if name not in latest]
    if missing:
        yield CatalogProblem(
            str(schema.path), "", "schema.invalid", f"uses {', '.join(missing)}, which no valid .avsc here defines"
        )
        return
    deps = [latest[name] for name in schema.uses]
    refs = [Reference(d.subject, d.subject, d.version) for d in deps]
    try:
        schema.parsed = parse_schema(schema.text, references=refs, dependencies=[d.parsed for d in deps if d.parsed])
    except RegistryError as exc:
        yield CatalogProblem(str(schema.path), "", "schema.invalid", exc.message)


def _check_versions(schemas: list[CatalogSchema], policy: Policy | None) -> Iterator[CatalogProblem]:
    earlier: dict[str, list[CatalogSchema]] = {}
    for schema in schemas:
        if schema.parsed is None:
            continue
        level = policy.level_for(schema.subject) if policy else CompatibilityLevel.BACKWARD
        previous = earlier.setdefault(schema.subject, [])
        if policy is None or not policy.relaxed(schema.subject, "compatibility.breaking-change"):
            yield from _breaks(schema, previous if level.transitive else previous[-1:], level)
        previous.append(schema)


def _breaks(
    schema: CatalogSchema, previous: list[CatalogSchema], level: CompatibilityLevel
) -> Iterator[CatalogProblem]:
    assert schema.parsed is not None
    for old in reversed(previous):
        assert old.parsed is not None
        directions = []
        if level.backward:
            directions.append(
                ("BACKWARD", schema.parsed, old.parsed, f"v{schema.version} cannot read v{old.version}'s data")
            )
        if level.forward:
            directions.append(
                ("FORWARD", old.parsed, schema.parsed, f"v{old.version} cannot read v{schema.version}'s data")
            )
        for direction, reader, writer, what in directions:
            for problem in reader_writer_problems(reader, writer):
                where = "" if reader is schema.parsed else f" (pointer into {old.path.name})"
                yield CatalogProblem(
                    str(schema.path),
                    problem.pointer,
                    "compatibility.breaking-change",
                    f"{level} ({direction}): {what}{where}: {problem}. A breaking change needs a new major "
                    "version under a new subject (a new record name), never an overwrite",
                )


def _check_against_registry(schemas: list[CatalogSchema], registry: RegistryClient) -> Iterator[CatalogProblem]:
    for schema in schemas:
        if schema.parsed is None:
            continue
        try:
            refs = registry.auto_references(schema.json)
            ok, messages = registry.compatibility(schema.subject, schema.text, refs)
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
    schemas, problems = load_catalog(root)
    if problems:
        raise RegistryError("; ".join(map(str, problems)), http_status=422, error_code=42201)
    for schema in schemas:
        client: RegistryClient = client_for(schema.subject)
        present = _registered_version(client, schema)
        if present is not None:
            where = f"version {present['version']}, id {present['id']}"
            yield f"{schema.subject} v{schema.version}: already registered as {where}"
            continue
        schema_id = client.register(schema.subject, schema.text, client.auto_references(schema.json))
        yield f"{schema.subject} v{schema.version}: registered, id {schema_id}"


def _registered_version(client: RegistryClient, schema: CatalogSchema) -> dict[str, Any] | None:
    mine = json.dumps(canonical_json(schema.json), sort_keys=True)
    try:
        versions = client.versions(schema.subject)
    except RegistryError as exc:
        if exc.error_code == 40401:
            return None
        raise
    for version in versions:
        held = client.version(schema.subject, version)
        if json.dumps(canonical_json(json.loads(held["schema"])), sort_keys=True) == mine:
            return held
    return None
