"""Genuine Apache Kafka nodes (KRaft, combined broker+controller) started with ``java``."""

from __future__ import annotations

import base64
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from bus import ConfigError, TransportError
from bus.transport import KafkaClientConfig, Topics
from ops.kafka._distribution import KAFKA, KafkaDistribution, resolve_distribution
from ops.kafka._security import OPERATOR_PRINCIPAL, ClusterSecurity

__all__ = ["LocalCluster", "free_ports", "new_cluster_id", "wait_for_brokers"]

_LOG4J2 = """\
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
logger.state.name = state.change.logger
logger.state.level = WARN
"""

_PR_SET_PDEATHSIG = 1
_START_ATTEMPTS = 3


def new_cluster_id() -> str:
    """A KRaft cluster id (a UUID in URL-safe base64, as ``kafka-storage random-uuid`` prints).

    One in 64 such ids starts with ``-``, which the storage tool would read as an option: draw again.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _port_conflict(exc: TransportError) -> bool:
    text = str(exc)
    return "is taken" in text or "Address already in use" in text


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct loopback ports that were free a moment ago.

    Sockets stay open until all are chosen so the kernel never hands out the same port twice.
    """
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As Kafka's acceptor does: a port held only by TIME_WAIT leftovers is free to listen on.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _die_with_parent() -> None:
    """Runs in the child before exec: the kernel SIGKILLs the broker if its parent dies."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def wait_for_brokers(kafka: KafkaClientConfig | str, expected: int, *, timeout: float, is_alive=None) -> None:
    """Wait until the cluster's metadata lists ``expected`` unfenced brokers.

    Args:
        kafka: the Kafka client configuration (or a bare ``host:port`` for a PLAINTEXT cluster).
        expected: how many unfenced brokers make the cluster ready.
        timeout: seconds to wait in all.
        is_alive: called between attempts; false means the nodes died, so waiting is pointless.

    Raises:
        ConfigError: the client configuration is unusable (waiting would not help).
        TransportError: the deadline passed, or ``is_alive()`` turned false meanwhile.
    """
    client = KafkaClientConfig.of(kafka)
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if is_alive is not None and not is_alive():
            raise TransportError("a Kafka node exited while starting")
        topics = Topics(client, timeout_s=max(0.1, min(5.0, deadline - time.monotonic())))
        try:
            ready = [b for b in topics.brokers() if not b.fenced]
            if len(ready) >= expected:
                return
            last_error = TransportError(f"{len(ready)} of {expected} brokers registered")
        except ConfigError:
            raise
        except Exception as exc:  # not listening yet, or metadata still empty
            last_error = exc
        finally:
            topics.close()
        time.sleep(0.3)
    raise TransportError(
        f"Kafka at {client.bootstrap_servers} not ready after {timeout:.0f}s: {last_error}", retriable=True
    )


@dataclass
class _Node:
    node_id: int
    port: int
    controller_port: int
    directory: Path
    process: subprocess.Popen | None = None
    pid: int | None = None

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    @property
    def stdout_log(self) -> Path:
        return self.directory / "stdout.log"

    def alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        if self.pid is None:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return _is_kafka(self.pid)

    def log_tail(self, lines: int = 30) -> str:
        chunks = []
        for path in (self.stdout_log, self.log):
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                chunks.append(f"--- {path} ---\n" + "\n".join(text))
        return "\n".join(chunks) or f"(no log in {self.directory})"


def _is_kafka(pid: int) -> bool:
    try:
        return b"kafka.Kafka" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@dataclass
class LocalCluster:
    """N combined broker+controller Kafka nodes on loopback, each a ``java`` process.

    Args:
        nodes: 1 or 3.
        heap_mb: the maximum heap of each node.
        workdir: where node folders live; a fresh temporary folder when omitted (removed on stop).
        tied_to_parent: the kernel kills the nodes if this Python process dies (tests);
            false for a cluster meant to outlive its starter (``enlace kafka up``).
        broker_config: extra ``server.properties`` entries for every node.
        secured: TLS listeners, SASL/SCRAM-SHA-512 sign-in, deny-by-default ACLs (see
            ``ops.kafka._security``); false for a plaintext development cluster that anyone on
            this machine can use, which says so when it starts.
        principals: the SCRAM principals to create besides the operator, the registry and the
            brokers (one per agency: ``principal_for(urn)``).
    """

    nodes: int = 1
    heap_mb: int = 384
    workdir: Path | None = None
    tied_to_parent: bool = True
    broker_config: dict[str, str] = field(default_factory=dict)
    distribution: KafkaDistribution | None = None
    secured: bool = True
    principals: tuple[str, ...] = ()
    security: ClusterSecurity | None = None
    _nodes: list[_Node] = field(default_factory=list, init=False, repr=False)
    _owns_workdir: bool = field(default=False, init=False, repr=False)
    mode: ClassVar[str] = "local"

    def __post_init__(self) -> None:
        if self.nodes not in (1, 3):
            raise ValueError(f"nodes must be 1 or 3, not {self.nodes}")

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"127.0.0.1:{n.port}" for n in self._nodes)

    @property
    def node_ids(self) -> list[int]:
        return [n.node_id for n in self._nodes]

    def start(self, *, timeout: float = 90.0) -> LocalCluster:
        """Format storage, start every node and wait until all brokers are in the metadata.

        Raises:
            TransportError: java/mvn missing, or a node did not come up (with its log's tail).
        """
        KAFKA.require("java")
        self.distribution = self.distribution or resolve_distribution()
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="enlace-kafka-"))
            self._owns_workdir = True
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.secured and self.security is None:
            self.security = ClusterSecurity.create(self.workdir / "security", self.principals)
        for attempt in range(1, _START_ATTEMPTS + 1):
            try:
                self._start_once(timeout=timeout)
                return self
            except TransportError as exc:
                conflict = _port_conflict(exc)
                self.stop(remove_workdir=not conflict or attempt == _START_ATTEMPTS)
                if not conflict or attempt == _START_ATTEMPTS:
                    raise
                # Another program took a port between choosing and binding: choose again.
                for node in self._nodes:
                    shutil.rmtree(node.directory, ignore_errors=True)
            except BaseException:
                self.stop()
                raise
        return self

    def _start_once(self, *, timeout: float) -> None:
        self._plan_nodes()
        cluster_id = new_cluster_id()
        for node in self._nodes:
            self._write_config(node)
            self._format(node, cluster_id)
        for node in self._nodes:
            self._spawn(node)
        self.wait_ready(timeout=timeout)

    def wait_ready(self, *, timeout: float = 90.0, expected: int | None = None) -> None:
        """Wait until ``expected`` (default: all running) brokers answer metadata."""
        running = [n for n in self._nodes if n.alive()]
        try:
            wait_for_brokers(
                self.client_config(servers=",".join(f"127.0.0.1:{n.port}" for n in running)),
                expected or len(running),
                timeout=timeout,
                is_alive=lambda: all(n.alive() for n in running),
            )
        except TransportError as exc:
            tails = "\n".join(n.log_tail() for n in running)
            raise TransportError(f"{exc}\n{tails}") from exc

    def client_config(self, principal: str = OPERATOR_PRINCIPAL, *, servers: str | None = None) -> KafkaClientConfig:
        """How ``principal`` reaches this cluster (the operator, a super user, by default).

        A plaintext cluster has no principals: any name gives the same unauthenticated configuration.

        Raises:
            ConfigError: a secured cluster has no such principal.
        """
        bootstrap = servers or self.bootstrap_servers
        if self.security is None:
            return KafkaClientConfig(bootstrap_servers=bootstrap, source="local plaintext cluster")
        return self.security.client_config(
            principal, bootstrap, source=f"local cluster {self.workdir}, principal {principal}"
        )

    def write_client_properties(self, principal: str, path: str | Path) -> Path:
        """Write ``principal``'s Kafka client properties file (0600), in the Java client's key names.

        Raises:
            ConfigError: the cluster is not secured, or has no such principal.
        """
        if self.security is None:
            raise ConfigError("a plaintext cluster has no client credentials to write")
        config = self.client_config(principal)
        return config.write_properties(path, comment=f"Kafka client configuration of {principal} (a secret: mode 0600)")

    def kill_node(self, node_id: int) -> None:
        """SIGKILL one node, as a crash would."""
        node = self._node(node_id)
        self._signal(node, signal.SIGKILL)
        self._reap(node, timeout=10)

    def restart_node(self, node_id: int, *, timeout: float = 90.0) -> None:
        """Start a stopped node again on its old ports and data, and wait until it rejoins."""
        node = self._node(node_id)
        if node.alive():
            return
        self._spawn(node)
        self.wait_ready(timeout=timeout, expected=len(self._nodes))

    def stop(self, *, timeout: float = 20.0, remove_workdir: bool = True) -> None:
        """Stop every node (SIGTERM, then SIGKILL after ``timeout``) and remove a temporary workdir."""
        for node in self._nodes:
            self._signal(node, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for node in self._nodes:
            self._reap(node, timeout=max(0.1, deadline - time.monotonic()))
        for node in self._nodes:
            if node.alive():
                self._signal(node, signal.SIGKILL)
                self._reap(node, timeout=5)
        if remove_workdir and self._owns_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def pids(self) -> list[int]:
        return [n.process.pid if n.process else n.pid for n in self._nodes if n.alive()]  # type: ignore[misc]

    def to_state(self) -> dict[str, Any]:
        """What another process needs to find and stop this cluster later (see ``from_state``)."""
        nodes = [
            {
                "node_id": n.node_id,
                "port": n.port,
                "controller_port": n.controller_port,
                "directory": str(n.directory),
                "pid": n.process.pid if n.process else n.pid,
            }
            for n in self._nodes
        ]
        return {
            "nodes": nodes,
            "workdir": str(self.workdir),
            "bootstrap_servers": self.bootstrap_servers,
            "security": str(self.security.directory) if self.security else None,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> LocalCluster:
        """Re-attach to a cluster another process started (its nodes are known by pid)."""
        security = ClusterSecurity.load(state["security"]) if state.get("security") else None
        cluster = cls(
            nodes=len(state["nodes"]),
            workdir=Path(state["workdir"]),
            tied_to_parent=False,
            secured=security is not None,
            security=security,
        )
        cluster._nodes = [
            _Node(n["node_id"], n["port"], n["controller_port"], Path(n["directory"]), pid=n["pid"])
            for n in state["nodes"]
        ]
        return cluster

    def running_nodes(self) -> list[int]:
        return [n.node_id for n in self._nodes if n.alive()]

    # -- internals -------------------------------------------------------------------------

    def _node(self, node_id: int) -> _Node:
        for node in self._nodes:
            if node.node_id == node_id:
                return node
        raise KeyError(f"no node {node_id}; nodes are {self.node_ids}")

    def _plan_nodes(self) -> None:
        assert self.workdir is not None
        ports = free_ports(2 * self.nodes)
        self._nodes = [
            _Node(i + 1, ports[2 * i], ports[2 * i + 1], self.workdir / f"node-{i + 1}") for i in range(self.nodes)
        ]

    def _properties(self, node: _Node) -> dict[str, str]:
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in self._nodes)
        replication = "3" if self.nodes == 3 else "1"
        client = "CLIENT" if self.security else "PLAINTEXT"
        props = {
            "process.roles": "broker,controller",
            "node.id": str(node.node_id),
            "controller.quorum.voters": voters,
            "listeners": f"{client}://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}",
            "advertised.listeners": f"{client}://127.0.0.1:{node.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(node.directory / "data"),
            "num.partitions": "1",
            "default.replication.factor": replication,
            "min.insync.replicas": "2" if self.nodes == 3 else "1",
            "offsets.topic.replication.factor": replication,
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": replication,
            "transaction.state.log.min.isr": "2" if self.nodes == 3 else "1",
            "share.coordinator.state.topic.replication.factor": replication,
            "share.coordinator.state.topic.min.isr": "2" if self.nodes == 3 else "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "true",
            "log.segment.bytes": str(64 * 1024 * 1024),
            "num.io.threads": "2",
            "num.network.threads": "2",
            "num.recovery.threads.per.data.dir": "1",
            "background.threads": "2",
        }
        if self.security is not None:
            props.update(self.security.broker_properties(client_listener=client, controller_listener="CONTROLLER"))
        props.update(self.broker_config)
        return props

    def _write_config(self, node: _Node) -> None:
        node.directory.mkdir(parents=True, exist_ok=True)
        lines = [f"{k}={v}" for k, v in self._properties(node).items()]
        (node.directory / "server.properties").write_text("\n".join(lines) + "\n")
        (node.directory / "log4j2.properties").write_text(_LOG4J2.format(log=node.log))

    def _java(self, node: _Node, main: str, *args: str) -> list[str]:
        assert self.distribution is not None
        return [
            "java",
            f"-Xmx{self.heap_mb}m",
            f"-Xms{min(128, self.heap_mb)}m",
            "-XX:+UseSerialGC" if self.heap_mb <= 512 else "-XX:+UseG1GC",
            *(["-XX:TieredStopAtLevel=1"] if main != "kafka.Kafka" else []),
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={node.directory / 'log4j2.properties'}",
            "-cp",
            self.distribution.classpath,
            main,
            *args,
        ]

    def _format(self, node: _Node, cluster_id: str) -> None:
        cmd = self._java(
            node,
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(node.directory / "server.properties"),
            *(self.security.scram_arguments() if self.security else []),
        )
        done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise TransportError(f"formatting Kafka storage of node {node.node_id} failed:\n{done.stdout}{done.stderr}")

    def _spawn(self, node: _Node) -> None:
        for port in (node.port, node.controller_port):
            if not _port_is_free(port):
                raise TransportError(f"port {port} of node {node.node_id} is taken", retriable=True)
        with open(node.stdout_log, "ab") as out:
            node.process = subprocess.Popen(
                self._java(node, "kafka.Kafka", str(node.directory / "server.properties")),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=node.directory,
                start_new_session=True,
                preexec_fn=_die_with_parent if self.tied_to_parent else None,
            )
        node.pid = node.process.pid

    @staticmethod
    def _signal(node: _Node, sig: signal.Signals) -> None:
        if not node.alive():
            return
        pid = node.process.pid if node.process else node.pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)  # type: ignore[arg-type]

    @staticmethod
    def _reap(node: _Node, *, timeout: float) -> None:
        if node.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                node.process.wait(timeout=timeout)
            return
        deadline = time.monotonic() + timeout
        while node.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
