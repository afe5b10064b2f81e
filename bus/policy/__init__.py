"""The Interoperability Policy (``schemas/policy.yaml``): one typed model, one parser, its rules.

The records catalog reads each namespace's owner from it; the schema registry enforces its rules at
registration and ``enlace schemas check`` enforces the same rules offline::

    from bus.policy import load_policy
    policy = load_policy("schemas/policy.yaml")
    policy.owner_of("mx.gob.crm")                         # "urn:mx:gob:crm"
    policy.check(schema_json, subject="mx.gob.crm.CaseOpened")   # [PolicyViolation(rule, pointer)]

``RULES`` lists every rule id with its sentence; ids are what ``relaxations:`` name.
"""

from bus.policy._levels import CompatibilityLevel
from bus.policy._policy import Policy, Purpose, Relaxation, load_policy, parse_policy
from bus.policy._rules import RULES

__all__ = ["RULES", "CompatibilityLevel", "Policy", "Purpose", "Relaxation", "load_policy", "parse_policy"]
