"""Generate ``bus/records/models.py`` from the catalog: one pydantic model per record version.

Run ``enlace records generate`` (or ``python -m bus.records.generate``) after changing a ``.avsc``;
``--check`` exits 1 when the committed models differ from what the schemas produce. A door of its
own, apart from ``bus.records``: only the ``enlace`` CLI and the tests need the generator::

    from bus.records.generate import generate_models_source, models_path, write_models
"""

from __future__ import annotations

import json
import keyword
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bus._errors import SchemaError
from bus.records._catalog import Catalog, catalog
from bus.records._record_type import RecordType, model_class_name

__all__ = ["generate_models_source", "main", "models_path", "python_name", "write_models"]

_HEADER = '''\
"""Typed shared records, generated from the catalog's .avsc files. Do not edit: run
``enlace records generate`` after changing a schema (a test fails while this file is out of date).

One class per record version (``CaseOpenedV1``, ``CaseOpenedV2``) and the latest version under the
plain name (``CaseOpened``). Fields have Python names and accept the Avro names too; construction
checks types and domain rules and raises ``bus.ValidationError`` with every problem.
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from bus.records._model_base import (
    Bool,
    Const,
    Curp,
    DecimalDigits,
    Frozen,
    Int,
    Long,
    Maximum,
    Minimum,
    Pattern,
    RecordModel,
    Rfc,
    RfcLenient,
    Timestamp,
    Uuid,
)
'''
_RESERVED = set(dir(BaseModel)) | {"key", "to_avro", "from_avro"}
_PRIMITIVE_TYPES = {
    "null": "None",
    "boolean": "Bool",
    "int": "Int",
    "long": "Long",
    "float": "float",
    "double": "float",
    "string": "str",
    "bytes": "bytes",
}
_LOGICAL_TYPES = {
    ("int", "date"): "dt.date",
    ("long", "timestamp-millis"): "Timestamp",
    ("long", "timestamp-micros"): "dt.datetime",
    ("string", "uuid"): "Uuid",
}
_FORMATS = {"curp": "Curp", "rfc": "Rfc", "rfc-lenient": "RfcLenient"}


def models_path() -> Path:
    """Where the generated models live: ``bus/records/models.py``."""
    return Path(__file__).with_name("models.py")


def generate_models_source(cat: Catalog | None = None) -> str:
    """The source of ``models.py`` for a catalog (the configured one when None).

    Raises:
        SchemaError: a field name would clash with the model's own attributes.
    """
    cat = cat or catalog()
    blocks: list[str] = []
    exported: list[str] = []
    for record_type in cat.records():
        unit = _Unit(record_type, cat)
        blocks.extend(unit.render())
        exported.extend(unit.exported)
    latest = []
    for name in cat.names():
        newest = cat.get(name)
        if newest.kind == "record":
            latest.append(f"{newest.name} = {model_class_name(newest.name, newest.version)}")
            exported.append(newest.name)
    blocks.append("# The latest version of each record, under its plain name.\n" + "\n".join(latest))
    exported_lines = "".join(f'    "{name}",\n' for name in sorted(exported))
    blocks.append(f"__all__ = [\n{exported_lines}]")
    return _HEADER + "\n\n" + "\n\n\n".join(blocks) + "\n"


def write_models(*, check: bool = False, cat: Catalog | None = None) -> bool:
    """Regenerate ``models.py``, or only compare it.

    Args:
        check: compare without writing.
        cat: the catalog to generate from; the configured one when None.

    Returns:
        True when the file on disk already matched.
    """
    source = generate_models_source(cat)
    path = models_path()
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if current == source:
        return True
    if not check:
        path.write_text(source, encoding="utf-8")
    return False


def main(argv: list[str] | None = None) -> int:
    """``python -m bus.records.generate [--check]``."""
    args = sys.argv[1:] if argv is None else argv
    check = "--check" in args
    matched = write_models(check=check)
    if matched:
        print(f"{models_path()} is up to date")
        return 0
    if check:
        print(f"{models_path()} is out of date: run `enlace records generate`", file=sys.stderr)
        return 1
    print(f"rewrote {models_path()}")
    return 0


