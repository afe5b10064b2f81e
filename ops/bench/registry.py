"""Benchmark: the schema registry's hot read and its heaviest compatibility check.

1. ``GET /schemas/ids/{id}`` (what every consumer's deserializer asks on a cache miss) from 4
   concurrent keep-alive clients over loopback: requests per second, p50/p99 latency and the
   server's CPU time per request. The baseline, measured in the same run in interleaved rounds, is a
   bare async FastAPI route returning the very bytes the registry answers, in a process of its own
   under the same uvicorn settings as ``enlace registry serve``: the ratio is the registry's own cost.
2. Checking a ``FULL_TRANSITIVE`` registration against 100 earlier versions: in process without the
   compatibility cache (every pair worked out, as before the cache), with it cold (a new version)
   and warm (the same check again), then over HTTP and as a whole registration.

Loopback only, bounded in requests and time. Run: ``python -m ops.bench.registry [--requests N]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bus import load_settings
from bus.registry.compatibility import CompatibilityCache, CompatibilityLevel, check_compatibility, parse_schema
from ops.kafka import free_ports, start_cluster
from ops.registry import SERVING, RegistryProcess

_CLIENTS = 4
_ROUNDS = 20  # short rounds, alternating: a burst from elsewhere on the machine hits both servers alike
_TICKS = os.sysconf("SC_CLK_TCK")


def baseline_app(body: bytes):  # type: ignore[no-untyped-def]  # the bare route: the same bytes, nothing else
    from fastapi import FastAPI, Response

    from bus.registry.server import CONTENT_TYPE

    app = FastAPI()

    @app.get("/schemas/ids/{schema_id}")
    async def schema_by_id(schema_id: int) -> Response:
        return Response(body, media_type=CONTENT_TYPE)

    return app


def _serve_baseline(port: int, body_file: str) -> None:
    import uvicorn

    body = Path(body_file).read_bytes()
    uvicorn.run(baseline_app(body), host="127.0.0.1", port=port, log_level="warning", access_log=False, **SERVING)


def _version(n: int) -> dict:
    fields: list[dict[str, object]] = [{"name": "id", "type": "string"}]
    fields += [{"name": f"f{i}", "type": ["null", "long"], "default": None} for i in range(1, n)]
    return {"type": "record", "name": "Evolving", "namespace": "bench", "fields": fields}


def _pid_serving(port: int) -> int:
    """The ``enlace registry serve --port PORT`` process (``RegistryProcess`` does not show its pid)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in words and str(port).encode() in words:
            return int(entry.name)
    raise RuntimeError(f"no process serving port {port}")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


@dataclass
class Server:
    name: str
    port: int
    pid: int
    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # seconds per request, per round


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise RuntimeError(f"an answer without Content-Length: {head[:200]!r}")


