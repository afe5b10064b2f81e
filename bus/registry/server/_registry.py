"""The registry: Confluent's API over the state and the log, each concern in its own module.

``_core`` (state, log, parsed schemas), ``_reads``, ``_config`` (levels and modes),
``_authorization`` (who may write what), ``_schema_checks`` (policy and compatibility), ``_registration``
(versions and ids) and ``_deletes``.
"""

from __future__ import annotations

from bus.registry.server._deletes import Deletes
from bus.registry.server._reads import Reads
from bus.registry.server._registration import Registration

__all__ = ["SchemaRegistry"]


class SchemaRegistry(Reads, Registration, Deletes):
    """A Confluent-compatible Avro schema registry enforcing an optional Interoperability Policy.

    Args:
        log: the storage log (``KafkaSchemaLog`` in production).
        policy: the policy to enforce, or None for a plain registry (no rules, no ownership).
        credentials: agency credentials, required for writes when a policy is set.
        limits: what a schema given to the registry may hold (``SchemaLimits()`` when omitted).
        cache_compatibility: remember schema pairs found compatible (by structural fingerprint),
            so that checks against the same stored versions skip them; False checks every pair.
    """
