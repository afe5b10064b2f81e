"""Transparency (urn:mx:gob:transparencia): information requests, legal deadlines, the access log.

``_deadlines`` counts the legal term in business days; ``_routing`` is each agency's answer book;
``_mapping`` builds the mx.gob.transparencia records. Run it with
``python -m adapters.transparencia --key-file K --data-dir D --port P``.
"""

from adapters._agencies import Agency
from adapters._runtime import AgencySpec
from adapters.transparencia._deadlines import add_business_days, business_days_between, legal_deadline
from adapters.transparencia._desk import RECORDS_READ, SCHEMA, TransparencyDesk

__all__ = [
    "AGENCY",
    "RECORDS_READ",
    "SPEC",
    "TransparencyDesk",
    "add_business_days",
    "business_days_between",
    "legal_deadline",
]

AGENCY = Agency(
    urn="urn:mx:gob:transparencia",
    name="transparencia",
    module=__name__,
    title="Transparency office",
    reads=tuple(model.avro_name for model in RECORDS_READ),
    publishes=(
        "mx.gob.transparencia.InformationRequestFiled",
        "mx.gob.transparencia.InformationRequestAnswered",
        "mx.gob.transparencia.DataAccessLogged",
    ),
)

SPEC = AgencySpec(
    urn=AGENCY.urn,
    name=AGENCY.name,
    schema=SCHEMA,
    make_desk=lambda store, args: TransparencyDesk(store),
    describe=lambda desk: {"deadlines": desk.deadlines()},  # type: ignore[attr-defined]
)
