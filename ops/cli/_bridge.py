"""``enlace bridge serve|certificates|issue|drop``: the HTTP bridge for agencies that cannot speak Kafka."""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Annotated

import httpx
import typer

from bus import SchemaError
from bus.records import catalog
from connectors.bridge import BridgeCertificates, load_bridge_config, serve
from connectors.bridge._batch import drop_file

bridge_app = typer.Typer(
    help="The HTTP bridge: serve it, issue agencies' certificates, drop batch files.", no_args_is_help=True
)


@bridge_app.command("serve")
def serve_command(config: Annotated[Path, typer.Argument(help="The bridge's configuration (YAML or JSON).")]) -> None:
    """Serve the bridge over mutual TLS until SIGTERM or Ctrl-C (OpenAPI at URL/openapi.json)."""
    loaded = load_bridge_config(config)
    typer.echo(f"bridge: https://{loaded.host}:{loaded.port}", err=True)
    serve(loaded)


@bridge_app.command("certificates")
def certificates_command(out: Annotated[Path, typer.Argument(help="The bridge's TLS folder to create.")]) -> None:
    """Make the bridge's CA and server certificate (localhost, 127.0.0.1) in a new folder (0700)."""
    made = BridgeCertificates.create(out)
    typer.echo(str(made.ca_file))


@bridge_app.command("issue")
def issue_command(
    agency: Annotated[str, typer.Argument(help="The agency's URN, named in the certificate.")],
    tls_dir: Annotated[Path, typer.Option("--tls-dir", help="The bridge's TLS folder.")],
    out: Annotated[Path, typer.Option("--out", help="Where the agency's certificate and key (0600) go.")],
) -> None:
    """Issue an agency its bridge client certificate; prints the certificate's and the key's paths."""
    cert, key = BridgeCertificates.load(tls_dir).issue(agency, out)
    typer.echo(f"{cert}\n{key}")


@bridge_app.command("drop")
def drop_command(
    record_name: Annotated[str, typer.Argument(help="The record every line holds, e.g. CaseOpened.")],
    file: Annotated[Path, typer.Argument(help="A CSV file (header: field pointers) or JSON lines.")],
    bridge: Annotated[str, typer.Option("--bridge", help="The bridge's URL.")],
    cert: Annotated[Path, typer.Option("--cert", help="The agency's bridge certificate.")],
    key: Annotated[Path, typer.Option("--key", help="Its private key.")],
    ca: Annotated[Path, typer.Option("--ca", help="The bridge's CA certificate.")],
    progress: Annotated[
        Path | None, typer.Option("--progress", help="Progress file (default FILE.progress.json).")
    ] = None,
) -> None:
    """Publish a batch file through the bridge; print one JSON line per line of the file (accepted or
    refused, with why). Run it again after a crash: finished chunks are skipped, nothing is sent twice.

    Exit status: 0 every line accepted, 1 some refused, 2 the file or the bridge unusable.
    """
    try:
        record_type = catalog().get(record_name)
    except SchemaError as exc:
        typer.echo(f"enlace: {exc}", err=True)
        raise typer.Exit(2) from None
    context = ssl.create_default_context(cafile=str(ca))
    context.load_cert_chain(str(cert), str(key))
    try:
        with httpx.Client(base_url=bridge, verify=context, timeout=120) as client:
            reports = drop_file(client, record_type, file, progress=progress)
    except (OSError, ValueError, httpx.HTTPError) as exc:
        typer.echo(f"enlace: {exc}", err=True)
        raise typer.Exit(2) from None
    for report in reports:
        typer.echo(json.dumps(report.as_json(), ensure_ascii=False))
    refused = sum(1 for r in reports if r.outcome == "refused")
    typer.echo(f"{len(reports) - refused} accepted, {refused} refused", err=True)
    if refused:
        raise typer.Exit(1)
