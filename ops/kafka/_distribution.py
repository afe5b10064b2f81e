"""Resolve a genuine Apache Kafka broker's jars from Maven Central into a per-version cache."""

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
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from bus import TransportError

__all__ = ["KafkaDistribution", "cache_root", "kafka_version", "resolve_distribution"]

_NO_JAVA = (
    "{tool} was not found on PATH: install a Java 17+ JDK and Apache Maven (for example "
    "`apt-get install openjdk-17-jdk-headless maven`) so Enlace can run Kafka locally, "
    "or start Docker so testcontainers can, or set ENLACE_BOOTSTRAP_SERVERS to use an existing cluster."
)


@dataclass(frozen=True)
class KafkaDistribution:
    """A resolved broker: its version and the folder holding every runtime jar."""

    version: str
    libs: Path

    @property
    def classpath(self) -> str:
        return str(self.libs / "*")


def _pom_text() -> str:
    return resources.files("ops.kafka").joinpath("pom.xml").read_text(encoding="utf-8")


def kafka_version() -> str:
    """Return the Kafka version pinned in ``ops/kafka/pom.xml``."""
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", _pom_text())
    if not match:
        raise TransportError("ops/kafka/pom.xml does not pin <kafka.version>")
    return match.group(1).strip()


def cache_root() -> Path:
    """The XDG cache folder for Enlace's Kafka distributions."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "enlace" / "kafka"


def require_tool(name: str) -> str:
    """Return the path of ``name`` on PATH, or raise a one-sentence error naming what to install."""
    found = shutil.which(name)
    if not found:
        raise TransportError(_NO_JAVA.format(tool=f"`{name}`"))
    return found


def resolve_distribution(*, progress: bool = True) -> KafkaDistribution:
    """Make sure the pinned broker's jars are in the cache, resolving them with ``mvn`` once.

    Concurrent callers (two terminals, parallel test sessions) wait on a file lock, and the jars
    appear in the cache only when complete, so a half-finished download is never used.

    Args:
        progress: print a progress line to stderr while Maven resolves.

    Returns:
        The distribution, ready to start.

    Raises:
        TransportError: ``java`` or ``mvn`` is missing, or Maven failed (with the tail of its output).
    """
    require_tool("java")
    version = kafka_version()
    target = cache_root() / version
    libs = target / "libs"
    if (libs / ".complete").exists():
        return KafkaDistribution(version, libs)
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (libs / ".complete").exists():
            _run_maven(version, target, libs, progress=progress)
    return KafkaDistribution(version, libs)


def _run_maven(version: str, target: Path, libs: Path, *, progress: bool) -> None:
    mvn = require_tool("mvn")
    staging = Path(tempfile.mkdtemp(prefix="libs-", dir=target))
    pom = target / "pom.xml"
    pom.write_text(_pom_text(), encoding="utf-8")
    cmd = [
        mvn,
        "-B",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
        "-DincludeScope=runtime",
    ]
    log = target / "mvn.log"
    started = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        stop = threading.Event()
        ticker = threading.Thread(target=_show_progress, args=(version, staging, started, stop), daemon=True)
        if progress:
            ticker.start()
        try:
            code = proc.wait()
        finally:
            stop.set()
            if progress:
                ticker.join()
    if code != 0:
        shutil.rmtree(staging, ignore_errors=True)
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise TransportError(f"Maven could not resolve Apache Kafka {version} (log: {log}):\n{tail}")
    (staging / ".complete").write_text(version)
    if libs.exists():
        shutil.rmtree(libs)
    staging.rename(libs)
    if progress:
        jars = len(list(libs.glob("*.jar")))
        print(
            f"Apache Kafka {version}: {jars} jars resolved in {time.monotonic() - started:.0f}s into {libs}",
            file=sys.stderr,
        )


def _show_progress(version: str, staging: Path, started: float, stop: threading.Event) -> None:
    while not stop.wait(1.0):
        jars = len(list(staging.glob("*.jar")))
        print(
            f"\rResolving Apache Kafka {version} with Maven: {time.monotonic() - started:4.0f}s, {jars} jars copied",
            end="",
            file=sys.stderr,
            flush=True,
        )
    print(file=sys.stderr)
