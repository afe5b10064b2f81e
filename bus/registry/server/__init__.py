"""The schema registry service: Confluent's REST API over a compacted Kafka topic, enforcing the
Interoperability Policy with agency credentials. ``enlace registry serve`` assembles it::

    from bus.registry.server import KafkaSchemaLog, SchemaRegistry, create_app, AgencyCredentials
    registry = SchemaRegistry(KafkaSchemaLog(bootstrap, "_schemas"), policy=policy,
                              credentials=AgencyCredentials.load(path), limits=SchemaLimits())
    registry.start()
    app = create_app(registry)                                 # a FastAPI app

Importing this loads FastAPI and the Avro library; a client needs only ``bus.registry``.
``KafkaSchemaLog`` lives in ``bus/registry/_log.py`` (its Kafka client code belongs to the
transport work) and is only re-exported here.
"""

from bus.registry._limits import SchemaLimits
from bus.registry._log import KafkaSchemaLog
from bus.registry.server._config import MODES
from bus.registry.server._core import SchemaLog, parse_version
from bus.registry.server._credentials import AgencyCredentials, add_agency_token, hash_token
from bus.registry.server._registry import SchemaRegistry
from bus.registry.server._service import (
    CONTENT_TYPE,
    MAX_BODY_BYTES,
    REQUEST_MEDIA_TYPES,
    RegistryResponse,
    create_app,
)

__all__ = [
    "CONTENT_TYPE",
    "MAX_BODY_BYTES",
    "MODES",
    "REQUEST_MEDIA_TYPES",
    "AgencyCredentials",
    "KafkaSchemaLog",
    "RegistryResponse",
    "SchemaLimits",
    "SchemaLog",
    "SchemaRegistry",
    "add_agency_token",
    "create_app",
    "hash_token",
    "parse_version",
]
