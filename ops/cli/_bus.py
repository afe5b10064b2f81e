"""What the connector commands share: which Kafka to talk to, and how."""

from __future__ import annotations

from bus import ConfigError, EnlaceSettings, load_settings
from bus.transport import KafkaClientConfig
from ops.kafka import BackgroundCluster

__all__ = ["client_config"]


def client_config(settings: EnlaceSettings | None = None) -> KafkaClientConfig:
    """The Kafka client configuration of ``ENLACE_BOOTSTRAP_SERVERS``, ``ENLACE_KAFKA_*`` and
    ``ENLACE_KAFKA_CONFIG``; with no cluster named there, the local cluster of ``enlace kafka up``.

    Raises:
        ConfigError: the settings are unusable, or no cluster is named and none runs locally.
    """
    return KafkaClientConfig.from_settings(settings or load_settings(), default_bootstrap=_local_cluster)


def _local_cluster() -> str:
    running = BackgroundCluster().running()
    if running is None:
        raise ConfigError(
            "no Kafka to talk to: set ENLACE_BOOTSTRAP_SERVERS (or ENLACE_KAFKA_CONFIG) or run `enlace kafka up`"
        )
    return running.bootstrap_servers
