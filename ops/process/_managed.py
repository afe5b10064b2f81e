"""One supervised child process: start, wait until healthy, stop cleanly, re-attach by state."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bus import TransportError
from bus._files import open_private_log

__all__ = ["ManagedProcess", "StartError", "free_port", "http_ok"]

_PR_SET_PDEATHSIG = 1


class StartError(TransportError):
    """A component did not come up; the message names it and ends with the tail of its log.

    Attributes:
        component: the component's name (``zipkin``, ``registry``, ``portal``...).
        log: the path of its log file.
    """

    def __init__(self, component: str, reason: str, *, log: Path, tail: str) -> None:
        super().__init__(f"{component} did not start: {reason}\n--- last lines of {log} ---\n{tail}")
        self.component = component
        self.log = log


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_ok(url: str, *, timeout: float = 2.0) -> bool:
    """Whether ``url`` answers GET with a 2xx status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _die_with_parent() -> None:
    """Runs in the child before exec: the kernel kills it if the starting process dies (tests)."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (field 22 of /proc/PID/stat), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its closing ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[19]


@dataclass
class ManagedProcess:
    """A child program with a log file and an optional health URL.

    Args:
        name: the component's name, used in messages and file names.
        argv: the command line.
        log: where stdout and stderr go (appended).
        health_url: GET answering 2xx once the program is ready; None means "alive is ready".
        env: extra environment variables for the child.
        cwd: the child's working folder.
        tied_to_parent: the kernel kills the child if the starting process dies (tests); false for
            a process meant to outlive its starter (``enlace up``).
    """

    name: str
    argv: list[str]
    log: Path
    health_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    tied_to_parent: bool = True
    pid: int | None = None
    started_at: str | None = None
    _popen: subprocess.Popen | None = field(default=None, init=False, repr=False)

    def start(self, *, timeout: float = 60.0, progress: bool = False) -> ManagedProcess:
        """Start the program and wait until its health URL answers (or, without one, a moment).

        Args:
            timeout: seconds to wait for health.
            progress: print a progress line to stderr while waiting.

        Raises:
            StartError: it exited or did not become healthy in time (with the tail of its log).
        """
        with open_private_log(self.log) as out:
            self._popen = subprocess.Popen(
                self.argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.cwd,
                env={**os.environ, **self.env},
                start_new_session=True,
                preexec_fn=_die_with_parent if self.tied_to_parent else None,
            )
        self.pid = self._popen.pid
        self.started_at = _start_time(self.pid)
        try:
            self.wait_healthy(timeout=timeout, progress=progress)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_healthy(self, *, timeout: float, progress: bool = False) -> None:
        """Wait until the health URL answers 2xx.

        Raises:
            StartError: the process exited, or the deadline passed.
        """
        began = time.monotonic()
        deadline = began + timeout
        progress = progress and sys.stderr.isatty()  # a redrawn line is noise in a log file
        try:
            while True:
                if not self.alive():
                    code = self._popen.poll() if self._popen else None
                    raise StartError(self.name, f"it exited (status {code})", log=self.log, tail=self.log_tail())
                if self.health_url is None or http_ok(self.health_url):
                    return
                if time.monotonic() > deadline:
                    raise StartError(
                        self.name,
                        f"{self.health_url} did not answer within {timeout:.0f}s",
                        log=self.log,
                        tail=self.log_tail(),
                    )
                if progress:
                    print(
                        f"\r  {self.name}: starting ({time.monotonic() - began:3.0f}s)",
                        end="",
                        file=sys.stderr,
                        flush=True,
                    )
                time.sleep(0.25)
        finally:
            if progress:
                print("\r\033[K", end="", file=sys.stderr, flush=True)

    def alive(self) -> bool:
        """Whether the very process this object started still runs (a reused pid does not count)."""
        if self._popen is not None:
            return self._popen.poll() is None
        if self.pid is None:
            return False
        current = _start_time(self.pid)
        return current is not None and current == self.started_at and not _zombie(self.pid)

    def healthy(self) -> bool:
        """Alive, and its health URL (if any) answers."""
        return self.alive() and (self.health_url is None or http_ok(self.health_url))

    def stop(self, *, timeout: float = 15.0) -> None:
        """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL: never leaves the process behind."""
        if not self.alive():
            self._reap(0.1)
            return
        self._signal(signal.SIGTERM)
        if not self._reap(timeout):
            self._signal(signal.SIGKILL)
            self._reap(5.0)

    def restart(self, *, timeout: float = 60.0) -> ManagedProcess:
        """Start the same command again (after a crash or a kill), and wait until healthy."""
        self.stop()
        self._popen = None
        return self.start(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.alive():
            self._signal(signal.SIGKILL)
            self._reap(5.0)

    def log_tail(self, lines: int = 25) -> str:
        """The last lines of the log file."""
        if not self.log.exists():
            return f"(no log at {self.log})"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def to_state(self) -> dict[str, Any]:
        """What another process needs to find (and stop) this one again."""
        return {
            "name": self.name,
            "argv": self.argv,
            "log": str(self.log),
            "health_url": self.health_url,
            "pid": self.pid,
            "started_at": self.started_at,
            "env": self.env,
            "cwd": str(self.cwd) if self.cwd else None,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ManagedProcess:
        """Re-attach to a process another ``ManagedProcess`` started."""
        return cls(
            name=state["name"],
            argv=list(state["argv"]),
            log=Path(state["log"]),
            health_url=state.get("health_url"),
            tied_to_parent=False,
            env=dict(state.get("env") or {}),
            cwd=Path(state["cwd"]) if state.get("cwd") else None,
            pid=state.get("pid"),
            started_at=state.get("started_at"),
        )

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)  # type: ignore[arg-type]

    def _reap(self, timeout: float) -> bool:
        if self._popen is not None:
            try:
                self._popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        deadline = time.monotonic() + timeout
        while self.alive():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"