def python_name(avro_name: str) -> str:
    """The Python attribute for an Avro field name: ``citizenCurp`` -> ``citizen_curp``."""
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", avro_name).lower()
    return snake + "_" if keyword.iskeyword(snake) else snake


@dataclass
class _Unit:
    """The code for one record version: its model, the models of records defined inside it, and
    the Literal aliases of its enumerations."""

    record_type: RecordType
    cat: Catalog
    prefix: str = ""
    blocks: list[str] = field(default_factory=list)
    exported: list[str] = field(default_factory=list)
    local: dict[str, str] = field(default_factory=dict)  # full name -> Python name, for this schema

    def render(self) -> list[str]:
        self.prefix = model_class_name(self.record_type.name, self.record_type.version)
        parsed = self.record_type.parsed
        if parsed["type"] == "enum":
            self.enum_alias(parsed, self.prefix)
        else:
            self.model(parsed, self.prefix, top=True)
        return self.blocks

    def enum_alias(self, schema: dict[str, Any], alias: str) -> str:
        symbols = ", ".join(f'"{s}"' for s in schema["symbols"])
        doc = _comment(schema.get("doc", ""))
        if len(alias) + len(symbols) > 90:
            wrapped = textwrap.fill(symbols, width=96, initial_indent="    ", subsequent_indent="    ")
            symbols = f"\n{wrapped},\n"
        self.blocks.append(f"{doc}{alias} = Literal[{symbols}]")
        self.exported.append(alias)
        self.local[schema["name"]] = alias
        return alias

    def model(self, schema: dict[str, Any], class_name: str, *, top: bool = False) -> str:
        self.local[schema["name"]] = class_name
        lines = [f"class {class_name}(RecordModel):"]
        lines.append(_docstring(schema.get("doc", ""), self.source_note()))
        lines.append(f'    avro_name: ClassVar[str] = "{schema["name"]}"')
        lines.append(f"    avro_version: ClassVar[int] = {self.record_type.version}")
        if top:
            lines.append(f'    avro_fingerprint: ClassVar[str] = "{self.record_type.fingerprint}"')
            if self.record_type.key_field:
                key = tuple(python_name(part) for part in self.record_type.key_field.split("."))
                names = "".join(f"{_literal(part)}, " for part in key).rstrip(" ")
                lines.append(f"    avro_key: ClassVar[tuple[str, ...]] = ({names})")
        lines.append("")
        for member in schema["fields"]:
            lines.extend(self.field_lines(member, schema["name"]))
        self.blocks.append("\n".join(lines).rstrip())
        self.exported.append(class_name)
        return class_name

    def source_note(self) -> str:
        path = self.record_type.path.relative_to(self.cat.root.parent).as_posix()
        return f"Generated from {path}."

    def field_lines(self, member: dict[str, Any], record_name: str) -> list[str]:
        name = python_name(member["name"])
        if name in _RESERVED or name.startswith("model_"):
            raise SchemaError(
                f"{self.record_type.path}: field {member['name']!r} of {record_name} clashes with a model "
                "attribute; rename the field"
            )
        annotation = self.annotation(member["type"], member)
        arguments = []
        if "default" in member:
            arguments.append(_default(member["default"]))
            if "Frozen" in annotation:  # pydantic does not validate a default: this freezes the empty list
                arguments.append("validate_default=True")
        if name != member["name"]:
            arguments.append(f'alias="{member["name"]}"')
        arguments.append(f"description={_string(member.get('doc', ''), indent=12)}")
        body = "".join(f"        {argument},\n" for argument in arguments)
        return [f"    {name}: {annotation} = Field(\n{body}    )"]

    def annotation(self, schema: Any, member: dict[str, Any] | None = None) -> str:
        """The Python type of a schema; ``member``'s rules (format, pattern...) apply to its value."""
        if isinstance(schema, list):
            branches = [self.annotation(branch, member) for branch in schema if branch != "null"]
            text = " | ".join(branches)
            return f"{text} | None" if "null" in schema else text
        base = self.base_annotation(schema)
        rules = _rules(member) if member is not None else []
        return f"Annotated[{base}, {', '.join(rules)}]" if rules else base

    def base_annotation(self, schema: Any) -> str:
        if isinstance(schema, str):
            if schema in _PRIMITIVE_TYPES:
                return _PRIMITIVE_TYPES[schema]
            return self.named(schema)
        kind = schema["type"]
        if kind == "enum":
            return self.enum_alias(schema, self.prefix + schema["name"].rsplit(".", 1)[1])
        if kind in ("record", "error"):
            return self.model(schema, self.prefix + schema["name"].rsplit(".", 1)[1])
        if kind == "array":
            return f"Annotated[list[{self.annotation(schema['items'])}], Frozen]"
        if kind == "map":
            return f"Annotated[dict[str, {self.annotation(schema['values'])}], Frozen]"
        if kind == "fixed":
            return "bytes"
        logical = schema.get("logicalType")
        if logical == "decimal":
            precision, scale = schema["precision"], schema.get("scale", 0)
            # NaN and infinities reach DecimalDigits, which refuses them with Enlace's rule id.
            return f"Annotated[Decimal, Field(allow_inf_nan=True), DecimalDigits({precision}, {scale})]"
        if (kind, logical) in _LOGICAL_TYPES:
            return _LOGICAL_TYPES[(kind, logical)]
        return self.base_annotation(kind)

    def named(self, full_name: str) -> str:
        if full_name in self.local:
            return self.local[full_name]
        shared = self.cat.get(full_name)  # a shared type: its latest version, generated earlier
        return model_class_name(shared.name, shared.version)


