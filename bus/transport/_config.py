"""The one Kafka client configuration every client is made from, and checks of per-client overrides."""

from __future__ import annotations

import difflib
import importlib.util
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kafka import KafkaConsumer, KafkaProducer

from bus._errors import ConfigError
from bus._files import write_private
from bus.transport._librdkafka import consumer_properties, producer_properties
from bus.transport._properties import client_properties, read_client_properties, render_properties

if TYPE_CHECKING:
    from bus._settings import EnlaceSettings

__all__ = [
    "KAFKA_CLIENTS",
    "SASL_MECHANISMS",
    "SECURITY_PROTOCOLS",
    "KafkaClientConfig",
    "check_consumer_config",
    "check_producer_config",
]

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
# The client libraries a producer or consumer can be made with (ENLACE_KAFKA_CLIENT).
KAFKA_CLIENTS = ("kafka-python", "confluent")

# Which ENLACE_* variable sets which field, for messages that say where a value came from.
_VARIABLES = {
    "bootstrap_servers": "ENLACE_BOOTSTRAP_SERVERS",
    "security_protocol": "ENLACE_KAFKA_SECURITY_PROTOCOL",
    "sasl_mechanism": "ENLACE_KAFKA_SASL_MECHANISM",
    "sasl_username": "ENLACE_KAFKA_SASL_USERNAME",
    "sasl_password": "ENLACE_KAFKA_SASL_PASSWORD",
    "ssl_cafile": "ENLACE_KAFKA_SSL_CAFILE",
    "client": "ENLACE_KAFKA_CLIENT",
}
_SECRETS = {"sasl_password", "ssl_password"}


