"""The schema registry's client side: what an agency, the codec or a CI job needs to talk to a
Confluent-compatible registry (Enlace's or any other)::

    from bus.registry import RegistryClient, RegistryError, ErrorCode
    with RegistryClient(url, credential=token) as registry:   # a bus.codec SchemaSource
        schema_id = registry.id_for("mx.gob.crm.CaseOpened", schema)
        registry.schema_by_id(schema_id)                        # references inlined

Importing this loads neither the server (FastAPI, uvicorn) nor the Avro library. The rest are doors
of their own: ``bus.registry.server`` (``SchemaRegistry``, ``create_app``, ``KafkaSchemaLog``,
credentials), ``bus.registry.compatibility`` (parsing and the compatibility engine),
``bus.registry.checks`` (the offline catalog checks of ``enlace schemas check``), and the policy
is ``bus.policy``.
"""

from bus.registry._canonical import Reference, canonical_json
from bus.registry._client import RegistryClient
from bus.registry._errors import ErrorCode, RegistryError

__all__ = ["ErrorCode", "Reference", "RegistryClient", "RegistryError", "canonical_json"]
