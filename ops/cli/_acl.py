"""``enlace acl plan|sync|render``: the Kafka rights the Interoperability Policy grants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bus import ConfigError, load_settings
from bus.transport import AclAdmin, Topics
from ops.acl import current_access, render_strimzi
from ops.cli._bus import client_config

acl_app = typer.Typer(help="Kafka ACLs and topics from the policy (deny by default).", no_args_is_help=True)


def _acls() -> AclAdmin:
    return AclAdmin(client_config())


@acl_app.command("plan")
def plan(
    output: Annotated[str, typer.Option("--format", help="table (for people) or json.")] = "table",
) -> None:
    """Print what `enlace acl sync` would add and remove; exit 0 when the cluster matches the policy."""
    if output not in ("table", "json"):
        raise typer.BadParameter("--format is table or json", param_hint="--format")
    access = current_access(load_settings())
    acls = _acls()
    try:
        changes = access.plan(acls)
    finally:
        acls.close()
    typer.echo(json.dumps(changes.as_dict(), indent=2) if output == "json" else changes.table())


@acl_app.command("sync")
def sync() -> None:
    """Create the topics the catalog needs and make the cluster's ACLs exactly what the policy grants."""
    access = current_access(load_settings())
    acls, topics = _acls(), Topics(client_config())
    try:
        applied, created = access.sync(acls, topics)
    finally:
        acls.close()
        topics.close()
    for topic in created:
        typer.echo(f"created topic {topic}")
    typer.echo(f"{len(applied.add)} binding(s) added, {len(applied.remove)} removed")


@acl_app.command("render")
def render(
    strimzi: Annotated[Path, typer.Option("--strimzi", help="Folder for kafka-users.yaml and kafka-topics.yaml.")],
    cluster: Annotated[str, typer.Option("--cluster", help="The Strimzi Kafka resource's name.")] = "enlace",
    brokers: Annotated[int, typer.Option("--brokers", min=1, help="Brokers of the target cluster.")] = 3,
) -> None:
    """Write the same rights and topics as Strimzi KafkaUser and KafkaTopic resources."""
    if not cluster:
        raise ConfigError("--cluster must name the Strimzi Kafka resource")
    access = current_access(load_settings())
    for path in render_strimzi(access.bindings(), access.topics(brokers=brokers), strimzi, cluster=cluster):
        typer.echo(str(path))