@dataclass(frozen=True, kw_only=True)
class KafkaClientConfig:
    """Where the cluster is and how to authenticate to it: the same for every client Enlace makes.

    Build it with :meth:`from_settings` (``ENLACE_BOOTSTRAP_SERVERS``, ``ENLACE_KAFKA_*`` and the
    properties file ``ENLACE_KAFKA_CONFIG``). Secrets are left out of ``repr``.

    Attributes:
        bootstrap_servers: ``host:port[,host:port...]``.
        security_protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
        sasl_mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (SASL_* protocols only).
        sasl_username, sasl_password: the SASL principal's credentials.
        ssl_cafile: PEM file of the CA certificates that sign the brokers' certificates.
        ssl_certfile, ssl_keyfile, ssl_password: a client certificate (mutual TLS), PEM.
        ssl_check_hostname: check the broker's certificate names its host.
        client: the client library producers and consumers are made with: ``kafka-python`` or
            ``confluent`` (librdkafka; admin clients and the transactional producer stay kafka-python).
        source: where the settings came from (for messages).

    Raises:
        ConfigError: a value is unknown, or the settings contradict each other (e.g. credentials
            with a protocol that would not use them).
    """

    bootstrap_servers: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_password: str | None = field(default=None, repr=False)
    ssl_check_hostname: bool = True
    client: str = "kafka-python"
    source: str = "arguments"

    def __post_init__(self) -> None:
        servers = [s.strip() for s in self.bootstrap_servers.split(",")]
        if not self.bootstrap_servers.strip() or not all(servers) or any(" " in s for s in servers):
            raise ConfigError(f"bootstrap servers {self.bootstrap_servers!r} ({self.source}) are not host:port,...")
        if self.security_protocol not in SECURITY_PROTOCOLS:
            raise ConfigError(
                f"security protocol {self.security_protocol!r} ({self.source}) is not one of "
                f"{', '.join(SECURITY_PROTOCOLS)}"
            )
        sasl = self.security_protocol.startswith("SASL_")
        tls = self.security_protocol.endswith("SSL")
        given_sasl = [n for n in ("sasl_mechanism", "sasl_username", "sasl_password") if getattr(self, n)]
        if sasl:
            missing = [n for n in ("sasl_mechanism", "sasl_username", "sasl_password") if not getattr(self, n)]
            if missing:
                raise ConfigError(f"{self.security_protocol} ({self.source}) needs {', '.join(missing)}")
            if self.sasl_mechanism not in SASL_MECHANISMS:
                raise ConfigError(
                    f"SASL mechanism {self.sasl_mechanism!r} ({self.source}) is not one of {', '.join(SASL_MECHANISMS)}"
                )
        elif given_sasl:
            raise ConfigError(
                f"{', '.join(given_sasl)} given ({self.source}) but security protocol {self.security_protocol} "
                "does not use SASL: set it to SASL_SSL (or SASL_PLAINTEXT)"
            )
        given_tls = [n for n in ("ssl_cafile", "ssl_certfile", "ssl_keyfile", "ssl_password") if getattr(self, n)]
        if not tls and given_tls:
            raise ConfigError(
                f"{', '.join(given_tls)} given ({self.source}) but security protocol {self.security_protocol} "
                "does not use TLS: set it to SSL or SASL_SSL"
            )
        if bool(self.ssl_certfile) != bool(self.ssl_keyfile):
            raise ConfigError(f"a client certificate needs both ssl_certfile and ssl_keyfile ({self.source})")
        for name in ("ssl_cafile", "ssl_certfile"):
            path = getattr(self, name)
            if path:
                _check_pem(name, path, source=self.source)
        if self.client not in KAFKA_CLIENTS:
            raise ConfigError(f"Kafka client {self.client!r} ({self.source}) is not one of {', '.join(KAFKA_CLIENTS)}")
        if self.client == "confluent" and importlib.util.find_spec("confluent_kafka") is None:
            raise ConfigError(
                f"Kafka client confluent ({self.source}) needs the confluent-kafka package: "
                "pip install 'enlace[confluent]'"
            )

    @classmethod
    def from_settings(
        cls, settings: EnlaceSettings, *, default_bootstrap: Callable[[], str] | None = None
    ) -> KafkaClientConfig:
        """The configuration ``settings`` describe: its properties file, then ``ENLACE_KAFKA_*``.

        A value both in ``ENLACE_KAFKA_CONFIG``'s file and in an ``ENLACE_*`` variable must agree.

        Args:
            settings: Enlace's settings.
            default_bootstrap: called for the cluster's address when neither
                ``ENLACE_BOOTSTRAP_SERVERS`` nor the file names one (e.g. the local cluster).

        Raises:
            ConfigError: the file is unusable, a value is invalid, the sources disagree, or no cluster
                is named.
        """
        values: dict[str, Any] = {}
        origin: dict[str, str] = {}
        if settings.kafka_config:
            values = read_client_properties(settings.kafka_config)
            origin = dict.fromkeys(values, f"ENLACE_KAFKA_CONFIG={settings.kafka_config}")
        from_env = {
            "bootstrap_servers": settings.bootstrap_servers,
            "security_protocol": settings.kafka_security_protocol and settings.kafka_security_protocol.upper(),
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_username": settings.kafka_sasl_username,
            "sasl_password": settings.kafka_sasl_password,
            "ssl_cafile": settings.kafka_ssl_cafile,
        }
        for name, value in from_env.items():
            if value is None:
                continue
            if name in values and values[name] != value:
                shown = "" if name in _SECRETS else f" ({value!r} and {values[name]!r})"
                raise ConfigError(f"{_VARIABLES[name]} and {origin[name]} disagree on {name}{shown}")
            values[name], origin[name] = value, _VARIABLES[name]
        if not values.get("bootstrap_servers"):
            if default_bootstrap is None:
                raise ConfigError(
                    "no Kafka cluster: set ENLACE_BOOTSTRAP_SERVERS or bootstrap.servers in ENLACE_KAFKA_CONFIG"
                )
            values["bootstrap_servers"] = default_bootstrap()
        sources = sorted(set(origin.values())) or ["defaults"]
        # Which library is not a connection property (no properties file names it): the setting alone.
        return cls(**values, client=settings.kafka_client, source=", ".join(sources))

    @classmethod
    def of(cls, kafka: KafkaClientConfig | str) -> KafkaClientConfig:
        """``kafka`` itself, or for a bare ``host:port`` string a PLAINTEXT configuration without credentials."""
        return kafka if isinstance(kafka, KafkaClientConfig) else cls(bootstrap_servers=kafka)

    def settings(self) -> dict[str, Any]:
        """This configuration as Enlace settings (``settings.model_copy(update=config.settings())``).

        Only what ``ENLACE_BOOTSTRAP_SERVERS`` and ``ENLACE_KAFKA_*`` can say: a client certificate
        or a hostname check turned off needs a properties file (:meth:`write_properties`).

        Raises:
            ConfigError: the configuration uses a client certificate or turns the hostname check off.
        """
        if self.ssl_certfile or self.ssl_password or not self.ssl_check_hostname:
            raise ConfigError(
                f"the Kafka configuration ({self.source}) uses a client certificate or no hostname check, "
                "which only a properties file can carry: write_properties() and set ENLACE_KAFKA_CONFIG"
            )
        return {
            "kafka_config": None,
            "bootstrap_servers": self.bootstrap_servers,
            "kafka_security_protocol": self.security_protocol,
            "kafka_sasl_mechanism": self.sasl_mechanism,
            "kafka_sasl_username": self.sasl_username,
            "kafka_sasl_password": self.sasl_password,
            "kafka_ssl_cafile": self.ssl_cafile,
            "kafka_client": self.client,
        }

    def properties(self) -> dict[str, str]:
        """This configuration in the Java client's key names (secrets included: never log them)."""
        skipped = {"source", "client"}
        return client_properties({f.name: getattr(self, f.name) for f in fields(self) if f.name not in skipped})

    def write_properties(self, path: str | os.PathLike[str], *, comment: str = "") -> Path:
        """Write it as a Kafka client properties file, 0600 from creation, atomically; returns the path.

        Kafka's own console tools, other clients and Enlace (``ENLACE_KAFKA_CONFIG``) read the file.
        """
        header = comment or "Kafka client configuration (holds a secret: keep it 0600)"
        return write_private(path, render_properties(self.properties(), comment=header))

    def client_settings(self) -> dict[str, Any]:
        """The kafka-python settings of this configuration (secrets included: never log them)."""
        settings: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        if self.security_protocol.startswith("SASL_"):
            settings |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.sasl_username,
                "sasl_plain_password": self.sasl_password,
            }
        if self.security_protocol.endswith("SSL"):
            settings["ssl_check_hostname"] = self.ssl_check_hostname
            optional = {
                "ssl_cafile": self.ssl_cafile,
                "ssl_certfile": self.ssl_certfile,
                "ssl_keyfile": self.ssl_keyfile,
                "ssl_password": self.ssl_password,
            }
            settings |= {k: v for k, v in optional.items() if v is not None}
        return settings


