"""Shared fixtures: real Apache Kafka clusters started once per test session.

``kafka`` is a single node; ``kafka3`` is three combined broker+controller nodes with replication
factor 3 and min.insync.replicas 2. Both are started lazily (only when a test asks) and stopped at
the end of the session, also when a test fails; a local node also dies with the pytest process
(PR_SET_PDEATHSIG), so an interrupted session leaves no java behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from bus import load_settings
from ops.kafka import KafkaCluster, LocalCluster, start_cluster
from ops.zipkin import ZipkinServer


@pytest.fixture(scope="session")
def kafka() -> Iterator[KafkaCluster]:
    """A single-node Kafka cluster for the whole session."""
    cluster = start_cluster(load_settings(), nodes=1)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def kafka3() -> Iterator[LocalCluster]:
    """A three-node cluster (RF 3, min ISR 2) whose nodes a test may kill and restart."""
    settings = load_settings()
    if settings.bootstrap_servers or settings.kafka == "testcontainers":
        pytest.skip(
            "the 3-node tests kill and restart brokers, which needs local nodes: "
            "unset ENLACE_BOOTSTRAP_SERVERS and ENLACE_KAFKA to run them"
        )
    cluster = LocalCluster(nodes=3, heap_mb=settings.kafka_heap_mb)
    cluster.start(timeout=settings.kafka_start_timeout_s)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def zipkin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZipkinServer]:
    """One real Zipkin server (in-memory, loopback) for the whole session; ``.url``, ``.spans_endpoint``."""
    server = ZipkinServer(workdir=tmp_path_factory.mktemp("zipkin"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """Make a name no other test in this session uses (topics, groups)."""

    def make(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}"

    return make
