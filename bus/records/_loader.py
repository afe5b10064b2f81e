"""Read a catalog's ``.avsc`` files, collecting every problem instead of stopping at the first.

The one reader of schema files: :func:`bus.records.load_catalog` builds the catalog from what it
returns (and refuses the folder on any problem), and the registry's offline checks
(``enlace schemas check``) report every problem it finds, with the file, a JSON pointer and a rule.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bus.avsc import NAMED_KINDS, full_name, referenced_names

__all__ = ["CatalogProblem", "SchemaFile", "read_schema_files"]

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


@dataclass(frozen=True)
class SchemaFile:
    """One ``.avsc`` file, read and decoded.

    Attributes:
        path: the file.
        text: its text, unchanged (what gets registered).
        schema: the decoded JSON: a named type's definition.
        full_name: the full name it defines, which is also its registry subject.
        version: ``N`` of ``vN.avsc`` (1 for a file named otherwise).
        uses: the full names it refers to without defining them, in order of first use.
    """

    path: Path
    text: str
    schema: dict[str, Any]
    full_name: str
    version: int
    uses: tuple[str, ...]


def read_schema_files(root: str | Path) -> tuple[list[SchemaFile], list[CatalogProblem]]:
    """Read every ``.avsc`` under ``root`` (or the one file ``root``), referenced types first.

    Args:
        root: a folder, searched recursively, or one ``.avsc`` file.

    Returns:
        The files that could be read, in dependency order (each after the types it uses, then by
        full name and version), and one problem per file that could not (rule ``schema.invalid``).
    """
    root = Path(root)
    paths = sorted(root.rglob("*.avsc")) if root.is_dir() else [root]
    files: list[SchemaFile] = []
    problems: list[CatalogProblem] = []
    for path in paths:
        read = _read(path)
        if isinstance(read, CatalogProblem):
            problems.append(read)
        else:
            files.append(read)
    return _dependency_order(files), problems


def _read(path: Path) -> SchemaFile | CatalogProblem:
    text = path.read_text(encoding="utf-8")
    try:
        node = json.loads(text)
    except json.JSONDecodeError as exc:
        return CatalogProblem(
            str(path), "", "schema.invalid", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        )
    kind = node.get("type") if isinstance(node, dict) else None
    if not isinstance(kind, str) or kind not in NAMED_KINDS or not isinstance(node.get("name"), str):
        return CatalogProblem(str(path), "/type", "schema.invalid", "a catalog schema is a named type")
    match = _VERSION.match(path.stem)
    version = int(match.group(1)) if match else 1
    return SchemaFile(path, text, node, full_name(node), version, tuple(referenced_names(node)))


def _dependency_order(files: list[SchemaFile]) -> list[SchemaFile]:
    by_name: dict[str, list[SchemaFile]] = {}
    for file in sorted(files, key=lambda f: (f.full_name, f.version, str(f.path))):
        by_name.setdefault(file.full_name, []).append(file)
    ordered: list[SchemaFile] = []
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done or name in visiting or name not in by_name:
            return
        visiting.add(name)
        for file in by_name[name]:
            for used in file.uses:
                visit(used)
        visiting.discard(name)
        done.add(name)
        ordered.extend(by_name[name])

    for name in sorted(by_name):
        visit(name)
    return ordered