def _check_pem(name: str, path: str, *, source: str) -> None:
    try:
        head = Path(path).read_bytes()[:65536]
    except OSError as exc:
        raise ConfigError(f"{name} {path} ({source}) cannot be read: {exc.strerror or exc}") from exc
    if b"-----BEGIN " not in head:
        raise ConfigError(f"{name} {path} ({source}) is not a PEM file")


# Settings that belong to KafkaClientConfig: one place for where the cluster is and how to reach it.
_CONNECTION_KEYS = {"bootstrap_servers", "security_protocol"}
_CONNECTION_PREFIXES = ("ssl_", "sasl_")


def _known(defaults: Mapping[str, Any]) -> set[str]:
    return {k for k in defaults if k not in _CONNECTION_KEYS and not k.startswith(_CONNECTION_PREFIXES)}


_PRODUCER_KEYS = _known(KafkaProducer.DEFAULT_CONFIG) - {"transactional_id"}
_CONSUMER_KEYS = _known(KafkaConsumer.DEFAULT_CONFIG) - {"group_id"}
_ELSEWHERE = {
    "transactional_id": "a transactional producer is a TransactionalProducer",
    "group_id": "the group is the consumer's group= argument",
}


def _check(kind: str, overrides: Mapping[str, Any], known: set[str]) -> dict[str, Any]:
    for key in overrides:
        if key in known:
            continue
        if key in _CONNECTION_KEYS or key.startswith(_CONNECTION_PREFIXES):
            raise ConfigError(
                f"{kind} setting {key!r} is a connection setting: it belongs to the Kafka client configuration "
                "(ENLACE_BOOTSTRAP_SERVERS, ENLACE_KAFKA_*, ENLACE_KAFKA_CONFIG), shared by every client"
            )
        if key in _ELSEWHERE:
            raise ConfigError(f"{kind} setting {key!r} cannot be overridden: {_ELSEWHERE[key]}")
        close = difflib.get_close_matches(key, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"unknown {kind} setting {key!r}{hint}; see kafka-python's {kind} settings")
    return dict(overrides)


def check_producer_config(overrides: Mapping[str, Any], *, client: str = "kafka-python") -> dict[str, Any]:
    """Check producer overrides against kafka-python's producer settings.

    Args:
        overrides: kafka-python producer settings (``linger_ms``, ``compression_type``, ...).
        client: the client library they are for; ``confluent`` also refuses a setting librdkafka
            has no equivalent of.

    Returns:
        A copy of ``overrides``.

    Raises:
        ConfigError: a key is unknown (named, with the closest known one), or is a connection setting
            that belongs to :class:`KafkaClientConfig`.
    """
    checked = _check("producer", overrides, _PRODUCER_KEYS)
    if client == "confluent":
        producer_properties(checked)
    return checked


def check_consumer_config(overrides: Mapping[str, Any], *, client: str = "kafka-python") -> dict[str, Any]:
    """Check consumer overrides against kafka-python's consumer settings.

    Args:
        overrides: kafka-python consumer settings (``auto_offset_reset``, ``max_poll_records``, ...).
        client: as :func:`check_producer_config`.

    Returns:
        A copy of ``overrides``.

    Raises:
        ConfigError: as :func:`check_producer_config`.
    """
    checked = _check("consumer", overrides, _CONSUMER_KEYS)
    if client == "confluent":
        consumer_properties(checked)
    return checked
