"""Kafka client settings in librdkafka's names: what ``ENLACE_KAFKA_CLIENT=confluent`` clients are made with.

Pure translation (no confluent-kafka import), so configurations are checked, and benchmarks build
raw librdkafka clients, with the same choices as the seam's clients. Enlace's settings keep
kafka-python's names (``PRODUCER_DEFAULTS``, ``producer_config=``); each has its librdkafka property
here (https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md), or is refused by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from bus._errors import ConfigError

if TYPE_CHECKING:
    from bus.transport._config import KafkaClientConfig

__all__ = ["MAX_REQUEST_SIZE", "connection_properties", "consumer_properties", "producer_properties"]

# kafka-python's default maximum record size; librdkafka's own default (1,000,000) is smaller.
MAX_REQUEST_SIZE = 1_048_576


def _ms(value: Any) -> int:
    return int(value)


def _kib(value: Any) -> int:
    return max(1, int(value) // 1024)


def _acks(value: Any) -> str:
    return "all" if value in ("all", -1, "-1") else str(int(value))


def _compression(value: Any) -> str:
    return "none" if value is None else str(value)


def _flag(value: Any) -> bool:
    return bool(value)


# kafka-python setting → (librdkafka property, how the value is written). What is missing has no
# librdkafka equivalent and is refused by name.
_COMMON: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "client_id": ("client.id", str),
    "connections_max_idle_ms": ("connections.max.idle.ms", _ms),
    "metadata_max_age_ms": ("topic.metadata.refresh.interval.ms", _ms),
    "receive_buffer_bytes": ("socket.receive.buffer.bytes", int),
    "send_buffer_bytes": ("socket.send.buffer.bytes", int),
    "reconnect_backoff_ms": ("reconnect.backoff.ms", _ms),
    "reconnect_backoff_max_ms": ("reconnect.backoff.max.ms", _ms),
    "retry_backoff_ms": ("retry.backoff.ms", _ms),
    "receive_message_max_bytes": ("receive.message.max.bytes", int),
    "allow_auto_create_topics": ("allow.auto.create.topics", _flag),
}
_PRODUCER: dict[str, tuple[str, Callable[[Any], Any]]] = {
    **_COMMON,
    "acks": ("acks", _acks),
    "enable_idempotence": ("enable.idempotence", _flag),
    "max_in_flight_requests_per_connection": ("max.in.flight.requests.per.connection", int),
    "linger_ms": ("linger.ms", float),
    "delivery_timeout_ms": ("delivery.timeout.ms", _ms),
    "request_timeout_ms": ("request.timeout.ms", _ms),
    "batch_size": ("batch.size", int),
    "compression_type": ("compression.type", _compression),
    "max_request_size": ("message.max.bytes", int),
    "retries": ("retries", int),
    "buffer_memory": ("queue.buffering.max.kbytes", _kib),
    "transaction_timeout_ms": ("transaction.timeout.ms", _ms),
}
_CONSUMER: dict[str, tuple[str, Callable[[Any], Any]]] = {
    **_COMMON,
    "enable_auto_commit": ("enable.auto.commit", _flag),
    "auto_commit_interval_ms": ("auto.commit.interval.ms", _ms),
    "auto_offset_reset": ("auto.offset.reset", str),
    "isolation_level": ("isolation.level", str),
    "fetch_min_bytes": ("fetch.min.bytes", int),
    "fetch_max_wait_ms": ("fetch.wait.max.ms", _ms),
    "fetch_max_bytes": ("fetch.max.bytes", int),
    "max_partition_fetch_bytes": ("max.partition.fetch.bytes", int),
    "session_timeout_ms": ("session.timeout.ms", _ms),
    "heartbeat_interval_ms": ("heartbeat.interval.ms", _ms),
    "max_poll_interval_ms": ("max.poll.interval.ms", _ms),
    "request_timeout_ms": ("socket.timeout.ms", _ms),
    "check_crcs": ("check.crcs", _flag),
    "group_instance_id": ("group.instance.id", str),
    "client_rack": ("client.rack", str),
}
# Settings the Python side of these clients implements itself (no librdkafka property).
_PRODUCER_HERE = {"max_block_ms"}
_CONSUMER_HERE = {"max_poll_records"}


def _translate(kind: str, settings: Mapping[str, Any], table: Mapping[str, Any], here: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if key in here:
            continue
        if key not in table:
            raise ConfigError(
                f"{kind} setting {key!r} has no librdkafka equivalent: it cannot be used with "
                "ENLACE_KAFKA_CLIENT=confluent (unset it, or use kafka-python)"
            )
        name, write = table[key]
        out[name] = write(value)
    return out


def producer_properties(settings: Mapping[str, Any]) -> dict[str, Any]:
    """librdkafka's producer properties for kafka-python producer settings.

    Args:
        settings: kafka-python producer settings (``PRODUCER_DEFAULTS`` and overrides).

    Raises:
        ConfigError: a setting has no librdkafka equivalent (named).
    """
    out = {"message.max.bytes": MAX_REQUEST_SIZE, **_translate("producer", settings, _PRODUCER, _PRODUCER_HERE)}
    return out


def consumer_properties(settings: Mapping[str, Any]) -> dict[str, Any]:
    """librdkafka's consumer properties for kafka-python consumer settings.

    Args:
        settings: kafka-python consumer settings (``CONSUMER_DEFAULTS`` and overrides).

    Raises:
        ConfigError: a setting has no librdkafka equivalent (named).
    """
    return _translate("consumer", settings, _CONSUMER, _CONSUMER_HERE)


def connection_properties(client: KafkaClientConfig) -> dict[str, Any]:
    """Where the cluster is and how to sign in, in librdkafka's names (secrets included: never log them).

    The same choices as kafka-python's settings of the configuration: TLS verified against
    ``ssl_cafile``, the broker's host name checked unless ``ssl_check_hostname`` is off.
    """
    out: dict[str, Any] = {
        "bootstrap.servers": client.bootstrap_servers,
        "security.protocol": client.security_protocol,
    }
    if client.security_protocol.startswith("SASL_"):
        out |= {
            "sasl.mechanism": client.sasl_mechanism,
            "sasl.username": client.sasl_username,
            "sasl.password": client.sasl_password,
        }
    if client.security_protocol.endswith("SSL"):
        out["ssl.endpoint.identification.algorithm"] = "https" if client.ssl_check_hostname else "none"
        optional = {
            "ssl.ca.location": client.ssl_cafile,
            "ssl.certificate.location": client.ssl_certfile,
            "ssl.key.location": client.ssl_keyfile,
            "ssl.key.password": client.ssl_password,
        }
        out |= {k: v for k, v in optional.items() if v is not None}
    return out
