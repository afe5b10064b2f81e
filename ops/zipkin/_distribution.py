"""The Zipkin server's executable jar, resolved from Maven Central by ``ops/zipkin/pom.xml``."""

from __future__ import annotations

from pathlib import Path

from bus import TransportError
from ops._maven import MavenArtifacts

__all__ = ["ZIPKIN", "resolve_zipkin", "zipkin_version"]

ZIPKIN = MavenArtifacts(
    title="Zipkin",
    package="ops.zipkin",
    version_property="zipkin.version",
    cache_name="zipkin",
    alternatives=" as the tracing dashboard",
)


def zipkin_version() -> str:
    """The Zipkin version pinned in ``ops/zipkin/pom.xml``."""
    return ZIPKIN.version()


def resolve_zipkin(*, progress: bool = True) -> Path:
    """Return the path of the pinned Zipkin server jar, resolving it with ``mvn`` the first time.

    Raises:
        TransportError: ``java`` or ``mvn`` is missing, or Maven failed (with the tail of its log).
    """
    libs = ZIPKIN.resolve(progress=progress)
    jars = sorted(libs.glob("zipkin-server-*-exec.jar"))
    if not jars:
        raise TransportError(f"Zipkin: no zipkin-server-*-exec.jar in {libs}; delete the folder to resolve again")
    return jars[0]
