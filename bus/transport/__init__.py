"""Kafka transport: every Kafka client Enlace uses, made from one client configuration.

Code above this package sees Enlace's own types — :class:`Record`, :class:`Partition`,
:class:`SendFuture` and :class:`Acknowledged`, :class:`RebalanceListener`, :class:`Broker` — never
kafka-python's, and Kafka's errors as :class:`bus.TransportError`. Every client (producer,
transactional producer, consumer, admin) is made from a :class:`KafkaClientConfig`, built from
``ENLACE_BOOTSTRAP_SERVERS``, ``ENLACE_KAFKA_*`` and a Kafka client properties file
(``ENLACE_KAFKA_CONFIG``), so securing every client is a change here only. Producers and consumers
are made with kafka-python, or with confluent-kafka (librdkafka) when ``ENLACE_KAFKA_CLIENT=confluent``
(the configuration's ``client``): the same classes, settings, guarantees and errors either way.
"""

from bus.transport._acls import AclAdmin, AclBinding, AuthorizerMissing
from bus.transport._clients import (
    CONSUMER_DEFAULTS,
    PRODUCER_DEFAULTS,
    Consumer,
    Producer,
    SendFuture,
    SendReceiver,
    Topics,
    TransactionalProducer,
    answers_sends,
)
from bus.transport._config import (
    KAFKA_CLIENTS,
    SASL_MECHANISMS,
    SECURITY_PROTOCOLS,
    KafkaClientConfig,
    check_consumer_config,
    check_producer_config,
)
from bus.transport._librdkafka import connection_properties, consumer_properties, producer_properties
from bus.transport._principals import agency_group, principal_for
from bus.transport._properties import SUPPORTED_PROPERTIES, read_client_properties
from bus.transport._types import (
    Acknowledged,
    Broker,
    Headers,
    Partition,
    RebalanceListener,
    Record,
    TopicIdentity,
    UnreadableRecord,
)

__all__ = [
    "CONSUMER_DEFAULTS",
    "KAFKA_CLIENTS",
    "PRODUCER_DEFAULTS",
    "SASL_MECHANISMS",
    "SECURITY_PROTOCOLS",
    "SUPPORTED_PROPERTIES",
    "Acknowledged",
    "AclAdmin",
    "AclBinding",
    "AuthorizerMissing",
    "Broker",
    "Consumer",
    "Headers",
    "KafkaClientConfig",
    "Partition",
    "Producer",
    "RebalanceListener",
    "Record",
    "SendFuture",
    "SendReceiver",
    "TopicIdentity",
    "Topics",
    "TransactionalProducer",
    "UnreadableRecord",
    "agency_group",
    "answers_sends",
    "check_consumer_config",
    "check_producer_config",
    "connection_properties",
    "consumer_properties",
    "principal_for",
    "producer_properties",
    "read_client_properties",
]
