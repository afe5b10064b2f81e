"""Transparency (urn:mx:gob:transparencia): information requests, legal deadlines, the access log.

``_deadlines`` counts the legal term in business days; ``_routing`` is each agency's answer book;
``_mapping`` builds the mx.gob.transparencia records. Run it with
``python -m adapters.transparencia --key-file K --data-dir D --port P``.
"""

from adapters._runtime import AgencySpec
from adapters.transparencia._deadlines import add_business_days, business_days_between, legal_deadline
from adapters.transparencia._desk import RECORDS_READ, SCHEMA, TransparencyDesk

__all__ = [
    "RECORDS_READ",
    "SPEC",
    "TransparencyDesk",
    "add_business_days",
    "business_days_between",
    "legal_deadline",
]

SPEC = AgencySpec(
    urn="urn:mx:gob:transparencia",
    name="transparencia",
    schema=SCHEMA,
    make_desk=lambda store, args: TransparencyDesk(store),
    describe=lambda desk: {"deadlines": desk.deadlines()},  # type: ignore[attr-defined]
)