def _rules(member: dict[str, Any]) -> list[str]:
    rules = []
    if member.get("format") in _FORMATS:
        rules.append(_FORMATS[member["format"]])
    if "pattern" in member:
        rules.append(f"Pattern({_regex(member['pattern'])})")
    if "minimum" in member:
        rules.append(f"Minimum({_literal(member['minimum'])})")
    if "maximum" in member:
        rules.append(f"Maximum({_literal(member['maximum'])})")
    if "const" in member:
        rules.append(f"Const({_literal(member['const'])})")
    return rules


def _default(value: Any) -> str:
    if value == [] or value == {}:
        return f"default_factory={type(value).__name__}"
    if isinstance(value, (list, dict)):
        return f"default_factory=lambda: {value!r}"
    return _literal(value)


def _literal(value: Any) -> str:
    """A Python literal in the house style (double quotes)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid Python string literal
    return repr(value)


def _regex(pattern: str) -> str:
    if '"' not in pattern and not pattern.endswith("\\"):
        return f'r"{pattern}"'
    return _literal(pattern)


def _string(text: str, *, indent: int) -> str:
    """A string literal, split over lines of at most ~100 characters."""
    chunks = textwrap.wrap(text, width=96 - indent, break_long_words=False, break_on_hyphens=False)
    if len(chunks) <= 1:
        return _literal(text)
    pad = " " * indent
    parts = [_literal(chunk + " ") for chunk in chunks[:-1]] + [_literal(chunks[-1])]
    return "(\n" + "".join(f"{pad}{part}\n" for part in parts) + " " * (indent - 4) + ")"


def _docstring(doc: str, note: str) -> str:
    text = doc.replace("\\", "\\\\").replace('"""', '\\"""')
    body = textwrap.fill(text, width=96, initial_indent="    ", subsequent_indent="    ")
    return f'    """{body.strip()}\n\n    {note}\n    """\n'


def _comment(doc: str) -> str:
    if not doc:
        return ""
    return "".join(f"# {line}\n" for line in textwrap.wrap(doc, width=100))


if __name__ == "__main__":
    sys.exit(main())
