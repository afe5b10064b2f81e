"""``enlace kafka up|status|down``: a genuine Apache Kafka in the background, for development."""

from __future__ import annotations

import typer

from bus import load_settings
from bus.transport import KafkaClientConfig
from ops.kafka import BackgroundCluster, kafka_version, wait_for_brokers

kafka_app = typer.Typer(help="Run a local Apache Kafka cluster in the background.", no_args_is_help=True)


@kafka_app.command("up")
def up(nodes: int = typer.Option(1, "--nodes", help="1, or 3 for replication tests.")) -> None:
    """Start a local cluster in the background; the last line printed is its bootstrap servers."""
    if nodes not in (1, 3):
        raise typer.BadParameter("--nodes must be 1 or 3", param_hint="--nodes")
    settings = load_settings()
    if settings.bootstrap_servers:
        typer.echo("ENLACE_BOOTSTRAP_SERVERS is set: using that cluster, not starting one.")
        wait_for_brokers(KafkaClientConfig.from_settings(settings), 1, timeout=settings.kafka_start_timeout_s)
        typer.echo(settings.bootstrap_servers)
        return
    background = BackgroundCluster()
    running = background.running()
    if running is not None:
        typer.echo(f"A local Kafka cluster is already running ({len(running.running_nodes())} node(s)).")
        typer.echo(running.bootstrap_servers)
        return
    typer.echo(f"Starting Apache Kafka {kafka_version()} with {nodes} node(s)...", err=True)
    cluster = background.up(settings, nodes=nodes)
    typer.echo(f"Apache Kafka {kafka_version()} is up: {nodes} node(s), data in {cluster.workdir}")
    typer.echo("Stop it with: enlace kafka down")
    typer.echo(cluster.bootstrap_servers)


@kafka_app.command("status")
def status() -> None:
    """Say whether a local cluster runs, its nodes and its bootstrap servers."""
    running = BackgroundCluster().running()
    if running is None:
        typer.echo("No local Kafka cluster is running (start one with: enlace kafka up).")
        raise typer.Exit(3)
    alive = running.running_nodes()
    typer.echo(f"Local Kafka cluster: {len(alive)} of {len(running.node_ids)} node(s) running, pids {running.pids()}")
    typer.echo(running.bootstrap_servers)


@kafka_app.command("down")
def down() -> None:
    """Stop the local cluster and delete its data."""
    stopped = BackgroundCluster().down()
    if stopped is None:
        typer.echo("No local Kafka cluster was running.")
        return
    typer.echo(f"Stopped the local Kafka cluster ({len(stopped.node_ids)} node(s)).")
