"""Benchmark: cold and warm start of the local Apache Kafka, 1 and 3 nodes.

Cold means Enlace's Kafka cache is empty, so Maven resolves the broker's jars first (from the
machine's Maven repository, or from Maven Central when that is empty too: ``--empty-maven-repo``).
Warm means the jars are cached. The baseline in the same run is the bare JVM start of
``kafka.Kafka --version``, so the ratios say how much of a start is Kafka itself.

Run: ``python -m ops.bench.kafka_start [--rounds N] [--empty-maven-repo]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from ops.kafka import LocalCluster, resolve_distribution


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _cold_resolve(empty_maven_repo: bool) -> float:
    with tempfile.TemporaryDirectory(prefix="enlace-bench-cache-") as cache:
        saved = {k: os.environ.get(k) for k in ("XDG_CACHE_HOME", "MAVEN_OPTS")}
        os.environ["XDG_CACHE_HOME"] = cache
        if empty_maven_repo:
            os.environ["MAVEN_OPTS"] = f"-Dmaven.repo.local={Path(cache) / 'm2'}"
        try:
            return _timed(lambda: resolve_distribution(progress=False))
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _start_stop(nodes: int) -> tuple[float, float]:
    cluster = LocalCluster(nodes=nodes)
    up = _timed(lambda: cluster.start(timeout=120))
    down = _timed(cluster.stop)
    return up, down


def _jvm_baseline() -> float:
    dist = resolve_distribution(progress=False)
    cmd = ["java", "-cp", dist.classpath, "kafka.Kafka", "--version"]
    return _timed(lambda: subprocess.run(cmd, capture_output=True, check=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--empty-maven-repo", action="store_true", help="also empty ~/.m2 for the cold runs")
    args = parser.parse_args()

    resolve_distribution()
    baseline = statistics.median(_jvm_baseline() for _ in range(args.rounds))
    cold = statistics.median(_cold_resolve(args.empty_maven_repo) for _ in range(args.rounds))
    print(f"baseline: bare JVM running kafka.Kafka --version     {baseline:6.2f} s")
    print(
        f"cold: resolve broker jars into an empty Enlace cache {cold:6.2f} s"
        f"{' (Maven repository emptied too)' if args.empty_maven_repo else ' (Maven repository warm)'}"
    )
    for nodes in (1, 3):
        runs = [_start_stop(nodes) for _ in range(args.rounds)]
        warm = statistics.median(up for up, _ in runs)
        stop = statistics.median(down for _, down in runs)
        print(
            f"{nodes} node(s): warm start {warm:6.2f} s ({warm / baseline:4.1f}x baseline), "
            f"cold start {cold + warm:6.2f} s ({(cold + warm) / baseline:4.1f}x baseline), stop {stop:5.2f} s"
        )


if __name__ == "__main__":
    main()
