"""Resolve the Zipkin server's executable jar from Maven Central into the XDG cache, once."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from importlib import resources
from pathlib import Path

from bus import TransportError

__all__ = ["resolve_zipkin", "zipkin_version"]


def _pom_text() -> str:
    return resources.files("ops.zipkin").joinpath("pom.xml").read_text(encoding="utf-8")


def zipkin_version() -> str:
    """The Zipkin version pinned in ``ops/zipkin/pom.xml``."""
    match = re.search(r"<zipkin\.version>([^<]+)</zipkin\.version>", _pom_text())
    if not match:
        raise TransportError("ops/zipkin/pom.xml does not pin <zipkin.version>")
    return match.group(1).strip()


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "enlace" / "zipkin"


def _require(tool: str) -> str:
    found = shutil.which(tool)
    if not found:
        raise TransportError(
            f"zipkin: `{tool}` was not found on PATH: install a Java 17+ JDK and Apache Maven "
            "(for example `apt-get install openjdk-17-jdk-headless maven`) to run the tracing dashboard."
        )
    return found


def resolve_zipkin(*, progress: bool = True) -> Path:
    """Return the path of the pinned Zipkin server jar, resolving it with ``mvn`` the first time.

    Concurrent callers wait on a file lock; the jar appears in the cache only when complete.

    Args:
        progress: print a progress line to stderr while Maven resolves.

    Raises:
        TransportError: ``java`` or ``mvn`` is missing, or Maven failed (with the tail of its log).
    """
    _require("java")
    version = zipkin_version()
    target = _cache_root() / version
    jar = target / f"zipkin-server-{version}-exec.jar"
    if jar.exists():
        return jar
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not jar.exists():
            _run_maven(version, target, jar, progress=progress)
    return jar


def _run_maven(version: str, target: Path, jar: Path, *, progress: bool) -> None:
    mvn = _require("mvn")
    staging = Path(tempfile.mkdtemp(prefix="jar-", dir=target))
    pom = target / "pom.xml"
    pom.write_text(_pom_text(), encoding="utf-8")
    log = target / "mvn.log"
    cmd = [mvn, "-B", "-f", str(pom), "dependency:copy-dependencies", f"-DoutputDirectory={staging}"]
    started = time.monotonic()
    stop = threading.Event()
    ticker = threading.Thread(target=_tick, args=(version, started, stop), daemon=True)
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if progress:
            ticker.start()
        try:
            code = proc.wait()
        finally:
            stop.set()
            if progress:
                ticker.join()
    found = list(staging.glob("zipkin-server-*-exec.jar"))
    if code != 0 or not found:
        shutil.rmtree(staging, ignore_errors=True)
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise TransportError(f"zipkin: Maven could not resolve Zipkin {version} (log: {log}):\n{tail}")
    found[0].replace(jar)
    shutil.rmtree(staging, ignore_errors=True)


def _tick(version: str, started: float, stop: threading.Event) -> None:
    while not stop.wait(1.0):
        print(
            f"\rResolving Zipkin {version} with Maven: {time.monotonic() - started:4.0f}s",
            end="",
            file=sys.stderr,
            flush=True,
        )
    print(file=sys.stderr)
