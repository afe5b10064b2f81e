"""Faults around the local Kafka: missing tools, taken ports, brokers that never come up."""

from __future__ import annotations

import socket

import pytest

from bus import ConfigError, EnlaceSettings, TransportError, load_settings
from ops.kafka import LocalCluster, _local, choose_mode, resolve_distribution


def test_missing_java_names_what_to_install_and_the_alternatives(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TransportError) as caught:
        resolve_distribution(progress=False)
    message = str(caught.value)
    assert "`java` was not found" in message
    assert "Docker" in message and "ENLACE_BOOTSTRAP_SERVERS" in message


def test_missing_maven_is_reported_when_the_cache_is_empty(monkeypatch, tmp_path):
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text("#!/bin/sh\n")
    java.chmod(0o755)
    monkeypatch.setenv("PATH", str(java.parent))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(TransportError, match="`mvn` was not found"):
        resolve_distribution(progress=False)


def test_unknown_enlace_variable_is_rejected_by_name():
    with pytest.raises(ConfigError, match=r"ENLACE_BOOTSTRAP_SERVER\b"):
        load_settings({"ENLACE_BOOTSTRAP_SERVER": "127.0.0.1:9092"})


def test_mode_follows_the_environment():
    assert choose_mode(EnlaceSettings(bootstrap_servers="h:9092"))[0] == "external"
    assert choose_mode(EnlaceSettings(kafka="local", bootstrap_servers="h:9092"))[0] == "local"
    mode, why = choose_mode(EnlaceSettings(), nodes=3)
    assert mode == "local" and "one node" in why


@pytest.mark.integration
def test_a_taken_port_is_avoided_not_fatal(monkeypatch):
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    taken = squatter.getsockname()[1]
    real_free_ports = _local.free_ports
    calls = []

    def first_offer_is_taken(count: int) -> list[int]:
        calls.append(count)
        ports = real_free_ports(count)
        return [taken, *ports[1:]] if len(calls) == 1 else ports

    monkeypatch.setattr(_local, "free_ports", first_offer_is_taken)
    cluster = LocalCluster(nodes=1)
    try:
        cluster.start(timeout=60)
        assert len(calls) == 2, "the cluster chose ports again after the first were taken"
        assert str(taken) not in cluster.bootstrap_servers
    finally:
        cluster.stop()
        squatter.close()


@pytest.mark.integration
def test_a_broker_that_never_comes_up_is_reported_with_its_log_tail():
    # No JVM starts a broker in a second: the deadline passes while it is still starting.
    cluster = LocalCluster(nodes=1)
    with pytest.raises(TransportError) as caught:
        cluster.start(timeout=1)
    message = str(caught.value)
    assert "not ready after 1s" in message
    assert "--- " in message and "node-1/stdout.log" in message, "the log's tail is shown"
    assert cluster.pids() == [], "the half-started node was stopped"


def test_cluster_ids_never_look_like_options():
    ids = [_local.new_cluster_id() for _ in range(2000)]
    assert not any(cluster_id.startswith("-") for cluster_id in ids)
    assert all(len(cluster_id) == 22 for cluster_id in ids)
