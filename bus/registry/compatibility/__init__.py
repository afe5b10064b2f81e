"""Avro schemas parsed with their references, and whether one can read another's data.

Built on Apache Avro's ``avro.compatibility`` (the port of Java's ``SchemaCompatibility``), plus
what it misses: logical types, defaults that do not fit their type, unqualified aliases, and a JSON
pointer and field path for every break::

    from bus.registry.compatibility import CompatibilityLevel, check_compatibility, parse_schema
    new = parse_schema(text)                   # RegistryError 42201 when invalid, 42209 over a limit
    messages = check_compatibility(new, [(1, old)], CompatibilityLevel.FULL_TRANSITIVE)
    cache = CompatibilityCache()               # pairs found compatible, skipped by later checks
    messages = check_compatibility(new, [(1, old)], CompatibilityLevel.FULL_TRANSITIVE, cache=cache)

``SchemaLimits`` bounds what one schema may hold (``parse_schema(text, limits=...)``).
Importing this loads the Avro library; the registry client (``bus.registry``) does not need it.
"""

from bus.policy import CompatibilityLevel
from bus.registry._limits import SchemaLimits
from bus.registry.compatibility._compat import (
    CompatibilityCache,
    Incompatibility,
    check_compatibility,
    reader_writer_problems,
)
from bus.registry.compatibility._schema import ParsedSchema, default_problem, default_problems, parse_schema

__all__ = [
    "CompatibilityCache",
    "CompatibilityLevel",
    "Incompatibility",
    "ParsedSchema",
    "SchemaLimits",
    "check_compatibility",
    "default_problem",
    "default_problems",
    "parse_schema",
    "reader_writer_problems",
]
