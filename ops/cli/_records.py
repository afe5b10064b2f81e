"""``enlace records validate|list|generate``: the shared records' catalog from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from bus import SchemaError, ValidationError
from bus.records import CLASSIFICATIONS, Catalog, catalog, from_json, load_catalog
from bus.records.generate import write_models
from ops.cli._json_input import UnusableFile, exit_unusable, read_document

records_app = typer.Typer(help="The shared records: validate, list, regenerate the models.", no_args_is_help=True)

_Schemas = Annotated[
    Path | None,
    typer.Option("--schemas", help="A schemas/ folder (default: ENLACE_SCHEMAS_DIR or the repo's)."),
]


def _catalog(schemas: Path | None) -> Catalog:
    return load_catalog(schemas) if schemas else catalog()


@records_app.command("validate")
def validate_command(
    record: Annotated[str, typer.Argument(help="Record name, e.g. CaseOpened or mx.gob.crm.CaseOpened.")],
    file: Annotated[Path, typer.Argument(help="A JSON file holding one record, or a list of records.")],
    version: Annotated[int | None, typer.Option("--version", "-v", help="Schema version (default: latest).")] = None,
    schemas: _Schemas = None,
) -> None:
    """Check a JSON record against its schema and domain rules; print every problem.

    Exit status: 0 valid, 1 invalid, 2 the record type or the file cannot be used.
    """
    try:
        record_type = _catalog(schemas).get(record, version)
    except SchemaError as exc:
        typer.echo(f"enlace: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        document = read_document(file)
    except UnusableFile as exc:
        raise exit_unusable(exc) from None
    items = document if isinstance(document, list) else [document]
    problems: list[ValidationError] = []
    for index, item in enumerate(items):
        prefix = f"/{index}" if isinstance(document, list) else ""
        try:
            from_json(record_type, item)
        except ValidationError as exc:
            for problem in exc.problems or [exc]:
                problem.path = prefix + (problem.path or "")
                problems.append(problem)
    label = f"{record_type.full_name} v{record_type.version}"
    if not problems:
        count = f"all {len(items)} records are" if isinstance(document, list) else "the record is"
        typer.echo(f"{file}: {count} valid as {label}")
        return
    typer.echo(f"{file}: not valid as {label}: {len(problems)} problem(s)")
    for problem in problems:
        value = json.dumps(_jsonable(problem.value), ensure_ascii=False)
        line = f"  {problem.path or '/'}  [{problem.rule}]  value {value}: {problem.message}"
        typer.echo(line.encode("utf-8", "backslashreplace").decode("utf-8"))  # printable whatever it holds
    raise typer.Exit(1)


@records_app.command("list")
def list_command(schemas: _Schemas = None) -> None:
    """Print the catalog: records, versions, owner, topic, key, and fields by classification."""
    cat = _catalog(schemas)
    for name in cat.names():
        versions = cat.versions(name)
        latest = versions[-1]
        numbers = ", ".join(f"v{t.version}" for t in versions)
        typer.echo(f"{name}  ({numbers})  owner {latest.owner or '-'}")
        if latest.shared:
            typer.echo(f"    shared {latest.kind}, referenced by records (not sent alone)")
        else:
            typer.echo(f"    topic {latest.topic}  key {latest.key_field}  subject {latest.subject}")
        fields = latest.field_classifications()
        for level in reversed(CLASSIFICATIONS):
            pointers = [pointer for pointer, value in fields.items() if value == level]
            if pointers:
                typer.echo(f"    {level:<9} {', '.join(pointers)}")


@records_app.command("generate")
def generate_command(
    check: bool = typer.Option(False, "--check", help="Only compare; exit 1 when the models are out of date."),
) -> None:
    """Regenerate bus/records/models.py from the schemas (run after changing a .avsc)."""
    if write_models(check=check):
        typer.echo("bus/records/models.py is up to date")
    elif check:
        typer.echo("bus/records/models.py is out of date: run `enlace records generate`", err=True)
        raise typer.Exit(1)
    else:
        typer.echo("rewrote bus/records/models.py")


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value
