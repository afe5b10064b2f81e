"""The government CRM (urn:mx:gob:crm): a case per service request, fiscal checks, closure.

``_mapping`` maps its case rows to mx.gob.crm records; ``_desk`` is its business; run it with
``python -m adapters.crm --key-file K --data-dir D --port P``.
"""

from adapters._agencies import Agency
from adapters._runtime import AgencySpec
from adapters.crm._desk import RECORDS_READ, SCHEMA, CrmDesk

__all__ = ["AGENCY", "RECORDS_READ", "SPEC", "CrmDesk"]

AGENCY = Agency(
    urn="urn:mx:gob:crm",
    name="crm",
    module=__name__,
    title="Citizen services (CRM)",
    reads=tuple(model.avro_name for model in RECORDS_READ),
    publishes=("mx.gob.crm.CaseOpened", "mx.gob.crm.CaseUpdated", "mx.gob.crm.TaxpayerStatusRequested"),
    starts_after=("fiscal",),  # it asks fiscal services about taxpayers
    answers_information_requests=True,
)

SPEC = AgencySpec(
    urn=AGENCY.urn,
    name=AGENCY.name,
    schema=SCHEMA,
    make_desk=lambda store, args: CrmDesk(store),
    describe=lambda desk: {"cases": desk.counts()},  # type: ignore[attr-defined]
)
