"""What the connector commands share: which Kafka to talk to."""

from __future__ import annotations

from bus import ConfigError, EnlaceSettings, load_settings
from ops.kafka import BackgroundCluster

__all__ = ["bootstrap_servers"]


def bootstrap_servers(settings: EnlaceSettings | None = None) -> str:
    """``ENLACE_BOOTSTRAP_SERVERS``, else the local cluster of ``enlace kafka up``.

    Raises:
        ConfigError: neither is there.
    """
    settings = settings or load_settings()
    if settings.bootstrap_servers:
        return settings.bootstrap_servers
    running = BackgroundCluster().running()
    if running is None:
        raise ConfigError("no Kafka to talk to: set ENLACE_BOOTSTRAP_SERVERS or run `enlace kafka up`")
    return running.bootstrap_servers