async def _client(port: int, path: str, count: int, expected: bytes, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    try:
        for _ in range(count):
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            body = await reader.readexactly(_content_length(head))
            latencies.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 200") or body != expected:
                raise RuntimeError(f"port {port} answered {head[:40]!r} with other bytes")
    finally:
        writer.close()
        await writer.wait_closed()


def _round(server: Server, requests: int, expected: bytes, *, record: bool = True) -> None:
    latencies: list[float] = []
    per_client = requests // _CLIENTS

    async def run() -> None:
        await asyncio.gather(
            *(_client(server.port, "/schemas/ids/1", per_client, expected, latencies) for _ in range(_CLIENTS))
        )

    cpu = _cpu_seconds(server.pid)
    started = time.perf_counter()
    asyncio.run(run())
    elapsed = time.perf_counter() - started
    if record:
        server.rates.append(len(latencies) / elapsed)
        server.latencies.extend(latencies)
        server.cpu.append((_cpu_seconds(server.pid) - cpu) / len(latencies))


def _ms(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1] * 1000


def bench_reads(registry: Server, baseline: Server, expected: bytes, requests: int) -> None:
    for server in (baseline, registry):
        _round(server, min(requests, 1000), expected, record=False)  # warm-up
    for _ in range(_ROUNDS):  # interleaved: both see the same load from the rest of the machine
        for server in (baseline, registry):
            _round(server, requests, expected)
    print(f"\nGET /schemas/ids/{{id}} over loopback, {_CLIENTS} clients, {_ROUNDS} interleaved rounds of {requests}")
    print(f"{'server':<26}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU µs/req':>12}")
    for server in (baseline, registry):
        rate = statistics.median(server.rates)
        cpu = statistics.median(server.cpu) * 1e6
        p50, p99 = _ms(server.latencies, 50), _ms(server.latencies, 99)
        print(f"{server.name:<26}{rate:>9.0f}{p50:>9.2f}{p99:>9.2f}{cpu:>12.0f}")
    ratios = [r / b for r, b in zip(registry.rates, baseline.rates, strict=True)]
    cpu_ratio = statistics.median(registry.cpu) / statistics.median(baseline.cpu)
    print(
        f"{'registry / baseline':<26}{statistics.median(ratios):>9.2f}"
        f"  (rounds {min(ratios):.2f}-{max(ratios):.2f}; CPU per request {cpu_ratio:.2f}x)"
    )


def bench_transitive(registry_url: str, versions: int) -> None:
    history = [(n, parse_schema(json.dumps(_version(n)))) for n in range(1, versions + 1)]
    level = CompatibilityLevel.FULL_TRANSITIVE

    def timed(new_version: int, cache: CompatibilityCache | None) -> float:
        new = parse_schema(json.dumps(_version(new_version)))
        started = time.perf_counter()
        assert not check_compatibility(new, history, level, cache=cache)
        return (time.perf_counter() - started) * 1000

    uncached = statistics.median(timed(versions + 1, None) for _ in range(3))
    cache = CompatibilityCache()
    cold = timed(versions + 1, cache)  # a new version: its field types met once, then known
    warm = statistics.median(timed(versions + 1, cache) for _ in range(5))  # the same check again
    following = timed(versions + 2, cache)  # the version after, against the same stored versions

    subject = f"bench-{uuid.uuid4().hex[:6]}"
    rounds = 5
    with httpx.Client(base_url=registry_url, timeout=120) as http:
        http.put(f"/config/{subject}", json={"compatibility": "FULL_TRANSITIVE"}).raise_for_status()
        filled = time.perf_counter()
        for n in range(1, versions + 1):
            http.post(f"/subjects/{subject}/versions", json={"schema": json.dumps(_version(n))}).raise_for_status()
        per_registration = (time.perf_counter() - filled) / versions * 1000
        body = {"schema": json.dumps(_version(versions + 1))}
        started = time.perf_counter()
        for _ in range(rounds):
            assert http.post(f"/compatibility/subjects/{subject}/versions", json=body).json()["is_compatible"]
        over_http = (time.perf_counter() - started) / rounds * 1000
        started = time.perf_counter()
        http.post(f"/subjects/{subject}/versions", json=body).raise_for_status()
        registration = (time.perf_counter() - started) * 1000
    print(f"\nFULL_TRANSITIVE check of version {versions + 1} against {versions} earlier versions")
    rows = [
        ("in process, no cache (every pair, as before)", uncached),
        ("in process, cache cold (a new version)", cold),
        ("in process, cache warm (the same check again)", warm),
        (f"in process, version {versions + 2} after it", following),
        ("POST /compatibility/.../versions (x5, mean)", over_http),
        ("POST /subjects/.../versions (registers)", registration),
    ]
    for name, ms in rows:
        print(f"{name:<48}{ms:>9.1f} ms  ({uncached / ms:>6.1f}x faster than no cache)")
    print(f"{'(filling: one registration, on average)':<48}{per_registration:>9.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1200, help="GET requests per round and server (bounded)")
    parser.add_argument("--versions", type=int, default=100)
    args = parser.parse_args()
    requests = max(_CLIENTS * 100, min(args.requests, 40_000))
    cluster = start_cluster(load_settings(), nodes=1)
    port = free_ports(1)[0]
    baseline: subprocess.Popen[bytes] | None = None
    body_file = Path(tempfile.mkstemp(prefix="enlace-bench-", suffix=".json")[1])
    try:
        with RegistryProcess(cluster.client_config(), topic=f"_schemas-bench-{uuid.uuid4().hex[:6]}") as registry:
            schema = json.dumps(_version(10))
            httpx.post(f"{registry.url}/subjects/read-value/versions", json={"schema": schema}, timeout=30)
            expected = httpx.get(f"{registry.url}/schemas/ids/1", timeout=30).content
            body_file.write_bytes(expected)
            command = f"from ops.bench.registry import _serve_baseline; _serve_baseline({port}, {str(body_file)!r})"
            baseline = subprocess.Popen([sys.executable, "-c", command])
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/schemas/ids/1", timeout=1).content == expected:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            bench_reads(
                Server("enlace registry", registry.port, _pid_serving(registry.port)),
                Server("bare async FastAPI route", port, baseline.pid),
                expected,
                requests,
            )
            bench_transitive(registry.url, args.versions)
    finally:
        if baseline is not None:
            baseline.terminate()
            baseline.wait(timeout=10)
        body_file.unlink(missing_ok=True)
        cluster.stop()


if __name__ == "__main__":
    main()
