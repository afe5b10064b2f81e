"""The ``enlace`` command line: one Typer app, one sub-app per area."""

from __future__ import annotations

import sys

import typer

from bus import EnlaceError
from ops.cli._acl import acl_app
from ops.cli._agency import agency_app
from ops.cli._bridge import bridge_app
from ops.cli._dlq import dlq_app
from ops.cli._exchange import exchange_app
from ops.cli._kafka import kafka_app
from ops.cli._log import log_app
from ops.cli._records import records_app
from ops.cli._registry import registry_app, schemas_app
from ops.cli._stack import register_stack_commands

__all__ = ["app", "main"]

app = typer.Typer(
    name="enlace",
    help="Enlace: the interoperability bus for government agencies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(kafka_app, name="kafka")
register_stack_commands(app)
app.add_typer(records_app, name="records")
app.add_typer(registry_app, name="registry")
app.add_typer(schemas_app, name="schemas")
app.add_typer(agency_app, name="agency")
app.add_typer(dlq_app, name="dlq")
app.add_typer(acl_app, name="acl")
app.add_typer(bridge_app, name="bridge")
app.add_typer(log_app, name="log")
app.add_typer(exchange_app)  # enlace publish, enlace consume


def main() -> None:
    """Entry point of the ``enlace`` console script: Enlace errors become one clear line, exit 1."""
    try:
        app()
    except EnlaceError as exc:
        print(f"enlace: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
