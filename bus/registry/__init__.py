"""The schema registry: Confluent-compatible Avro registry enforcing the Interoperability Policy.

Public pieces: ``RegistryClient`` (HTTP client; a ``bus.codec.SchemaSource``), ``RegistryError``,
the compatibility engine (``check_compatibility``, ``reader_writer_problems``), the policy
(``load_policy``, ``Policy``, ``RULES``), the offline catalog checks (``check_catalog``), and the
service pieces (``SchemaRegistry``, ``KafkaSchemaLog``, ``create_app``) that ``enlace registry
serve`` assembles.
"""

from bus.registry._catalog import CatalogProblem, CatalogSchema, check_catalog, load_catalog, register_catalog
from bus.registry._client import RegistryClient
from bus.registry._compat import CompatibilityLevel, Incompatibility, check_compatibility, reader_writer_problems
from bus.registry._credentials import AgencyCredentials, add_agency_token, hash_token
from bus.registry._errors import ErrorCode, RegistryError
from bus.registry._log import KafkaSchemaLog
from bus.registry._policy import RULES, Policy, load_policy
from bus.registry._registry import SchemaRegistry
from bus.registry._schema import ParsedSchema, Reference, canonical_json, parse_schema
from bus.registry._service import CONTENT_TYPE, MAX_BODY_BYTES, create_app

__all__ = [
    "CONTENT_TYPE",
    "MAX_BODY_BYTES",
    "RULES",
    "AgencyCredentials",
    "CatalogProblem",
    "CatalogSchema",
    "CompatibilityLevel",
    "ErrorCode",
    "Incompatibility",
    "KafkaSchemaLog",
    "ParsedSchema",
    "Policy",
    "Reference",
    "RegistryClient",
    "RegistryError",
    "SchemaRegistry",
    "add_agency_token",
    "canonical_json",
    "check_catalog",
    "check_compatibility",
    "create_app",
    "hash_token",
    "load_catalog",
    "load_policy",
    "parse_schema",
    "reader_writer_problems",
    "register_catalog",
]
