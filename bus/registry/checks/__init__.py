"""The registry's offline checks, for integrators' CI (``enlace schemas check|register``)::

    from bus.registry.checks import check_catalog
    for problem in check_catalog("schemas", load_policy("schemas/policy.yaml")):
        print(problem)        # file:pointer: [rule] message

Every ``.avsc`` under a folder is read by the catalog's one reader (``bus.records.read_schema_files``),
parsed with its references resolved inside the folder, checked against the policy, and each version
against the earlier versions of the same record at the policy's compatibility level; with a
registry, each file against what the registry holds instead. ``register_catalog`` registers the
folder in dependency order, references first.
"""

from bus.records import CatalogProblem
from bus.registry.checks._checks import check_catalog, register_catalog

__all__ = ["CatalogProblem", "check_catalog", "register_catalog"]
