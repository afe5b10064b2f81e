"""A Zipkin server process: in-memory storage, loopback only, bounded heap."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bus import TransportError
from ops.process import ManagedProcess, free_port
from ops.zipkin._distribution import resolve_zipkin

__all__ = ["ZipkinServer", "fetch_trace"]

# Spans kept in memory before the oldest traces are dropped: plenty for a demo, bounded for the heap.
_MAX_SPANS = 200_000


@dataclass
class ZipkinServer:
    """Zipkin on ``127.0.0.1:<port>``.

    Args:
        workdir: where its log goes.
        port: the HTTP port (UI, API and collector); a free one when omitted.
        heap_mb: the JVM's maximum heap.
        tied_to_parent: the kernel kills it with the starting process (tests).
    """

    workdir: Path
    port: int = 0
    heap_mb: int = 192
    tied_to_parent: bool = True
    process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        """The base URL: the UI is at ``/zipkin/``, the API at ``/api/v2``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def spans_endpoint(self) -> str:
        """Where exporters POST spans (Zipkin JSON v2)."""
        return f"{self.url}/api/v2/spans"

    def command(self, jar: Path) -> list[str]:
        """The java command line (small heap, serial GC, fast start; loopback-only listener)."""
        return [
            "java",
            f"-Xmx{self.heap_mb}m",
            "-Xms64m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Djava.awt.headless=true",
            "-jar",
            str(jar),
            # Armeria's port list replaces the default "all interfaces" listener with loopback only.
            "--armeria.ports[0].address=127.0.0.1",
            f"--armeria.ports[0].port={self.port}",
            "--armeria.ports[0].protocols[0]=http",
        ]

    def start(self, *, timeout: float = 90.0, progress: bool = False) -> ZipkinServer:
        """Resolve the jar if needed, start Zipkin and wait until ``/health`` answers.

        Raises:
            TransportError: java or Maven missing, or Zipkin did not start (``StartError``, with its log).
        """
        jar = resolve_zipkin(progress=progress)
        self.port = self.port or free_port()
        env = {
            "STORAGE_TYPE": "mem",
            "MEM_MAX_SPANS": str(_MAX_SPANS),
            "COLLECTOR_GRPC_ENABLED": "false",
            "SELF_TRACING_ENABLED": "false",
        }
        self.process = ManagedProcess(
            name="zipkin",
            argv=self.command(jar),
            log=self.workdir / "zipkin.log",
            health_url=f"{self.url}/health",
            env=env,
            cwd=self.workdir,
            tied_to_parent=self.tied_to_parent,
        )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process.start(timeout=timeout, progress=progress)
        return self

    def stop(self) -> None:
        """Stop Zipkin (SIGTERM, SIGKILL after a deadline)."""
        if self.process is not None:
            self.process.stop()


def fetch_trace(base_url: str, trace_id: str, *, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The spans of one trace from Zipkin's API (``GET /api/v2/trace/{id}``); empty if unknown.

    Raises:
        TransportError: Zipkin did not answer.
    """
    url = f"{base_url.rstrip('/')}/api/v2/trace/{trace_id}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return list(json.loads(response.read()))
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return []
        raise TransportError(f"zipkin at {base_url} answered {exc.code} for trace {trace_id}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise TransportError(f"zipkin at {base_url} did not answer: {exc}", retriable=True) from exc
