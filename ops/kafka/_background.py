"""The cluster ``enlace kafka up`` leaves running in the background, found again by its state file."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from bus import EnlaceSettings
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
        """Start a cluster whose nodes outlive this process, and remember it."""
        workdir = self.root / "cluster"
        shutil.rmtree(workdir, ignore_errors=True)
        cluster = LocalCluster(nodes=nodes, heap_mb=settings.kafka_heap_mb, workdir=workdir, tied_to_parent=False)
        cluster.start(timeout=settings.kafka_start_timeout_s)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(cluster.to_state(), indent=2))
            tmp.replace(self.state_file)
        except BaseException:
            cluster.stop()  # a cluster nobody can find again must not keep running
            raise
        return cluster

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
