"""What the connector commands share: which Kafka to talk to, and how."""

from __future__ import annotations

from bus import ConfigError, EnlaceSettings, load_settings
from bus.transport import KafkaClientConfig
from ops.kafka import OPERATOR_PRINCIPAL, BackgroundCluster, LocalCluster

__all__ = ["client_config", "local_cluster"]


def client_config(settings: EnlaceSettings | None = None, principal: str = OPERATOR_PRINCIPAL) -> KafkaClientConfig:
    """The Kafka client configuration of ``ENLACE_BOOTSTRAP_SERVERS``, ``ENLACE_KAFKA_*`` and
    ``ENLACE_KAFKA_CONFIG``; with no cluster named there, ``principal``'s on the local cluster of
    ``enlace kafka up`` (the settings' identity wins whenever they name a cluster).

    Raises:
        ConfigError: the settings are unusable, or no cluster is named and none runs locally.
    """
    settings = settings or load_settings()
    if settings.bootstrap_servers or settings.kafka_config:
        return KafkaClientConfig.from_settings(settings)
    return local_cluster().client_config(principal)


def local_cluster() -> LocalCluster:
    """The running cluster of ``enlace kafka up`` (or ``enlace up``).

    Raises:
        ConfigError: none runs.
    """
    running = BackgroundCluster().running()
    if running is None:
        raise ConfigError(
            "no Kafka to talk to: set ENLACE_BOOTSTRAP_SERVERS (or ENLACE_KAFKA_CONFIG) or run `enlace kafka up`"
        )
    return running
