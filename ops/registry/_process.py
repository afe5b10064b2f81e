"""Start ``enlace registry serve`` as a child process on a free loopback port, and stop it."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Iterable
from pathlib import Path

import httpx

from bus import TransportError
from bus.registry.server import add_agency_token
from bus.transport import KafkaClientConfig
from ops.kafka import free_ports

__all__ = ["RegistryProcess", "write_credentials"]

_REPO = Path(__file__).resolve().parents[2]
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # The registry must not outlive the test or benchmark that started it, even on SIGKILL.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def write_credentials(path: str | Path, agencies: Iterable[str]) -> dict[str, str]:
    """Make one token per agency; the registry's file at ``path`` gets only their hashes (0600).

    Returns:
        agency URN → token, for the caller's clients.
    """
    return {agency: add_agency_token(path, agency) for agency in agencies}


class RegistryProcess:
    """One ``enlace registry serve`` process.

    Args:
        kafka: how the registry reaches Kafka (its principal's configuration), or a bare
            ``host:port`` of a PLAINTEXT cluster; handed to the process as a 0600 properties file.
        topic: the storage topic (instances sharing it share their state).
        policy: a policy file, or ``"none"``.
        credentials: the agency token-hash file the service reads.
        port: the port; a free one when omitted.

    Attributes:
        url: ``http://127.0.0.1:<port>``.
    """

    def __init__(
        self,
        kafka: KafkaClientConfig | str,
        *,
        topic: str = "_schemas",
        policy: str | Path = "none",
        credentials: str | Path | None = None,
        port: int | None = None,
    ) -> None:
        self.kafka = KafkaClientConfig.of(kafka)
        self._private = Path(tempfile.mkdtemp(prefix="enlace-registry-"))  # 0700, as mkdtemp makes it
        weakref.finalize(self, shutil.rmtree, self._private, ignore_errors=True)
        self._kafka_properties = self.kafka.write_properties(self._private / "kafka.properties")
        self.topic = topic
        self.policy = str(policy)
        self.credentials = str(credentials) if credentials else None
        self.port = port or free_ports(1)[0]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(tempfile.mkstemp(prefix="enlace-registry-", suffix=".log")[1])
        self._process: subprocess.Popen[bytes] | None = None

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ENLACE_")}
        env["ENLACE_KAFKA_CONFIG"] = str(self._kafka_properties)
        env["ENLACE_REGISTRY_TOPIC"] = self.topic
        if self.credentials:
            env["ENLACE_REGISTRY_CREDENTIALS"] = self.credentials
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO), os.environ.get("PYTHONPATH")]))
        return env

    def start(self, timeout: float = 60.0) -> RegistryProcess:
        """Start the service and wait until it answers.

        Raises:
            TransportError: the service exited or did not answer in time (with its log's tail).
        """
        command = [sys.executable, "-m", "ops.cli", "registry", "serve", "--port", str(self.port)]
        command += ["--policy", self.policy]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, cwd=_REPO, env=self._env(), stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise TransportError(f"the registry exited with {self._process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise TransportError(f"the registry did not answer within {timeout:.0f}s:\n{self.log_tail()}", retriable=True)

    def stop(self) -> None:
        """Stop the service (SIGTERM, then SIGKILL after 10 s)."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        self._process = None

    def kill(self) -> None:
        """SIGKILL the service, as a crash would."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self) -> RegistryProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
