"""The vocabulary of Avro schema JSON (``.avsc``): type names, full names, and the named types a
schema defines or uses.

This is the one walker over a schema's names: the records catalog finds the shared types a record
references with it, the registry client turns those into schema references, and the registry's
offline checks order the catalog by it. It reads JSON only (no Avro library), so the registry
client can use it without loading the server's dependencies.

See https://avro.apache.org/docs/1.12.0/specification/#names for how names and namespaces nest.
"""

from bus.avsc._names import NAMED_KINDS, PRIMITIVES, NamedType, full_name, named_types, referenced_names

__all__ = ["NAMED_KINDS", "PRIMITIVES", "NamedType", "full_name", "named_types", "referenced_names"]
