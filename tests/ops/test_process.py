"""Supervised processes: healthy start, clean stop, re-attach by state, failures that name the component."""

from __future__ import annotations

import sys

import pytest

from ops.process import ManagedProcess, StartError, free_port, http_ok


def _http_server(tmp_path, port: int, *, tied: bool = True) -> ManagedProcess:
    return ManagedProcess(
        name="web",
        argv=[sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        log=tmp_path / "web.log",
        health_url=f"http://127.0.0.1:{port}/",
        cwd=tmp_path,
        tied_to_parent=tied,
    )


def test_start_waits_for_health_and_stop_leaves_nothing_running(tmp_path):
    port = free_port()
    process = _http_server(tmp_path, port).start(timeout=20)
    try:
        assert process.healthy()
        assert http_ok(f"http://127.0.0.1:{port}/")
    finally:
        process.stop()
    assert not process.alive()
    assert not http_ok(f"http://127.0.0.1:{port}/")


def test_another_process_reattaches_by_state_and_stops_it(tmp_path):
    port = free_port()
    started = _http_server(tmp_path, port, tied=False).start(timeout=20)
    try:
        again = ManagedProcess.from_state(started.to_state())
        assert again.alive() and again.healthy()
        again.stop()
        assert not again.alive()
    finally:
        started.stop()


def test_a_recorded_pid_with_another_start_time_is_not_taken_for_the_process(tmp_path):
    port = free_port()
    started = _http_server(tmp_path, port).start(timeout=20)
    try:
        state = started.to_state() | {"started_at": "1"}
        assert not ManagedProcess.from_state(state).alive()
    finally:
        started.stop()


def test_a_program_that_exits_at_start_is_named_with_its_log_tail(tmp_path):
    process = ManagedProcess(
        name="registry",
        argv=[sys.executable, "-c", "import sys; print('no Kafka at 127.0.0.1:1'); sys.exit(3)"],
        log=tmp_path / "registry.log",
        health_url=f"http://127.0.0.1:{free_port()}/",
    )
    with pytest.raises(StartError) as caught:
        process.start(timeout=20)
    message = str(caught.value)
    assert message.startswith("registry did not start: it exited (status 3)")
    assert "no Kafka at 127.0.0.1:1" in message
    assert caught.value.component == "registry"


def test_a_program_that_never_gets_healthy_is_stopped_after_the_deadline(tmp_path):
    process = ManagedProcess(
        name="slow",
        argv=[sys.executable, "-c", "import time; print('warming up', flush=True); time.sleep(60)"],
        log=tmp_path / "slow.log",
        health_url=f"http://127.0.0.1:{free_port()}/",
    )
    with pytest.raises(StartError, match=r"slow did not start: .* did not answer within 1s") as caught:
        process.start(timeout=1)
    assert "warming up" in str(caught.value)
    assert not process.alive()
