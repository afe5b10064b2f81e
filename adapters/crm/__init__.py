"""The government CRM (urn:mx:gob:crm): a case per service request, fiscal checks, closure.

``_mapping`` maps its case rows to mx.gob.crm records; ``_desk`` is its business; run it with
``python -m adapters.crm --key-file K --data-dir D --port P``.
"""

from adapters._runtime import AgencySpec
from adapters.crm._desk import RECORDS_READ, SCHEMA, CrmDesk

__all__ = ["RECORDS_READ", "SPEC", "CrmDesk"]

SPEC = AgencySpec(
    urn="urn:mx:gob:crm",
    name="crm",
    schema=SCHEMA,
    make_desk=lambda store, args: CrmDesk(store),
    describe=lambda desk: {"cases": desk.counts()},  # type: ignore[attr-defined]
)
