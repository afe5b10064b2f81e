"""`enlace kafka up|status|down`, and nodes that never outlive a test process."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bus.transport import KafkaClientConfig, Topics, read_client_properties

pytestmark = pytest.mark.integration


def _enlace(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops.cli", *args], capture_output=True, text=True, env=env, timeout=180
    )


def _kafka_pids_under(directory: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"kafka.Kafka" in cmdline and str(directory).encode() in cmdline:
            found.append(int(proc.name))
    return found


def test_up_status_down_leave_nothing_behind(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENLACE_")}
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    try:
        first = _enlace("kafka", "up", env=env)
        assert first.returncode == 0, first.stderr
        bootstrap = first.stdout.strip().splitlines()[-1]
        assert bootstrap.startswith("127.0.0.1:")

        again = _enlace("kafka", "up", env=env)
        assert "already running" in again.stdout
        assert again.stdout.strip().splitlines()[-1] == bootstrap

        status = _enlace("kafka", "status", env=env)
        assert status.returncode == 0 and "(secured): 1 of 1 node(s) running" in status.stdout
        assert len(_kafka_pids_under(tmp_path)) == 1

        (operator_line,) = [line for line in first.stdout.splitlines() if line.startswith("operator (super user)")]
        operator = Path(operator_line.rsplit(": ", 1)[1])
        crm = _enlace("agency", "client-config", "urn:mx:gob:crm", env=env)
        assert crm.returncode == 0, crm.stderr
        crm_file = Path(crm.stdout.strip().splitlines()[-1])
        for path in (operator, crm_file):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700, path.parent
        assert read_client_properties(operator)["sasl_username"] == "mx.gob.interop"
        fields = read_client_properties(crm_file)
        assert (fields["bootstrap_servers"], fields["security_protocol"]) == (bootstrap, "SASL_SSL")
        assert fields["sasl_username"] == "mx.gob.crm" and fields["sasl_mechanism"] == "SCRAM-SHA-512"
        # The file is a working credential: the CRM can describe the cluster with it.
        with Topics(KafkaClientConfig(**fields)) as topics:
            assert topics.brokers()
        unknown = _enlace("agency", "client-config", "urn:mx:gob:nadie", env=env)
        assert unknown.returncode == 1 and "no principal mx.gob.nadie" in unknown.stderr
    finally:
        down = _enlace("kafka", "down", env=env)
    assert down.returncode == 0 and "Stopped" in down.stdout
    assert _kafka_pids_under(tmp_path) == []
    assert _enlace("kafka", "status", env=env).returncode == 3


def test_nodes_die_with_a_killed_test_process(tmp_path):
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from ops.kafka import LocalCluster
        cluster = LocalCluster(nodes=1, workdir=Path({str(tmp_path / "work")!r})).start(timeout=90)
        print("ready", flush=True)
        import time; time.sleep(600)
        """
    )
    starter = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert starter.stdout is not None and starter.stdout.readline().strip() == "ready"
        assert len(_kafka_pids_under(tmp_path)) == 1
        starter.send_signal(signal.SIGKILL)  # no finalizer, no atexit: only the kernel can help
        starter.wait(timeout=10)
        deadline = time.monotonic() + 15
        while _kafka_pids_under(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _kafka_pids_under(tmp_path) == []
    finally:
        starter.kill()
        for pid in _kafka_pids_under(tmp_path):
            os.kill(pid, signal.SIGKILL)
