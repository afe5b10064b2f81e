"""Who an agency is on Kafka: its principal (the SASL username ACLs name) and its consumer groups."""

from __future__ import annotations

from bus._errors import ConfigError

__all__ = ["agency_group", "principal_for"]


def principal_for(agency: str) -> str:
    """An agency's Kafka principal name: its URN without ``urn:``, colons as dots (``mx.gob.crm``).

    Not the URN itself because a principal is also a Kubernetes resource's name where Strimzi runs
    the cluster (a ``KafkaUser``'s name is its SCRAM username), and those allow no colons.
    """
    if not agency.startswith("urn:"):
        raise ConfigError(f"{agency!r} is not an agency URN (urn:mx:gob:...)")
    name = agency[len("urn:") :].replace(":", ".").lower()
    if not name or not all(part and part.replace("-", "").isalnum() and part.isascii() for part in name.split(".")):
        raise ConfigError(f"{agency!r} does not map to a Kafka principal (letters, digits, '-' between colons)")
    return name


def agency_group(agency: str, name: str) -> str:
    """The consumer group ``name`` of ``agency``: ``mx.gob.crm.desk`` (ACLs grant each agency its prefix).

    ``name`` empty gives the prefix itself (``mx.gob.crm.``).
    """
    return f"{principal_for(agency)}.{name}"
