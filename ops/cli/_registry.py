"""``enlace registry serve|token`` and ``enlace schemas check|register``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import typer
import yaml

from bus import ConfigError, EnlaceSettings, load_settings
from bus.policy import Policy, load_policy
from bus.registry import RegistryClient
from bus.registry.checks import CatalogProblem, check_catalog, register_catalog
from ops.cli._bus import client_config
from ops.kafka import REGISTRY_PRINCIPAL
from ops.registry import SERVING

registry_app = typer.Typer(help="Run the schema registry and manage agency credentials.", no_args_is_help=True)
schemas_app = typer.Typer(help="Check and register the schema catalog (for integrators' CI).", no_args_is_help=True)

_SCHEMAS = Path("schemas")
_DEFAULT_POLICY = _SCHEMAS / "policy.yaml"


def _policy(choice: str | None, settings: EnlaceSettings) -> Policy | None:
    choice = choice or settings.registry_policy
    if choice is None:
        if not _DEFAULT_POLICY.exists():
            raise ConfigError(
                f"no policy given and {_DEFAULT_POLICY} does not exist: pass --policy FILE or --policy none"
            )
        choice = str(_DEFAULT_POLICY)
    return None if choice.lower() == "none" else load_policy(choice)


@registry_app.command("serve")
def serve(
    port: int = typer.Option(8081, "--port", help="TCP port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback by default)."),
    policy: str = typer.Option(
        None, "--policy", help="Policy file, or 'none' for a plain Confluent-compatible registry."
    ),
) -> None:
    """Serve the registry's REST API, storing everything in the Kafka topic ENLACE_REGISTRY_TOPIC."""
    import uvicorn

    from bus.registry.server import AgencyCredentials, KafkaSchemaLog, SchemaRegistry, create_app

    settings = load_settings()
    chosen = _policy(policy, settings)
    credentials = AgencyCredentials.load(settings.registry_credentials)
    registry = SchemaRegistry(
        KafkaSchemaLog(
            client_config(settings, REGISTRY_PRINCIPAL),
            settings.registry_topic,
            transactional_id=settings.registry_writer_id(),
        ),
        policy=chosen,
        credentials=credentials,
    )
    registry.start()
    what = f"policy {chosen.source}" if chosen else "no policy"
    typer.echo(f"Enlace schema registry on http://{host}:{port} (topic {settings.registry_topic}, {what})", err=True)
    try:
        uvicorn.run(create_app(registry), host=host, port=port, log_level="warning", access_log=False, **SERVING)
    finally:
        registry.close()


@registry_app.command("token")
def token(
    agency: str = typer.Option(..., "--agency", help="The agency's URN, e.g. urn:mx:gob:sat."),
    file: str = typer.Option(
        None, "--file", help="The registry's credentials file (default ENLACE_REGISTRY_CREDENTIALS)."
    ),
) -> None:
    """Make a token for an agency: its hash goes to the credentials file, the token is printed once."""
    from bus.registry.server import add_agency_token

    target = file or load_settings().registry_credentials
    if not target:
        raise ConfigError("say where the credentials file is: --file or ENLACE_REGISTRY_CREDENTIALS")
    typer.echo(add_agency_token(target, agency))


def _format(problems: list[CatalogProblem], style: str, root: str) -> str:
    if style == "github":
        return "\n".join(
            f"::error file={p.file},title={p.rule}::{p.pointer or '/'}: {p.message}".replace("\n", " ")
            for p in problems
        )
    if style == "junit":
        cases = "".join(
            f'<testcase classname="enlace.schemas" name={quoteattr(p.file + "#" + (p.pointer or "/"))}>'
            f"<failure type={quoteattr(p.rule)} message={quoteattr(p.message)}>{escape(str(p))}</failure></testcase>"
            for p in problems
        )
        if not problems:
            cases = f'<testcase classname="enlace.schemas" name={quoteattr(root)}/>'
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuite name="enlace schemas check" tests="{max(1, len(problems))}" failures="{len(problems)}">'
            f"{cases}</testsuite>"
        )
    return "\n".join(str(p) for p in problems)


@schemas_app.command("check")
def check(
    folder: str = typer.Argument(str(_SCHEMAS), metavar="PATH", help="Folder of .avsc files (or one file)."),
    registry: str = typer.Option(
        None, "--registry", help="Check against this registry's versions instead of the files."
    ),
    output: str = typer.Option("text", "--format", help="text, github (workflow annotations) or junit (XML)."),
    policy: str = typer.Option(
        None, "--policy", help="Policy file (default: policy.yaml beside the schemas), or none."
    ),
) -> None:
    """Check every .avsc against the Interoperability Policy and the earlier versions; exit 1 on any problem."""
    path = Path(folder)
    if output not in ("text", "github", "junit"):
        raise typer.BadParameter("--format must be text, github or junit", param_hint="--format")
    if not path.exists():
        raise typer.BadParameter(f"{path} does not exist", param_hint="PATH")
    if policy is None:
        beside = (path if path.is_dir() else path.parent) / "policy.yaml"
        policy = str(beside) if beside.exists() else None
    chosen = _policy(policy, load_settings())
    client = RegistryClient(registry) if registry else None
    try:
        problems = check_catalog(path, chosen, registry=client)
    finally:
        if client is not None:
            client.close()
    text = _format(problems, output, str(path))
    if text:
        typer.echo(text)
    count = len(list(path.rglob("*.avsc"))) if path.is_dir() else 1
    typer.echo(f"{len(problems)} problem(s) in {count} schema file(s)", err=True)
    if problems:
        raise typer.Exit(1)


def _tokens(settings: EnlaceSettings) -> dict[str, Any]:
    if not settings.registry_tokens:
        return {}
    path = Path(settings.registry_tokens)
    if path.stat().st_mode & 0o077:
        raise ConfigError(f"{path} holds tokens: make it private (chmod 600)")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected agency URN: token")
    return data


@schemas_app.command("register")
def register(
    folder: str = typer.Argument(str(_SCHEMAS), metavar="PATH", help="Folder of .avsc files."),
    registry: str = typer.Option(..., "--registry", help="The registry's URL."),
    policy: str = typer.Option(
        None, "--policy", help="Policy file naming each namespace's owner (default: beside the schemas)."
    ),
) -> None:
    """Register the catalog in dependency order (references first); what is already there is skipped."""
    path = Path(folder)
    settings = load_settings()
    tokens = _tokens(settings)
    if policy is None:
        beside = path / "policy.yaml"
        policy = str(beside) if beside.exists() else "none"
    chosen = _policy(policy, settings)
    token = settings.registry_token
    clients: dict[str | None, RegistryClient] = {}

    def client_for(subject: str) -> RegistryClient:
        owner = chosen.owner_of(subject.rpartition(".")[0]) if chosen else None
        if owner not in clients:
            clients[owner] = RegistryClient(registry, credential=(tokens.get(owner) if owner else None) or token)
        return clients[owner]

    try:
        for line in register_catalog(path, client_for):
            typer.echo(line)
    finally:
        for client in clients.values():
            client.close()
    sys.stdout.flush()
