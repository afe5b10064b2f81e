"""One Kafka node in a container (testcontainers), secured as the local nodes are.

The container runs Apache's own image of the version ``ops/kafka/pom.xml`` pins, as the calling
user, with the cluster's security folder (CA, node keystore, a start script holding the SCRAM
credentials) mounted read-only: no secret is in the container's command line or environment,
which ``docker inspect`` shows to anyone in the ``docker`` group. Its client port is published on
127.0.0.1 only, at the same number inside and out, so the address the broker advertises is the one
clients dial.
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bus import TransportError
from bus._files import private_dir, write_private
from bus.transport import KafkaClientConfig
from ops.kafka._distribution import kafka_version
from ops.kafka._local import free_ports, new_cluster_id, wait_for_brokers
from ops.kafka._security import OPERATOR_PRINCIPAL, ClusterSecurity

__all__ = ["MOUNT", "ContainerCluster", "ContainerSpec", "container_spec"]

MOUNT = "/etc/enlace"
"""Where the container sees the cluster's folder (read-only)."""

_CONTROLLER_PORT = 9093
_KAFKA_HOME = "/opt/kafka"


@dataclass(frozen=True)
class ContainerSpec:
    """Everything the container is started with, decided before Docker is asked."""

    image: str
    port: int
    properties: dict[str, str]
    script: str  # the start script: format the storage (with SCRAM credentials), then run the broker
    environment: dict[str, str]
    user: str

    @property
    def command(self) -> list[str]:
        return ["sh", f"{MOUNT}/start.sh"]

    @property
    def ports(self) -> dict[str, tuple[str, int]]:
        """docker-py's port map: the client port published on loopback only."""
        return {f"{self.port}/tcp": ("127.0.0.1", self.port)}


def container_spec(
    security: ClusterSecurity | None,
    *,
    port: int,
    cluster_id: str,
    image: str | None = None,
    heap_mb: int = 512,
    user: str | None = None,
) -> ContainerSpec:
    """The container of one combined broker and controller node.

    Args:
        security: the cluster's CA and principals (secured: TLS + SASL/SCRAM-SHA-512 listeners,
            deny-by-default ACLs), or None for the PLAINTEXT node ``ENLACE_KAFKA_INSECURE`` asks for.
        port: the client port, inside the container and on the host's 127.0.0.1.
        cluster_id: the KRaft cluster id the storage is formatted with.
        image: the image; Apache's of the pinned version by default.
        heap_mb: the broker's heap.
        user: ``uid:gid`` the container runs as (the caller's, so it can read the 0600 files).
    """
    client = "CLIENT" if security else "PLAINTEXT"
    properties = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@localhost:{_CONTROLLER_PORT}",
        "listeners": f"{client}://0.0.0.0:{port},CONTROLLER://localhost:{_CONTROLLER_PORT}",
        "advertised.listeners": f"{client}://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": "/tmp/enlace-kafka-data",
        "num.partitions": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "true",
    }
    if security is not None:
        properties.update(
            security.broker_properties(client_listener=client, controller_listener="CONTROLLER", secrets_dir=MOUNT)
        )
    scram = security.scram_arguments() if security else []
    server = f"{MOUNT}/server.properties"
    script = "\n".join(
        [
            "set -e",
            f"{_KAFKA_HOME}/bin/kafka-storage.sh format -t {shlex.quote(cluster_id)} -c {server} "
            + " ".join(shlex.quote(argument) for argument in scram),
            f"exec {_KAFKA_HOME}/bin/kafka-server-start.sh {server}",
            "",
        ]
    )
    return ContainerSpec(
        image=image or f"apache/kafka:{kafka_version()}",
        port=port,
        properties=properties,
        script=script,
        environment={
            "KAFKA_HEAP_OPTS": f"-Xmx{heap_mb}m -Xms{min(128, heap_mb)}m",
            "LOG_DIR": "/tmp/enlace-kafka-logs",
        },
        user=user or f"{os.getuid()}:{os.getgid()}",
    )


class ContainerCluster:
    """One Kafka node in a container, secured unless ``secured=False``, for where Docker answers."""

    mode = "testcontainers"

    def __init__(
        self,
        *,
        secured: bool = True,
        principals: tuple[str, ...] = (),
        image: str | None = None,
        heap_mb: int = 512,
        workdir: Path | None = None,
    ) -> None:
        self.secured = secured
        self.principals = principals
        self.image = image
        self.heap_mb = heap_mb
        self.workdir = workdir
        self._owns_workdir = workdir is None
        self.security: ClusterSecurity | None = None
        self._spec: ContainerSpec | None = None
        self._container: Any = None

    def start(self, *, timeout: float = 120.0) -> ContainerCluster:
        """Start the container and wait until the broker is in its own metadata.

        Raises:
            TransportError: Docker refused, or the broker was not ready in ``timeout`` seconds
                (the container's last log lines are in the message).
        """
        from testcontainers.core.container import DockerContainer

        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="enlace-kafka-container-"))
        folder = private_dir(self.workdir)
        if self.secured:
            self.security = ClusterSecurity.create(folder / "security", self.principals)
        spec = container_spec(
            self.security,
            port=free_ports(1)[0],
            cluster_id=new_cluster_id(),
            image=self.image,
            heap_mb=self.heap_mb,
        )
        mounted = self.security.directory if self.security else private_dir(folder / "security")
        write_private(mounted / "server.properties", "".join(f"{k}={v}\n" for k, v in spec.properties.items()))
        write_private(mounted / "start.sh", spec.script)
        container = DockerContainer(spec.image).with_command(spec.command).with_envs(**spec.environment)
        container = container.with_volume_mapping(str(mounted), MOUNT, "ro").with_kwargs(user=spec.user)
        container.ports.update(spec.ports)  # type: ignore[arg-type]  # docker-py takes (host ip, port)
        self._spec = spec
        self._container = container  # removed by stop() even when start() fails half-way
        try:
            container.start()
            wait_for_brokers(self.client_config(), 1, timeout=timeout)
        except Exception as exc:
            logs = self._logs()
            self.stop()
            raise TransportError(f"the Kafka container did not come up: {exc}{logs}", retriable=True) from exc
        return self

    @property
    def bootstrap_servers(self) -> str:
        if self._spec is None:
            raise TransportError("the Kafka container is not started")
        return f"127.0.0.1:{self._spec.port}"

    def client_config(self, principal: str = OPERATOR_PRINCIPAL) -> KafkaClientConfig:
        """How ``principal`` signs in (SASL_SSL, trusting the cluster's CA); PLAINTEXT when insecure."""
        if self.security is None:
            return KafkaClientConfig(bootstrap_servers=self.bootstrap_servers, source="testcontainers (INSECURE)")
        return self.security.client_config(
            principal, self.bootstrap_servers, source=f"testcontainers {self.workdir}, principal {principal}"
        )

    def stop(self) -> None:
        """Remove the container and a temporary folder."""
        container, self._container = self._container, None
        if container is not None:
            container.stop()
        if self._owns_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _logs(self) -> str:
        if self._container is None:
            return ""
        try:
            out, err = self._container.get_logs()
        except Exception:
            return ""
        tail = (out + err).decode("utf-8", "replace").splitlines()[-20:]
        return "\n" + "\n".join(tail) if tail else ""
