"""The genuine Apache Kafka broker's jars, resolved from Maven Central by ``ops/kafka/pom.xml``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ops._maven import MavenArtifacts

__all__ = ["KAFKA", "KafkaDistribution", "cache_root", "kafka_version", "resolve_distribution"]

KAFKA = MavenArtifacts(
    title="Apache Kafka",
    package="ops.kafka",
    version_property="kafka.version",
    cache_name="kafka",
    alternatives=", or start Docker so testcontainers can, or set ENLACE_BOOTSTRAP_SERVERS to use an existing cluster",
)


@dataclass(frozen=True)
class KafkaDistribution:
    """A resolved broker: its version and the folder holding every runtime jar."""

    version: str
    libs: Path

    @property
    def classpath(self) -> str:
        return str(self.libs / "*")


def kafka_version() -> str:
    """Return the Kafka version pinned in ``ops/kafka/pom.xml``."""
    return KAFKA.version()


def cache_root() -> Path:
    """The XDG cache folder for Enlace's Kafka distributions."""
    return KAFKA.cache_root()


def resolve_distribution(*, progress: bool = True) -> KafkaDistribution:
    """Make sure the pinned broker's jars are in the cache, resolving them with ``mvn`` once.

    Raises:
        TransportError: ``java`` or ``mvn`` is missing, or Maven failed (with the tail of its output).
    """
    return KafkaDistribution(KAFKA.version(), KAFKA.resolve(progress=progress))
