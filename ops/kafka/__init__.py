"""Genuine Apache Kafka for development and tests: local java nodes, testcontainers, or external.

The broker's jars are resolved once with Maven into the XDG cache (see ``pom.xml`` beside this file).
"""

from ops.kafka._background import BackgroundCluster, state_dir
from ops.kafka._container import ContainerSpec, container_spec
from ops.kafka._distribution import KafkaDistribution, cache_root, kafka_version, resolve_distribution
from ops.kafka._local import LocalCluster, free_ports, wait_for_brokers
from ops.kafka._security import (
    OPERATOR_PRINCIPAL,
    REGISTRY_PRINCIPAL,
    SCRAM_MECHANISM,
    ClusterSecurity,
    principal_for,
)
from ops.kafka._select import (
    ContainerCluster,
    ExternalCluster,
    KafkaCluster,
    bus_principals,
    choose_mode,
    docker_unavailable_reason,
    start_cluster,
    warn_insecure,
)

__all__ = [
    "OPERATOR_PRINCIPAL",
    "REGISTRY_PRINCIPAL",
    "SCRAM_MECHANISM",
    "BackgroundCluster",
    "ClusterSecurity",
    "ContainerCluster",
    "ContainerSpec",
    "ExternalCluster",
    "KafkaCluster",
    "KafkaDistribution",
    "LocalCluster",
    "bus_principals",
    "cache_root",
    "choose_mode",
    "container_spec",
    "docker_unavailable_reason",
    "free_ports",
    "kafka_version",
    "principal_for",
    "resolve_distribution",
    "start_cluster",
    "state_dir",
    "wait_for_brokers",
    "warn_insecure",
]
