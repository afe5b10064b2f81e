"""Jars from Maven Central, resolved once per version into Enlace's XDG cache.

Both the local Kafka (``ops/kafka/pom.xml``) and the tracing dashboard (``ops/zipkin/pom.xml``) are
genuine Java programs fetched this way: a small pom kept in the repository pins the version, and
``mvn dependency:copy-dependencies`` copies what it needs. Concurrent callers (two terminals,
parallel test sessions) wait on a file lock, and the jars appear in the cache only when complete,
so a half-finished download is never used.
"""

from __future__ import annotations

import fcntl
import hashlib
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

__all__ = ["MavenArtifacts", "require_tool"]

_MISSING_TOOL = (
    "{tool} was not found on PATH: install a Java 17+ JDK and Apache Maven (for example "
    "`apt-get install openjdk-17-jdk-headless maven`) so Enlace can run {what} locally{alternatives}."
)


def require_tool(name: str, *, what: str = "Kafka", alternatives: str = "") -> str:
    """Return the path of ``name`` on PATH, or raise a one-sentence error naming what to install.

    Args:
        name: ``java`` or ``mvn``.
        what: the program that needs it, for the message.
        alternatives: the end of the sentence, e.g. ``", or start Docker ..."``.
    """
    found = shutil.which(name)
    if not found:
        raise TransportError(_MISSING_TOOL.format(tool=f"`{name}`", what=what, alternatives=alternatives))
    return found


@dataclass(frozen=True)
class MavenArtifacts:
    """The jars one pom in the repository pins.

    Attributes:
        title: a name for messages, e.g. ``Apache Kafka``.
        package: the Python package holding ``pom.xml``, e.g. ``ops.kafka``.
        version_property: the pom property that pins the version, e.g. ``kafka.version``.
        cache_name: the cache sub-folder, e.g. ``kafka``.
        alternatives: how to do without java and mvn, ending the missing-tool sentence.
    """

    title: str
    package: str
    version_property: str
    cache_name: str
    alternatives: str = ""

    def pom_text(self) -> str:
        return resources.files(self.package).joinpath("pom.xml").read_text(encoding="utf-8")

    def version(self) -> str:
        """The version pinned in the pom."""
        prop = re.escape(self.version_property)
        match = re.search(rf"<{prop}>([^<]+)</{prop}>", self.pom_text())
        if not match:
            raise TransportError(f"{self.package.replace('.', '/')}/pom.xml does not pin <{self.version_property}>")
        return match.group(1).strip()

    def cache_root(self) -> Path:
        """The XDG cache folder for every version of these jars."""
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "enlace" / self.cache_name

    def resolve(self, *, progress: bool = True) -> Path:
        """The folder holding every jar of the pinned version, resolving it with ``mvn`` the first time.

        Args:
            progress: print a progress line to stderr while Maven resolves.

        Raises:
            TransportError: ``java`` or ``mvn`` is missing, or Maven failed (with the tail of its log).
        """
        self.require("java")
        version = self.version()
        # Keyed by the pom's content too, so that adding a jar to the pom resolves again.
        digest = hashlib.sha256(self.pom_text().encode()).hexdigest()[:12]
        target = self.cache_root() / f"{version}-{digest}"
        libs = target / "libs"
        if (libs / ".complete").exists():
            return libs
        target.mkdir(parents=True, exist_ok=True)
        with open(target / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (libs / ".complete").exists():
                self._run_maven(version, target, libs, progress=progress)
        return libs

    def require(self, tool: str) -> str:
        return require_tool(tool, what=self.title, alternatives=self.alternatives)

    def _run_maven(self, version: str, target: Path, libs: Path, *, progress: bool) -> None:
        mvn = self.require("mvn")
        staging = Path(tempfile.mkdtemp(prefix="libs-", dir=target))
        pom = target / "pom.xml"
        pom.write_text(self.pom_text(), encoding="utf-8")
        cmd = [
            mvn, "-B", "-f", str(pom), "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}", "-DincludeScope=runtime",
        ]  # fmt: skip
        log = target / "mvn.log"
        started = time.monotonic()
        stop = threading.Event()
        ticker = threading.Thread(target=self._show_progress, args=(version, log, started, stop), daemon=True)
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
        if code != 0:
            shutil.rmtree(staging, ignore_errors=True)
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise TransportError(f"Maven could not resolve {self.title} {version} (log: {log}):\n{tail}")
        (staging / ".complete").write_text(version)
        if libs.exists():
            shutil.rmtree(libs)
        staging.rename(libs)
        if progress:
            jars = len(list(libs.glob("*.jar")))
            elapsed = time.monotonic() - started
            print(f"{self.title} {version}: {jars} jar(s) resolved in {elapsed:.0f}s into {libs}", file=sys.stderr)

    def _show_progress(self, version: str, log: Path, started: float, stop: threading.Event) -> None:
        # Maven copies the jars only at the end; its downloads show how far it has come meanwhile.
        while not stop.wait(1.0):
            downloads = log.read_text(errors="replace").count("Downloaded from") if log.exists() else 0
            elapsed = time.monotonic() - started
            print(
                f"\rResolving {self.title} {version} with Maven: {elapsed:4.0f}s, {downloads} files downloaded",
                end="",
                file=sys.stderr,
                flush=True,
            )
        print(file=sys.stderr)
