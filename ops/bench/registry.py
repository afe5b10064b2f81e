"""Benchmark: the schema registry's hot read and its heaviest compatibility check.

1. ``GET /schemas/ids/{id}`` (what every consumer's deserializer asks on a cache miss): requests per
   second and p50/p99 latency over loopback, one keep-alive client and then 4 concurrent ones. The
   baseline in the same run is a trivial FastAPI route returning the same body from the same
   uvicorn settings, so the ratio is the registry's own cost.
2. Checking a ``FULL_TRANSITIVE`` registration against 100 earlier versions: the raw in-process
   call (baseline), the same check over HTTP, and the whole registration (check + Kafka
   transaction + read-your-write).

Loopback only, bounded in requests and time. Run: ``python -m ops.bench.registry [--requests N]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from bus import load_settings
from bus.registry.compatibility import CompatibilityLevel, check_compatibility, parse_schema
from ops.kafka import free_ports, start_cluster
from ops.registry import RegistryProcess

_BASELINE_BODY = {"schema": ""}


def baseline_app(body: str):  # the trivial route: same framework, same response class, no registry
    from fastapi import FastAPI

    from bus.registry.server import RegistryResponse

    app = FastAPI(default_response_class=RegistryResponse)
    answer = {"schema": body}

    @app.get("/schemas/ids/{schema_id}")
    def schema_by_id(schema_id: int) -> dict:
        return answer

    return app


def _serve_baseline(port: int, body: str) -> None:
    import uvicorn

    uvicorn.run(baseline_app(body), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _version(n: int) -> dict:
    fields: list[dict[str, object]] = [{"name": "id", "type": "string"}]
    fields += [{"name": f"f{i}", "type": ["null", "long"], "default": None} for i in range(1, n)]
    return {"type": "record", "name": "Evolving", "namespace": "bench", "fields": fields}


def _latencies(url: str, requests: int, workers: int) -> tuple[float, list[float]]:
    per_worker = requests // workers

    def run(_: int) -> list[float]:
        times = []
        with httpx.Client(base_url=url, timeout=10) as http:
            for _ in range(per_worker):
                started = time.perf_counter()
                response = http.get("/schemas/ids/1")
                times.append(time.perf_counter() - started)
                assert response.status_code == 200
        return times

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        samples = [t for batch in pool.map(run, range(workers)) for t in batch]
    return len(samples) / (time.perf_counter() - started), samples


def _p(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1] * 1000


def bench_reads(registry_url: str, baseline_url: str, requests: int) -> None:
    print(f"\nGET /schemas/ids/{{id}} over loopback, {requests} requests per row")
    print(f"{'server':<22}{'clients':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for workers in (1, 4):
        rows = {}
        for name, url in (("trivial FastAPI route", baseline_url), ("enlace registry", registry_url)):
            _latencies(url, 200, workers)  # warm-up
            rate, samples = _latencies(url, requests, workers)
            rows[name] = rate
            print(f"{name:<22}{workers:>8}{rate:>10.0f}{_p(samples, 50):>9.2f}{_p(samples, 99):>9.2f}")
        print(
            f"{'registry / baseline':<22}{workers:>8}{rows['enlace registry'] / rows['trivial FastAPI route']:>10.2f}"
        )


def bench_transitive(registry_url: str, versions: int) -> None:
    history = [parse_schema(json.dumps(_version(n))) for n in range(1, versions + 1)]
    new = parse_schema(json.dumps(_version(versions + 1)))
    rounds = 5
    started = time.perf_counter()
    for _ in range(rounds):
        assert not check_compatibility(new, list(enumerate(history, 1)), CompatibilityLevel.FULL_TRANSITIVE)
    raw = (time.perf_counter() - started) / rounds * 1000

    subject = f"bench-{uuid.uuid4().hex[:6]}"
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
    print(f"{'raw check_compatibility (baseline)':<44}{raw:>9.1f} ms")
    print(f"{'POST /compatibility/.../versions':<44}{over_http:>9.1f} ms  ({over_http / raw:.2f}x baseline)")
    print(
        f"{'POST /subjects/.../versions (registers)':<44}{registration:>9.1f} ms  ({registration / raw:.2f}x baseline)"
    )
    print(f"{'(filling: one registration, on average)':<44}{per_registration:>9.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="GET requests per measured row (bounded)")
    parser.add_argument("--versions", type=int, default=100)
    args = parser.parse_args()
    requests = max(100, min(args.requests, 20000))
    cluster = start_cluster(load_settings(), nodes=1)
    port = free_ports(1)[0]
    body = json.dumps(_version(10))
    baseline = subprocess.Popen(
        [sys.executable, "-c", f"from ops.bench.registry import _serve_baseline; _serve_baseline({port}, {body!r})"]
    )
    try:
        with RegistryProcess(cluster.client_config(), topic=f"_schemas-bench-{uuid.uuid4().hex[:6]}") as registry:
            httpx.post(
                f"{registry.url}/subjects/read-value/versions", json={"schema": body}, timeout=30
            ).raise_for_status()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/schemas/ids/1", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            bench_reads(registry.url, f"http://127.0.0.1:{port}", requests)
            bench_transitive(registry.url, args.versions)
    finally:
        baseline.terminate()
        baseline.wait(timeout=10)
        cluster.stop()


if __name__ == "__main__":
    main()
