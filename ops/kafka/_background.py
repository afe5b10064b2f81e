"""The cluster ``enlace kafka up`` leaves running in the background, found again by its state file."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from bus import EnlaceSettings
from bus._files import private_dir, write_private
from ops.kafka._local import LocalCluster

__all__ = ["BackgroundCluster", "state_dir"]


def state_dir() -> Path:
    """The XDG state folder where the background cluster keeps its data and state file."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "enlace" / "kafka"


class BackgroundCluster:
    """Start, find and stop the one background cluster of this user."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or state_dir()
        self.state_file = self.root / "cluster.json"

    def running(self) -> LocalCluster | None:
        """The running cluster, or None (a state file whose nodes all died is cleaned up)."""
        if not self.state_file.exists():
            return None
        cluster = LocalCluster.from_state(json.loads(self.state_file.read_text()))
        if cluster.running_nodes():
            return cluster
        self._forget()
        return None

    def up(self, settings: EnlaceSettings, *, nodes: int) -> LocalCluster:
        """Start a cluster whose nodes outlive this process, and remember it.

        Secured (TLS, SASL/SCRAM-SHA-512, deny-by-default ACLs; a principal per agency of the policy)
        unless ``ENLACE_KAFKA_INSECURE``, which is said loudly.
        """
        from ops.kafka._select import bus_principals, warn_insecure

        private_dir(self.root)
        workdir = self.root / "cluster"
        shutil.rmtree(workdir, ignore_errors=True)
        secured = not settings.kafka_insecure
        if not secured:
            warn_insecure("the local Kafka")
        cluster = LocalCluster(
            nodes=nodes,
            heap_mb=settings.kafka_heap_mb,
            workdir=private_dir(workdir),
            tied_to_parent=False,
            secured=secured,
            principals=bus_principals(settings) if secured else (),
        )
        cluster.start(timeout=settings.kafka_start_timeout_s)
        try:
            write_private(self.state_file, json.dumps(cluster.to_state(), indent=2))
        except BaseException:
            cluster.stop()  # a cluster nobody can find again must not keep running
            raise
        return cluster

    def client_properties(self, cluster: LocalCluster, principal: str) -> Path:
        """``principal``'s Kafka client properties file for ``cluster`` (0600, in this state folder).

        Raises:
            ConfigError: the cluster is insecure (it has no credentials), or has no such principal.
        """
        return cluster.write_client_properties(principal, self.root / "clients" / f"{principal}.properties")

    def down(self) -> LocalCluster | None:
        """Stop the running cluster and delete its data; return what was stopped, if anything."""
        if not self.state_file.exists():
            return None
        cluster = LocalCluster.from_state(json.loads(self.state_file.read_text()))
        cluster.stop()
        self._forget()
        return cluster

    def _forget(self) -> None:
        self.state_file.unlink(missing_ok=True)
        shutil.rmtree(self.root / "cluster", ignore_errors=True)
        shutil.rmtree(self.root / "clients", ignore_errors=True)
