"""Choose which Kafka a test session or command uses: local java, testcontainers, or external."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Protocol

from bus import ConfigError, EnlaceSettings, TransportError
from bus.transport import KafkaClientConfig
from ops.kafka._local import LocalCluster, wait_for_brokers

__all__ = [
    "ContainerCluster",
    "ExternalCluster",
    "KafkaCluster",
    "choose_mode",
    "docker_unavailable_reason",
    "start_cluster",
]


class KafkaCluster(Protocol):
    """What every kind of cluster offers its user."""

    @property
    def mode(self) -> str: ...

    @property
    def bootstrap_servers(self) -> str: ...

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

    ``ENLACE_KAFKA`` forces a mode; otherwise ``external`` when ``ENLACE_BOOTSTRAP_SERVERS`` is set,
    ``testcontainers`` for a single node when Docker answers, else ``local``.
    """
    if settings.kafka != "auto":
        return settings.kafka, f"ENLACE_KAFKA={settings.kafka}"
    if settings.bootstrap_servers:
        return "external", "ENLACE_BOOTSTRAP_SERVERS is set"
    if nodes != 1:
        return "local", "testcontainers' Kafka module runs one node only"
    reason = docker_unavailable_reason()
    if reason is None:
        return "testcontainers", "a Docker daemon answers"
    return "local", f"testcontainers skipped: {reason}"


@dataclass
class ExternalCluster:
    """A cluster someone else runs; Enlace never stops it."""

    bootstrap_servers: str
    mode: str = "external"

    def stop(self) -> None:
        return None


class ContainerCluster:
    """One Kafka node in a container, through testcontainers' Kafka module (KRaft)."""

    mode = "testcontainers"

    def __init__(self, image: str = "confluentinc/cp-kafka:7.6.1") -> None:
        from testcontainers.kafka import KafkaContainer

        self._container = KafkaContainer(image).with_kraft()

    def start(self) -> ContainerCluster:
        self._container.start()
        return self

    @property
    def bootstrap_servers(self) -> str:
        return str(self._container.get_bootstrap_server())

    def stop(self) -> None:
        self._container.stop()


def start_cluster(settings: EnlaceSettings, *, nodes: int = 1, tied_to_parent: bool = True) -> KafkaCluster:
    """Start (or attach to) a cluster of ``nodes`` brokers as the settings and environment decide.

    Raises:
        ConfigError: the forced mode cannot give what was asked.
        TransportError: the cluster did not come up.
    """
    mode, why = choose_mode(settings, nodes=nodes)
    if mode == "external":
        if not settings.bootstrap_servers:
            raise ConfigError("ENLACE_KAFKA=external needs ENLACE_BOOTSTRAP_SERVERS")
        wait_for_brokers(KafkaClientConfig.from_settings(settings), nodes, timeout=settings.kafka_start_timeout_s)
        return ExternalCluster(settings.bootstrap_servers)
    if mode == "testcontainers":
        if nodes != 1:
            raise ConfigError("testcontainers' Kafka module runs one node; use ENLACE_KAFKA=local for 3")
        reason = docker_unavailable_reason()
        if reason:
            raise TransportError(f"ENLACE_KAFKA=testcontainers but {reason}")
        return ContainerCluster().start()
    print(f"enlace: using a local Apache Kafka ({why})", file=sys.stderr)
    cluster = LocalCluster(nodes=nodes, heap_mb=settings.kafka_heap_mb, tied_to_parent=tied_to_parent)
    return cluster.start(timeout=settings.kafka_start_timeout_s)
