"""``enlace kafka up|status|down``: a genuine Apache Kafka in the background, for development."""

from __future__ import annotations

import typer

from bus import load_settings
from bus.transport import KafkaClientConfig
from ops.kafka import OPERATOR_PRINCIPAL, BackgroundCluster, LocalCluster, kafka_version, wait_for_brokers

kafka_app = typer.Typer(help="Run a local Apache Kafka cluster in the background.", no_args_is_help=True)


@kafka_app.command("up")
def up(
    nodes: int = typer.Option(1, "--nodes", help="1, or 3 for replication tests."),
    insecure: bool = typer.Option(
        False, "--insecure", help="PLAINTEXT, no sign-in, no ACLs: for your own machine only (ENLACE_KAFKA_INSECURE)."
    ),
) -> None:
    """Start a local cluster in the background (secured: TLS, SASL/SCRAM, deny-by-default ACLs).

    Prints the operator's Kafka client properties file, then, as the last line, the bootstrap servers.
    """
    if nodes not in (1, 3):
        raise typer.BadParameter("--nodes must be 1 or 3", param_hint="--nodes")
    settings = load_settings()
    if insecure:
        settings = settings.model_copy(update={"kafka_insecure": True})
    if settings.bootstrap_servers or settings.kafka_config:
        typer.echo("ENLACE_BOOTSTRAP_SERVERS or ENLACE_KAFKA_CONFIG is set: using that cluster, not starting one.")
        config = KafkaClientConfig.from_settings(settings)
        wait_for_brokers(config, 1, timeout=settings.kafka_start_timeout_s)
        typer.echo(config.bootstrap_servers)
        return
    background = BackgroundCluster()
    running = background.running()
    if running is not None:
        typer.echo(f"A local Kafka cluster is already running ({len(running.running_nodes())} node(s)).")
        _operator_properties(background, running)
        typer.echo(running.bootstrap_servers)
        return
    how = "INSECURE (plaintext, no ACLs)" if settings.kafka_insecure else "secured (TLS, SASL/SCRAM-SHA-512, ACLs)"
    typer.echo(f"Starting Apache Kafka {kafka_version()} with {nodes} node(s), {how}...", err=True)
    cluster = background.up(settings, nodes=nodes)
    typer.echo(f"Apache Kafka {kafka_version()} is up: {nodes} node(s), {how}, data in {cluster.workdir}")
    _operator_properties(background, cluster)
    typer.echo("Stop it with: enlace kafka down")
    typer.echo(cluster.bootstrap_servers)


def _operator_properties(background: BackgroundCluster, cluster: LocalCluster) -> None:
    if cluster.security is None:
        typer.echo("No credentials: any client on this machine may read and write every topic.")
        return
    path = background.client_properties(cluster, OPERATOR_PRINCIPAL)
    typer.echo(f"operator (super user) client configuration: {path}")
    typer.echo("agencies' configurations: enlace agency client-config URN")


@kafka_app.command("status")
def status() -> None:
    """Say whether a local cluster runs, its nodes and its bootstrap servers."""
    running = BackgroundCluster().running()
    if running is None:
        typer.echo("No local Kafka cluster is running (start one with: enlace kafka up).")
        raise typer.Exit(3)
    alive = running.running_nodes()
    how = "secured" if running.security is not None else "INSECURE"
    typer.echo(
        f"Local Kafka cluster ({how}): {len(alive)} of {len(running.node_ids)} node(s) running, pids {running.pids()}"
    )
    typer.echo(running.bootstrap_servers)


@kafka_app.command("down")
def down() -> None:
    """Stop the local cluster and delete its data."""
    stopped = BackgroundCluster().down()
    if stopped is None:
        typer.echo("No local Kafka cluster was running.")
        return
    typer.echo(f"Stopped the local Kafka cluster ({len(stopped.node_ids)} node(s)).")
