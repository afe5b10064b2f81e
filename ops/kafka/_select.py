"""Choose which Kafka a test session or command uses: local java, testcontainers, or external."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bus import ConfigError, EnlaceSettings, TransportError
from bus.transport import KafkaClientConfig
from ops.kafka._container import ContainerCluster
from ops.kafka._local import LocalCluster, wait_for_brokers
from ops.kafka._security import OPERATOR_PRINCIPAL, principal_for

__all__ = [
    "ContainerCluster",
    "ExternalCluster",
    "KafkaCluster",
    "bus_principals",
    "choose_mode",
    "docker_unavailable_reason",
    "start_cluster",
    "warn_insecure",
]


class KafkaCluster(Protocol):
    """What every kind of cluster offers its user."""

    @property
    def mode(self) -> str: ...

    @property
    def bootstrap_servers(self) -> str: ...

    def client_config(self, principal: str = OPERATOR_PRINCIPAL) -> KafkaClientConfig:
        """How ``principal`` (the operator, by default) reaches the cluster."""
        ...

    def stop(self) -> None: ...


def docker_unavailable_reason() -> str | None:
    """Return why testcontainers cannot run here, or None when a Docker daemon answers."""
    try:
        import docker  # shipped with testcontainers
    except ImportError:
        return "the testcontainers package is not installed (pip install 'enlace[test]')"
    try:
        client = docker.from_env(timeout=3)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return f"no Docker daemon answers ({type(exc).__name__}: {str(exc)[:120]})"
    return None


def choose_mode(settings: EnlaceSettings, *, nodes: int = 1) -> tuple[str, str]:
    """Return ``(mode, why)`` for this environment.

    ``ENLACE_KAFKA`` forces a mode; otherwise ``external`` when ``ENLACE_BOOTSTRAP_SERVERS`` or
    ``ENLACE_KAFKA_CONFIG`` names a cluster, ``testcontainers`` for a single node when Docker
    answers, else ``local``. Both run secured unless ``ENLACE_KAFKA_INSECURE``.
    """
    if settings.kafka != "auto":
        return settings.kafka, f"ENLACE_KAFKA={settings.kafka}"
    if settings.bootstrap_servers or settings.kafka_config:
        return "external", "ENLACE_BOOTSTRAP_SERVERS or ENLACE_KAFKA_CONFIG names a cluster"
    if nodes != 1:
        return "local", "the container path runs one node only"
    reason = docker_unavailable_reason()
    if reason is None:
        return "testcontainers", "a Docker daemon answers"
    return "local", f"testcontainers skipped: {reason}"


@dataclass
class ExternalCluster:
    """A cluster someone else runs, reached with the one configuration the settings give; never stopped."""

    config: KafkaClientConfig
    mode: str = "external"

    @property
    def bootstrap_servers(self) -> str:
        return self.config.bootstrap_servers

    def client_config(self, principal: str = OPERATOR_PRINCIPAL) -> KafkaClientConfig:
        """The settings' configuration, whoever asks: Enlace holds one identity on a cluster it does not run."""
        return self.config

    def stop(self) -> None:
        return None


def start_cluster(
    settings: EnlaceSettings,
    *,
    nodes: int = 1,
    tied_to_parent: bool = True,
    principals: tuple[str, ...] | None = None,
    workdir: Path | None = None,
) -> KafkaCluster:
    """Start (or attach to) a cluster of ``nodes`` brokers as the settings and environment decide.

    A local cluster is secured (TLS, SASL/SCRAM-SHA-512, deny-by-default ACLs, no topic created on
    first use) unless ``ENLACE_KAFKA_INSECURE`` says otherwise, which it then warns about.

    Args:
        settings: Enlace's settings.
        nodes: 1, or 3 for replication.
        tied_to_parent: a local node dies with this process.
        principals: the SCRAM principals a secured local cluster gets besides the operator's and
            the registry's; by default one per agency the policy names.
        workdir: where a local cluster keeps its data and secrets (a temporary folder by default).

    Raises:
        ConfigError: the forced mode cannot give what was asked.
        TransportError: the cluster did not come up.
    """
    mode, why = choose_mode(settings, nodes=nodes)
    if mode == "external":
        config = KafkaClientConfig.from_settings(settings)
        wait_for_brokers(config, nodes, timeout=settings.kafka_start_timeout_s)
        return ExternalCluster(config)
    secured = not settings.kafka_insecure
    agencies = bus_principals(settings) if principals is None else principals
    if mode == "testcontainers":
        if nodes != 1:
            raise ConfigError("the container path runs one node; use ENLACE_KAFKA=local for 3")
        reason = docker_unavailable_reason()
        if reason:
            raise TransportError(f"ENLACE_KAFKA=testcontainers but {reason}")
        print(
            f"enlace: using Apache Kafka in a container, {'secured' if secured else 'INSECURE'} ({why})",
            file=sys.stderr,
        )
        if not secured:
            warn_insecure("the testcontainers Kafka")
        container = ContainerCluster(
            secured=secured, principals=agencies, heap_mb=settings.kafka_heap_mb, workdir=workdir
        )
        return container.start(timeout=settings.kafka_start_timeout_s)
    print(f"enlace: using a local Apache Kafka, {'secured' if secured else 'INSECURE'} ({why})", file=sys.stderr)
    if not secured:
        warn_insecure("the local Kafka")
    cluster = LocalCluster(
        nodes=nodes,
        heap_mb=settings.kafka_heap_mb,
        tied_to_parent=tied_to_parent,
        workdir=workdir,
        secured=secured,
        principals=agencies,
    )
    return cluster.start(timeout=settings.kafka_start_timeout_s)


def warn_insecure(what: str) -> None:
    """Say loudly that a cluster accepts anyone."""
    print(
        f"enlace: WARNING: {what} runs INSECURE (ENLACE_KAFKA_INSECURE): PLAINTEXT listeners, no "
        "authentication, no ACLs; any process that reaches it can read and write every topic. "
        "Use it only on your own machine.",
        file=sys.stderr,
    )


def bus_principals(settings: EnlaceSettings) -> tuple[str, ...]:
    """The agencies' SCRAM principals a secured cluster of this bus needs (the operator's and the
    registry's come with every secured cluster)."""
    from ops.acl import current_access  # ops.acl names the principals ops.kafka defines

    access = current_access(settings)
    agencies = {principal_for(agency) for agency in access.layout.agencies}
    return tuple(sorted(agencies - {OPERATOR_PRINCIPAL}))
